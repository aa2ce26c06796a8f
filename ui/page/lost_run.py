"""A training run lost with its server is named on the page the visitor lands on, instead of vanishing without a word.

While a run goes, the page's URL carries `run_step=N` (the step on screen). A replica that
dies takes the run with it; the reload reaches another replica, whose new session has no run
but finds run_step in the URL: it says "your training run on another server was lost at step
N; press Run", and drops the parameter. A run that ends (finished, stopped, failed) takes
run_step out of the URL, so a later reload says nothing. Only the main run is tracked (a
compared run trains beside it and ends with it).
"""

from __future__ import annotations

import streamlit as st

PARAM = "run_step"
LOST_KEY = "lost_run_step"  # session state: the step a lost run had reached, shown until Run is pressed


def mark(step: int | None) -> None:
    """Keep the URL's run_step at `step` (a run is going); None takes it out (no run going)."""
    current = st.query_params.get(PARAM)
    if step is None:
        if current is not None:
            del st.query_params[PARAM]
    elif current != str(step):
        st.query_params[PARAM] = str(step)


def lost_message(step: int) -> str:
    return f"Your training run on another server was lost at step {step}; press Run to train again."


def update(run) -> None:
    """Once per page run: keep run_step in step with this session's run, or, with no run, name a lost one.

    `run` is this session's main TrainingRun, or None. A new session whose URL says a run was at
    step N, and which has no run of its own, lost it: the note stays until Run is pressed.
    """
    if run is not None:
        st.session_state.pop(LOST_KEY, None)
        mark(run.done if run.status == "running" else None)
        return
    raw = st.query_params.get(PARAM)
    if raw is not None:
        mark(None)
        if raw.isdigit():
            st.session_state[LOST_KEY] = int(raw)
    if LOST_KEY in st.session_state:
        st.warning(lost_message(st.session_state[LOST_KEY]), icon=":material/cloud_off:")
