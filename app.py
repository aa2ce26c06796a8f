"""RNN Gradient Flow Lab: watch gradients flow backwards through time in RNN, LSTM and GRU networks.

Run with `streamlit run app.py`. The sidebar builds one engine Config (also kept in the URL,
so a link reproduces the view); the tabs read the same cached Trace, and only the open tab
is drawn. Hosted demos can tighten the slider ranges with RNNLAB_MAX_SEQ_LEN,
RNNLAB_MAX_HIDDEN, RNNLAB_MAX_BATCH and RNNLAB_MAX_STEPS (see ui/limits.py).
"""

from __future__ import annotations

import os

# The engine's math is many small numpy ops: idle BLAS/OpenMP worker threads spin against them (2 cores: streamed
# training ~3x slower). One thread each unless the environment says otherwise; numpy and torch read this once, on
# import, and `streamlit run` has not imported them yet at this point.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import streamlit as st  # noqa: E402

from ui import charts, controls, live, present, views  # noqa: E402

VIEWS = {
    "Gradient flow": views.gradient_tab,
    "Phase diagram": views.phase_tab,
    "Training": None,  # drawn by ui.live; a run trains on in its worker while the tab is hidden
    "Gates": views.gates_tab,
    "Connectivity": views.connectivity_tab,
    "Unrolled graph": views.graph_tab,
    "Learn": None,
}


def main() -> None:
    folded = "collapsed" if present.requested() else "auto"
    st.set_page_config(page_title="RNN Gradient Flow Lab", page_icon=":material/timeline:", layout="wide", initial_sidebar_state=folded)
    charts.preload()
    with st.sidebar:
        if present.toggle():
            present.apply()
    settings = controls.sidebar()
    st.title("RNN Gradient Flow Lab")
    st.caption("How the gradient of the loss travels back through time, step by step, and what shrinks or grows it.")
    for message in settings.errors:
        st.error(message)
    for message in settings.warnings:
        st.warning(message)
    cfg = settings.config
    if cfg is None:
        st.error(settings.error)
        return
    go_ahead = views.cost_gate(cfg)
    tabs = dict(zip(VIEWS, st.tabs(list(VIEWS), key="tab", on_change="rerun")))
    for label, draw in VIEWS.items():
        if draw is not None and tabs[label].open:
            with tabs[label]:
                if go_ahead:
                    draw(cfg)
                else:
                    st.info("Nothing computed yet for this setting: see the note above the tabs.")
    if tabs["Learn"].open:
        with tabs["Learn"]:
            views.learn_tab()
    if tabs["Training"].open:
        with tabs["Training"]:
            live.training_tab(cfg, settings.steps, settings.every, allowed=go_ahead)


if __name__ == "__main__":
    main()
