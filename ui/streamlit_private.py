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
- ui/charts.py's hidden Markdown iframe (its plotly.js preload) relies on 1.67's Markdown keeping
  a same-origin `<iframe srcdoc>`; only a browser can tell (tests/test_browser.py checks the marks),
  and the charts load plotly.js themselves if it is ever refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

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
    "keyed_component",
    "quiet_policy_warnings",
    "script_session_id",
    "session_is_alive",
]

# StopException (streamlit.runtime.scriptrunner_utils.exceptions, 1.67): what the script runner raises
# into a running script when Streamlit's own Stop (header menu) is pressed. ui/live.py catches it to
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
    moved, ui/live.py would fail to import (loud); if the id stopped matching the Runtime's, a
    closed tab's training would run on until its time budget (session_is_alive would say gone at once).
    """
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def session_is_alive(session_id: str) -> bool:
    """False once the browser session with this id is gone; True when no Streamlit server runs here (tests, CLI).

    Borrows Runtime.exists(), Runtime.instance() and Runtime.is_active_session(session_id) (1.67),
    called from the training worker's thread (Streamlit documents it thread-safe). If it changed,
    a run whose tab was closed would keep a job slot until its time budget ended.
    """
    return not Runtime.exists() or Runtime.instance().is_active_session(session_id)


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
    which ui/plotly_chart.js reads as `component.data`. Plotly styles the page's document, hence
    isolate_styles=False.
    """
    return st.components.v2.component(name, js=js, isolate_styles=False)
