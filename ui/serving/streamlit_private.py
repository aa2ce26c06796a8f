"""Everything this page borrows from Streamlit's internals, written against streamlit 1.67 (pinned >=1.67,<1.68).

Streamlit's public API has no way to ask which browser session a script run belongs to, whether
that session still exists, how to catch its own Stop, how to drop a refused link value before a
bound widget seeds itself from it, or how to quiet one warning. Each borrowing sits here behind a
small named function whose docstring says what it uses and what breaks if Streamlit changes it.
No other module of app.py or ui/ touches a private Streamlit name; tests/test_streamlit_private.py
scans them, and checks each borrowing against the installed Streamlit so that a change fails
loudly there instead of degrading the page in silence.

Upgrading Streamlit is this file and one test run: `pytest tests/test_streamlit_private.py`.

Borrowed outside this file (checked by the same test):
- `.streamlit/config.toml` sets the hidden option `runner.postScriptGC` (HIDDEN_OPTIONS).
- tests/ws_client.py and tests/test_proxy.py speak Streamlit's websocket protocol with
  `streamlit.proto` (BackMsg, ForwardMsg); tests read AppTest's `bidi_component` elements' protos.
- ui/page/charts.py's hidden Markdown iframe (its plotly.js preload) relies on 1.67's Markdown keeping
  a same-origin `<iframe srcdoc>`; only a browser can tell (tests/test_browser.py checks the marks),
  and the charts load plotly.js themselves if it is ever refused.
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
from streamlit.runtime.state.session_state_proxy import get_session_state

__all__ = [
    "HIDDEN_OPTIONS",
    "POLICY_LOGGER",
    "StopException",
    "forget_query_params",
    "install_http_guard",
    "install_origin_check",
    "keyed_component",
    "quiet_policy_warnings",
    "script_session_id",
    "session_is_alive",
    "session_is_connected",
    "strict_origin_allowed",
]

# StopException (streamlit.runtime.scriptrunner_utils.exceptions, 1.67): what the script runner raises
# into a running script when Streamlit's own Stop (header menu) is pressed. ui/page/live.py catches it to
# stop the training worker too; if the runner raised another class, the worker would train on unseen.

# Hidden config options that .streamlit/config.toml sets (hidden: absent from `streamlit config show`).
HIDDEN_OPTIONS = {
    # 1.67's ScriptRunner runs gc.collect(2) after every script run unless this is false; with torch and
    # plotly loaded that holds the GIL for tens of ms, and the live panel reruns ~10 times a second.
    # If renamed, Streamlit only logs an unknown option and training crawls again (5-15 steps/s).
    "runner.postScriptGC": False,
}

POLICY_LOGGER = "streamlit.elements.lib.policies"  # the module logger of streamlit/elements/lib/policies.py (1.67)


def script_session_id() -> str | None:
    """The browser session of the script run on this thread; None outside a script run.

    Borrows get_script_run_ctx().session_id (streamlit.runtime.scriptrunner_utils, 1.67). If it
    moved, ui/page/live.py would fail to import (loud); if the id stopped matching the Runtime's, a
    closed tab's training would run on until its time budget (session_is_alive would say gone at once).
    """
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def session_is_alive(session_id: str) -> bool:
    """False once the browser session with this id is gone for good; True when no Streamlit server runs here (tests, CLI).

    A session whose websocket dropped is kept for server.disconnectedSessionTTL (120 s) so that the
    browser can reconnect to it: it is still alive then, and a 2 s blip must not stop its training
    (issue 22). Borrows Runtime.exists(), Runtime.instance(), Runtime.is_active_session (documented
    thread-safe) and, for a disconnected session, the private Runtime._session_mgr.get_session_info,
    which also looks in the reconnect storage (1.67). If that is gone this raises AttributeError in
    the worker, and tests/test_streamlit_private.py fails first.
    """
    if not Runtime.exists():
        return True
    runtime = Runtime.instance()
    if runtime.is_active_session(session_id):
        return True
    try:
        return runtime._session_mgr.get_session_info(session_id) is not None
    except (KeyError, RuntimeError):  # the reconnect storage changed under this thread: ask again next time
        return True


def session_is_connected(session_id: str | None, settle_s: float = 0.1) -> bool:
    """True while the browser session's websocket is open; False soon after it dropped (or with no session).

    A dropped websocket stops the session's script run the way Streamlit's own Stop does (the same
    StopException), a moment before the session leaves the active ones (1.67's
    WebsocketSessionManager.disconnect_session, on the event loop). So a connected answer is
    confirmed after settle_s: the caller learns whether a person pressed Stop or the line dropped.
    """
    if session_id is None or not Runtime.exists():
        return session_id is not None
    runtime = Runtime.instance()
    if not runtime.is_active_session(session_id):
        return False
    time.sleep(settle_s)
    return runtime.is_active_session(session_id)


def forget_query_params(keys: Iterable[str]) -> None:
    """Drop these URL parameters unless a widget is bound to them, and drop them from the seeding snapshot.

    Borrows the session's QueryParams through get_session_state().query_params() (1.67): is_bound(key),
    `del qp[key]` (which also tells the browser to rewrite its URL), and the private dict
    `_initial_query_params` from which bound widgets take their first value. Without the snapshot a
    refused link value reaches the widget binding, which crashes on some (`?steps=1` and 400 zeros:
    OverflowError in int(inf)); if that dict disappears this degrades to Streamlit's own handling.
    """
    with get_session_state().query_params() as qp:
        for key in keys:
            if not qp.is_bound(key):  # a bound one is rewritten by its widget
                try:
                    del qp[key]
                except KeyError:
                    pass
            initial = getattr(qp, "_initial_query_params", None)
            if isinstance(initial, dict):
                initial.pop(key, None)


def quiet_policy_warnings() -> None:
    """Silence Streamlit's widget-policy warnings in the server log (errors still show).

    Setting a bound widget's value from a callback (settling, Reset, a link) is deliberate here, so
    "created with a default value but also had its value set via the Session State API" is noise.
    Borrows the logger name of streamlit/elements/lib/policies.py (1.67); if the warning moved to
    another logger it would come back in the log, nothing else.
    """
    logging.getLogger(POLICY_LOGGER).setLevel(logging.ERROR)


def keyed_component(name: str, js: str):
    """A Streamlit v2 component (no iframe, no shadow root) whose element identity is its key alone.

    Public API, with a 1.67 behaviour the charts depend on: a mounted v2 component with a key keeps
    the same element id whatever its data (key_as_main_identity in its bidi_component element), so
    a new figure reaches the same chart, which Plotly.react restyles in place. Were the data part of
    the identity, every streamed figure would unmount the chart and mount a new one: no error, only
    a page whose timers starve while training streams. The data dict travels as JSON (proto `json`),
    which ui/page/plotly_chart.js reads as `component.data`. Plotly styles the page's document, hence
    isolate_styles=False.
    """
    return st.components.v2.component(name, js=js, isolate_styles=False)


# --- The server: origin check and HTTP guard (issue 22) -----------------------------------------------------------


def strict_origin_allowed(origin: str | None, host: str | None) -> bool:
    """Whether a websocket handshake may open: never a network lookup, so a foreign Origin cannot stall the server.

    Replaces streamlit.web.server.starlette.starlette_websocket._is_origin_allowed (1.67), whose
    cross-origin branch (server_util.is_url_from_allowed_origins) looks up the machine's external
    IP with a blocking HTTP GET on the event loop (1 s timeout, http then https, not remembered
    on failure): 3 clients with a foreign Origin stalled /_stcore/health for seconds. Here: the
    Host must pass server.allowedHosts (Streamlit's own is_host_allowed), no Origin is allowed
    (non-browser clients), the same origin is allowed, and any other origin only when it is in
    server.corsAllowedOrigins exactly (scheme, host and port: `http://localhost:1` is refused too),
    or when the operator turned CORS protection off (server.enableCORS=false).
    """
    from streamlit import config
    from streamlit.web.server.starlette.starlette_websocket import is_host_allowed

    if not is_host_allowed(host):
        return False
    if origin is None:
        return True
    parsed = _origin_key(origin)
    if parsed is None:
        return False
    if host is not None and urlsplit(origin).netloc == host:
        return True
    if not config.get_option("server.enableCORS"):
        return True
    allowed = {_origin_key(o.strip()) for o in config.get_option("server.corsAllowedOrigins") or ()}
    return parsed in allowed - {None}


def _origin_key(origin: str) -> tuple | None:
    """(scheme, host, port) of an origin, the port made explicit; None when it is not an http(s) origin."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower().rstrip("."), port or (443 if parts.scheme == "https" else 80)


def install_origin_check() -> None:
    """Put strict_origin_allowed in place of 1.67's starlette_websocket._is_origin_allowed (idempotent).

    The websocket endpoint looks the name up in its module at every handshake, so replacing the
    module attribute takes effect for the next handshake, even on a running server. If Streamlit
    renamed it, this raises (tests/test_origin_guard.py fails) rather than leaving the stall in place.
    """
    from streamlit.web.server.starlette import starlette_websocket

    if not callable(getattr(starlette_websocket, "_is_origin_allowed", None)):
        raise RuntimeError("streamlit's starlette_websocket._is_origin_allowed is gone: update ui/serving/streamlit_private.py")
    starlette_websocket._is_origin_allowed = strict_origin_allowed


def install_http_guard() -> None:
    """Add ui.serving.http_guard.GuardHeaders to the middleware Streamlit builds its server app with (idempotent).

    Wraps 1.67's starlette_app.create_streamlit_middleware, which create_starlette_app calls by its
    module name when the server starts: it must run before that (the launcher, `python -m ui.serving.serve`).
    """
    from starlette.middleware import Middleware
    from streamlit.web.server.starlette import starlette_app

    from .http_guard import GuardHeaders

    original = starlette_app.create_streamlit_middleware
    if getattr(original, "rnnlab_guarded", False):
        return

    def create_streamlit_middleware():
        return [Middleware(GuardHeaders), *original()]

    create_streamlit_middleware.rnnlab_guarded = True
    starlette_app.create_streamlit_middleware = create_streamlit_middleware


EMOJIS = "streamlit.emojis"  # Streamlit 1.67's emoji catalogue module (streamlit/emojis.py)


@functools.cache
def warm_emoji_catalogue() -> threading.Thread:
    """Import Streamlit's emoji catalogue once per process, in a thread, before a visitor's script needs it.

    Streamlit 1.67 imports streamlit.emojis the first time an element's text is not ASCII (an alert
    starting with "✓", a metric "‖g‖ ..."), and that import compiles one regex over every emoji: ~1 s
    of CPU on a quiet 2-core machine, 4 s on a busy one, inside the script of whoever asks first. A
    lecture hall's first visitors of a lesson link waited for it; here the first page of the process
    starts it beside the page, and the page never waits on it. If the module moved, the thread's
    import fails alone (logged by threading) and the page pays the import where it always did.
    """
    thread = threading.Thread(target=importlib.import_module, args=(EMOJIS,), name="warm-emojis", daemon=True)
    thread.start()
    return thread
