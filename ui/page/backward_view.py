"""The backward pass on the page: overview (the animated graph), detail (one step), formula (with this run's numbers).

A click on a step, in the animation or on the gradient curve, opens that step's formula; the
step also has its own number box, so a keyboard reaches every step. The figure is built once
per Config (viz/backward_anim.py) and plays in the browser; its one-sentence text alternative
is written under it for screen readers and kept as the chart's aria-label (ui.page.charts.chart alt=).
"""

from __future__ import annotations

import streamlit as st

from viz.alt_text import gradient
from viz.backward_anim import backward_animation, shown_steps
from viz.formula import step_formula

from . import charts, compute, links

STEP_KEY = "backward_step"  # the step t of the step back t -> t-1 the formula shows, shared by both tabs
OPEN_KEY = "backward_formula_open"


def _chart(cfg, trace):
    """The animation, its JSON kept in the trace's own cache: the shared one, or a session's own for your own data
    (a process-wide lru_cache here held figures of uploaded data across sessions)."""
    where, mine = compute.store(cfg)
    build = lambda: backward_animation(compute.with_terms(cfg))  # noqa: E731 - built only when its JSON is not kept
    alt = "Animated: " + gradient(trace, *shown_steps(trace))  # the steps it draws, as its layout.meta says
    return charts.chart(build, key="fig_backward", clicks=True, cached=(where, ("figure", "backward", cfg, *mine)), alt=alt)


def section(cfg) -> None:
    """The animated backward pass and, under it, the formula of the chosen step (the only views that ask for trace.backward)."""
    if cfg.seq_len < 2:
        return
    trace = compute.with_terms(cfg)
    st.subheader("The backward pass, step by step")
    st.caption("Press ▶ Play, or drag the slider. Click a step (a filled circle) for its formula with this run's numbers.")
    clicked = _chart(cfg, trace)
    choose(trace, clicked)
    formula_panel(trace)


def choose(trace, clicked) -> None:
    """A click's x (a time step) becomes the formula's step; steps are 1..T-1 (t = 0 has nothing before it)."""
    if clicked is None:
        return
    T = len(trace.grad_h)
    try:
        step = int(round(float(clicked)))
    except (TypeError, ValueError):
        return
    st.session_state[STEP_KEY] = min(max(step, 1), T - 1)
    st.session_state[OPEN_KEY] = True


def formula_panel(trace) -> None:
    """The chosen step's backward formula: the equation, every number with the trace record it is read from, one sentence."""
    T = len(trace.grad_h)
    state = st.session_state
    if not 1 <= int(state.get(STEP_KEY, T - 1)) <= T - 1:  # new, or T shrank
        state[STEP_KEY] = T - 1
    if STEP_KEY not in state:
        state[STEP_KEY] = T - 1
    with st.container(border=True, key="step_formula"):  # the key: its own type size on a phone (ui/page/present.py)
        st.markdown("**Formula of one step back, with this run's numbers**")
        t = st.number_input("Step t (the step back from t to t − 1)", 1, T - 1, key=STEP_KEY, help="Or click a step in a chart.")
        formula = step_formula(trace, int(t))
        for line in formula.latex:  # inline maths in display style: KaTeX breaks it at = + ⊙ where a phone is too narrow
            st.markdown(f"$\\displaystyle {line}$")
        rows = "\n".join(f"| {links.escape(r.symbol)} | {r.value:.6g} | {links.escape(r.meaning)} | `{r.source}` |" for r in formula.rows)
        st.markdown("| quantity | value | what it is | trace record |\n|---|---|---|---|\n" + rows)
        st.caption(formula.summary + " Norms are batch means of per-sequence norms, as on the gradient curve.")


def curve_click(cfg, clicked) -> None:
    """A click on the gradient curve (tab Gradient flow) opens the same formula under it; its terms are computed only then."""
    if cfg.seq_len < 2:
        return
    trace = compute.trace_for(cfg, False)
    choose(trace, clicked)
    if clicked is not None or st.session_state.get(OPEN_KEY):
        formula_panel(compute.with_terms(cfg))
