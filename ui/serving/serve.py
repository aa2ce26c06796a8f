"""`python -m ui.serving.serve [app.py] [streamlit run options]`: `streamlit run`, hardened before the first request.

`streamlit run app.py` opens the websocket (its Origin check included) before the first script
run imports app.py, so a guard installed by the app comes too late for the first handshakes and
cannot add server middleware at all. This launcher installs, in the server's own process:

- the strict websocket Origin check (no network lookup on the event loop: issue 22),
- the security headers and the refusal of /_stcore/metrics and dot-files (ui/serving/http_guard.py),
- two malloc arenas (ui/serving/malloc.py) and one BLAS/OpenMP thread, unless the environment says otherwise,

then hands the arguments to Streamlit's own command line. `make run`, the Dockerfile, the tests'
servers and bench/bench_load.py start the page this way. app.py installs the Origin check too, as
a safety net for a plain `streamlit run app.py`.
"""

from __future__ import annotations

import sys


def streamlit_argv(args: list[str]) -> list[str]:
    """The `streamlit run ...` command line for these arguments: app.py unless a script comes first."""
    if not args or args[0].startswith("-"):
        args = ["app.py", *args]
    return ["streamlit", "run", *args]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    from . import malloc

    malloc.limit_arenas(2)
    from engine.threads import one_thread_unless_chosen

    one_thread_unless_chosen()  # before Streamlit loads numpy (importing the engine has applied it already: then a no-op)
    from streamlit.web import cli

    from .streamlit_private import install_http_guard, install_origin_check

    install_origin_check()
    install_http_guard()
    sys.argv = streamlit_argv(args)
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
