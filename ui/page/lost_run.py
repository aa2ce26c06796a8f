"""A reload finds its training run again on the same server, and a run lost with its server is named, never left unsaid.

While a run goes, the page's URL carries `run_step=N` (the step on screen) and `run_id`, a
random token the server keeps beside the run. A reload opens a new session:
- on the same server, the token finds the run, which went on meanwhile (Streamlit keeps the old
  session 120 s for a reconnect, so its run was never stopped): the new session takes it over,
  charts and all, and the run's life now follows the new session;
- if the session that owns it is still connected (the link was copied into another tab while
  the run went), the run stays there, and this page says so;
- on another server (a replica died, or this one restarted), nothing knows the token: the page
  says "your training run was lost at step N with the server that ran it; press Run".
A run that ends (finished, stopped, failed) takes both parameters out of the URL, so a later
reload says nothing.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

import streamlit as st

from ui.serving.streamlit_private import script_session_id, session_is_alive, session_is_connected

PARAM = "run_step"
TOKEN = "run_id"
LOST_KEY = "lost_run_step"  # session state: the step a lost run had reached, shown until Run is pressed
TOKEN_KEY = "run_token"  # session state: the token of this session's runs
NOTE_KEY = "run_note"  # session state: (kind, step) of a run found again or running elsewhere, shown while it matters
MAX_KEPT = 256  # runs kept for a reload beyond this: the oldest that no longer run go first


@dataclass
class _Kept:
    """The runs one press of Run started, under the session-state keys they live in, and the session that owns them."""

    runs: dict
    owner: str | None


_KEPT: dict[str, _Kept] = {}
_LOCK = threading.Lock()


def _running(kept: _Kept) -> bool:
    return any(r.status == "running" for r in kept.runs.values())


def register(runs: dict) -> str:
    """Keep this session's new runs ({session-state key: TrainingRun}) for a reload on this server; -> their token."""
    token = secrets.token_urlsafe(12)
    with _LOCK:
        for old in [t for t, k in _KEPT.items() if not _running(k) and (k.owner is None or not session_is_alive(k.owner))]:
            del _KEPT[old]  # ended, and nobody can reload into them any more
        for old in [t for t, k in _KEPT.items() if not _running(k)][: max(0, len(_KEPT) - MAX_KEPT + 1)]:
            del _KEPT[old]
        _KEPT[token] = _Kept(dict(runs), script_session_id())
    st.session_state[TOKEN_KEY] = token
    st.session_state.pop(LOST_KEY, None)
    st.session_state.pop(NOTE_KEY, None)
    return token


def _take_over(token: str):
    """The kept runs of token, now this session's; "elsewhere" when their session is still connected; None if unknown."""
    with _LOCK:
        kept = _KEPT.get(token)
    if kept is None:
        return None
    if kept.owner is not None and kept.owner != script_session_id() and session_is_connected(kept.owner):
        return "elsewhere"
    me = script_session_id()
    with _LOCK:
        kept.owner = me
    for run in kept.runs.values():
        if getattr(run, "stopper", None) is not None:
            run.stopper.session_id = me  # a closed tab now ends the run when this session goes
    return kept.runs


def mark(step: int | None) -> None:
    """Keep the URL's run_step at `step` and run_id at this session's token (a run is going); None takes both out."""
    wanted = {} if step is None else {PARAM: str(step), TOKEN: st.session_state.get(TOKEN_KEY)}
    for name in (PARAM, TOKEN):
        value = wanted.get(name)
        current = st.query_params.get(name)
        if value is None:
            if current is not None:
                del st.query_params[name]
        elif current != value:
            st.query_params[name] = value


def lost_message(step: int) -> str:
    return f"Your training run was lost at step {step} with the server that ran it; press Run to train again."


def found_message(step: int) -> str:
    return f"Your training run went on while the page reloaded (it was at step {step}); the Training tab shows it."


def elsewhere_message(step: int) -> str:
    return f"This link names a training run (at step {step}) that is running in another tab; press Run to train here."


def update(run) -> None:
    """Once per page run: keep the URL in step with this session's run, or, with no run, find it again or name it lost.

    `run` is this session's main TrainingRun, or None. A new session whose URL names a run takes
    it over when this server still has it, else says it was lost: the note stays until Run is pressed.
    """
    state = st.session_state
    if run is None:
        raw, token = st.query_params.get(PARAM), st.query_params.get(TOKEN)
        step = int(raw) if raw is not None and raw.isdigit() else None
        found = _take_over(token) if token else None
        if raw is not None or token is not None:
            mark(None)
        if isinstance(found, dict):
            state.update(found)
            state[TOKEN_KEY] = token
            state[NOTE_KEY] = ("found", step)
            run = next(iter(found.values()))
        elif found == "elsewhere":
            state[NOTE_KEY] = ("elsewhere", step)
        elif step is not None:
            state[LOST_KEY] = step
    if run is not None:
        state.pop(LOST_KEY, None)
        mark(run.done if run.status == "running" else None)
        kind, step = state.get(NOTE_KEY, (None, None))
        if kind == "found" and run.status == "running":
            st.info(found_message(step), icon=":material/sync:")
        return
    kind, step = state.get(NOTE_KEY, (None, None))
    if kind == "elsewhere":
        st.info(elsewhere_message(step), icon=":material/tab:")
    if LOST_KEY in state:
        st.warning(lost_message(state[LOST_KEY]), icon=":material/cloud_off:")
