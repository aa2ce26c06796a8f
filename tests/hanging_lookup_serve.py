"""A test server whose external-IP lookup hangs, as it does where outbound traffic is dropped (issue 22).

`python tests/hanging_lookup_serve.py MARKER [--unguarded] [app.py and streamlit run options]`:
Streamlit's blocking HTTP GET (streamlit.net_util._make_blocking_http_get, 1.67) is replaced by
one that appends a line to MARKER and then sleeps HANG_S (or RNNLAB_HANG_S: the bench uses 1 s,
Streamlit's own timeout when the packets are dropped). Started through ui.serving.serve (the page's
launcher) no handshake may ever call it; with --unguarded (plain `streamlit run`, the bench's
"before") a foreign Origin does, on the server's event loop.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HANG_S = float(os.environ.get("RNNLAB_HANG_S", "30"))


def main() -> int:
    marker, args = Path(sys.argv[1]), sys.argv[2:]
    from streamlit import net_util

    def hanging_get(url, timeout=None):
        with marker.open("a") as f:
            f.write(f"{url}\n")
        time.sleep(HANG_S)
        return None

    net_util._make_blocking_http_get = hanging_get
    if args and args[0] == "--unguarded":
        from streamlit.web import cli

        from ui.serving.serve import streamlit_argv

        sys.argv = streamlit_argv(args[1:])
        return cli.main()
    from ui.serving.serve import main as serve

    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
