"""RNN Gradient Flow Lab: watch gradients flow backwards through time in RNN, LSTM and GRU networks.

Run with `python -m ui.serving.serve` (`streamlit run app.py` with the server guards of ui/serving/serve.py).
The sidebar builds one engine Config (also kept in the URL, so a link reproduces the view); the
tabs read the same cached Trace, and only the open tab is drawn. Hosted demos can tighten the
slider ranges with RNNLAB_MAX_SEQ_LEN, RNNLAB_MAX_HIDDEN, RNNLAB_MAX_BATCH and RNNLAB_MAX_STEPS
(see ui/serving/limits.py).
"""

from __future__ import annotations

import streamlit as st

import engine  # noqa: F401 - before torch loads: importing the engine applies its thread rule (engine/threads.py)
from ui.serving.streamlit_private import install_origin_check  # noqa: E402

install_origin_check()  # a safety net for a plain `streamlit run app.py`; `python -m ui.serving.serve` installs it before any request

from ui.page import boot, charts, compute, controls, live, lost_run, present, views  # noqa: E402
from ui.page.lesson_view import TOAST_KEY, lesson_panel, lesson_select, result_hidden, start_here  # noqa: E402
from ui.teaching import lessons  # noqa: E402

STAGE_CHART_PX = 590  # a slide's chart under the tab bar, on a 720 px projector screen

VIEWS = {
    "Gradient flow": views.gradient_tab,
    "Phase diagram": views.phase_tab,
    "Training": None,  # drawn by ui.page.live; a run trains on in its worker while the tab is hidden
    "Gates": views.gates_tab,
    "Connectivity": views.connectivity_tab,
    "Unrolled graph": views.graph_tab,
    "Learn": None,
}


def main() -> None:
    boot.start()  # once per process in effect (idempotent): nothing of it runs at import
    folded = "collapsed" if present.requested() else "auto"
    st.set_page_config(page_title="RNN Gradient Flow Lab", page_icon=":material/timeline:", layout="wide", initial_sidebar_state=folded)
    charts.preload()
    compute.calibrate_in_background()  # once per process, in a thread: the estimates become this server's
    with st.sidebar:
        presenting = present.toggle()
        present.apply(presenting)
    settings = controls.sidebar()
    with st.sidebar:
        lesson_select()
    if (message := st.session_state.pop(TOAST_KEY, None)) and not presenting:  # a slide's card says it already
        st.toast(message, icon=":material/school:")
    slug = st.session_state.get(lessons.STATE_KEY)
    lessons.write_url(slug)
    lesson = lessons.get(slug) if slug else None
    cfg = settings.config
    trace = compute.trace_for(cfg, False) if lesson and cfg else None
    if presenting and lesson:  # a slide: the lesson card beside the charts, both on one 1280x720 screen
        card, stage = st.columns(2, gap="medium")  # the chart just wider than a phone layout (ui/page/plotly_fit.js: 600 px)
        with card:
            lesson_panel(lesson, trace, present=True)
            messages(settings)
        with stage:
            if cfg is None:
                st.error(settings.error)
            elif result_hidden(lesson):
                st.info("Guess first: the chart and the measured claim appear when Reveal is pressed.", icon=":material/visibility_off:")
            else:
                with charts.height_at_most(STAGE_CHART_PX):
                    tabs(cfg, settings)
        return
    if presenting:
        present.bar()
    st.title("RNN Gradient Flow Lab")
    st.caption("How the gradient of the loss travels back through time, step by step, and what shrinks or grows it.")
    if not lesson:
        start_here()
    messages(settings)
    if cfg is None:
        st.error(settings.error)
        return
    if lesson:
        lesson_panel(lesson, trace)
    tabs(cfg, settings)


def messages(settings) -> None:
    for message in settings.errors:
        st.error(message)
    for message in settings.warnings:
        st.warning(message)


def tabs(cfg, settings) -> None:
    """The views of one Config; only the open tab is drawn (a big setting first asks for a go-ahead)."""
    lost_run.update(st.session_state.get("training_run"))  # run_step in the URL; a run lost with its server is named
    go_ahead = views.cost_gate(cfg)
    shown = dict(zip(VIEWS, st.tabs(list(VIEWS), key="tab", on_change="rerun")))
    for label, draw in VIEWS.items():
        if draw is not None and shown[label].open:
            with shown[label]:
                if go_ahead:
                    draw(cfg)
                else:
                    st.info("Nothing computed yet for this setting: see the note above the tabs.")
    if shown["Learn"].open:
        with shown["Learn"]:
            views.learn_tab()
    if shown["Training"].open:
        with shown["Training"]:
            live.training_tab(cfg, settings.steps, settings.every, allowed=go_ahead)


if __name__ == "__main__":
    main()
