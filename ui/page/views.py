"""The per-trace tabs: gradient flow, gates, connectivity and the unrolled graph (figures from viz/, cached)."""

from __future__ import annotations

import math

import streamlit as st

from ui.serving import admission
from ui.teaching import learn
from viz import alt_text, gates, gradients, task

from . import backward_view, charts, compare, compute, controls, links, own_data


def chart(view: str, cfg, key: str, conn: bool | str = False, clicks: bool = False, **options):
    """A cached view of cfg's trace; its JSON is cached with it, so a rerun builds neither (compute.figure_key).

    clicks: returns the x of a point the user just clicked (charts.chart), else None.
    """
    cached = compute.figure_key(view, cfg, conn, **options)
    alt = alt_text.gradient(compute.trace_for(cfg, False))  # what a screen reader hears with it: the measured factor
    return charts.chart(lambda: compute.figure(view, cfg, conn, **options), key=key, clicks=clicks, cached=cached, alt=alt)


def cost_gate(cfg) -> bool:
    """Big settings say what a pass costs and wait for a go-ahead, so dragging a slider never freezes the page."""
    if compute.affordable(cfg):
        return True
    seconds, nbytes = compute.estimate(cfg)
    cost = f"about {seconds:.0f} s and {nbytes / 1e9:.1f} GB of memory for one forward + BPTT pass, {compute.estimate_source()}"
    if nbytes > compute.MEMORY_SHARE * compute.machine_memory():
        st.error(f"This setting needs {cost}: more than this machine can spare. Reduce T, H or B.")
        return False
    if not admission.allow_override():
        st.error(f"This setting needs {cost}: more than this public page computes. Reduce T, H or B.")
        return False
    st.warning(f"This setting needs {cost} (every training step too). Results are cached once computed.")
    return st.checkbox("Compute it anyway", key="allow_long")


def overflow_notice(trace) -> bool:
    """Say in words where and why values overflowed, so no view is silently blank."""
    msg = trace.overflow_message()
    if msg:
        st.error(msg + " Non-finite values are drawn as gaps.")
    return msg is not None


def fmt(value) -> str:
    """Numbers for st.metric: compact, and honest about inf/NaN."""
    if value is None:
        return "n/a"
    if math.isnan(value):
        return "NaN (overflow)"
    if math.isinf(value):
        return "∞ (overflow)" if value > 0 else "−∞ (overflow)"
    return f"{value:.4g}"


def metrics(trace) -> None:
    """Loss, the theory numbers and the clipping effect, one number each."""
    cols = st.columns(6)
    gain = None if trace.gamma is None else trace.gamma * trace.sigma_max
    cols[0].metric("Loss", fmt(trace.loss), help="Batch-mean loss of this pass (untrained network).")
    cols[1].metric(
        "Spectral radius ρ",
        fmt(trace.spectral_radius),
        help="Largest |eigenvalue| of the recurrent weights (gated cells: the largest gate block; IndRNN: max |uᵢ|; LRU: max |λᵢ|).",
    )
    cols[2].metric("σ_max", fmt(trace.sigma_max), help="Largest singular value of W_hh: the most one step can stretch a vector.")
    cols[3].metric(
        "γ·σ_max",
        fmt(gain),
        help="RNN: below 1 the gradient must vanish; above 1 it can explode. Cells without one activation φ have no single γ.",
    )
    cols[4].metric("‖g‖ before clipping", fmt(trace.grad_norm_before_clip), help="Global norm of all parameter gradients.")
    clipped = "clipped" if trace.clipped else None
    cols[5].metric("‖g‖ after clipping", fmt(trace.grad_norm_after_clip), delta=clipped, delta_color="off", help="What the optimiser uses.")


def gradient_tab(cfg) -> None:
    """Tab 1: how ||dL/dh_t|| changes going back in time, in a chart, in words and in numbers."""
    trace = compute.trace_for(cfg, False)
    first, second = st.container(), st.container()
    # On a projector the chart comes first, so that it shares the screen with the lesson card; its own notes mark an
    # overflow, and the words and the Compare row follow it.
    notes, figure = (second, first) if charts.style() == "present" else (first, second)
    with notes:
        overflow_notice(trace)
        other, label = compare.panel(cfg)
        if other is not None and not compute.affordable(other):
            st.warning(f"The compared settings ({label}) would take too long to compute here; shown alone.")
            other = None
    with figure:
        if other is None:
            clicked = chart("grad", cfg, "fig_grad", clicks=True)  # its note says how fast the gradient changes: said once
            backward_view.curve_click(cfg, clicked)  # a click on a step opens that step's formula (as in Unrolled graph)
        else:
            curve = gradients.grad_norm_curve(trace, compare=(compute.trace_for(other, False), label))
            charts.chart(curve, key="fig_grad", alt=alt_text.gradient(trace) + f" Compared: {label}.")
    metrics(trace)  # after the chart: on a phone the chart comes first
    task_view(cfg, trace)
    badge(cfg)
    log = st.toggle("Log scale for the contributions", value=True, key="contrib_log")
    chart("contrib", cfg, "fig_contrib", log=log)
    exports(cfg)


def task_view(cfg, trace) -> None:
    """The task on screen before training: one sequence, its target and the untrained prediction (tab Training: after)."""
    if trace.example is None:
        return
    shown = st.expander("The task: one sequence, its target and the prediction", key="task_view", on_change="rerun")
    if shown.open:
        with shown:
            charts.chart(task.task_chart(trace.example, data=trace.data), key="fig_task", alt=alt_text.task(trace.example))
            st.caption("Untrained network. After a run in the Training tab, its chart shows the prediction before and after training.")


def badge(cfg) -> None:
    """Checked against torch autograd on the first sequences of this very run: a number, or a red warning.

    The check runs beside the page; until it is done, a small fragment looks again every half second.
    """
    if compute.verdict(cfg) is None:
        st.fragment(_badge, run_every=BADGE_POLL_S)(cfg)
    else:
        _badge(cfg)


BADGE_POLL_S = 0.5


def _badge(cfg) -> None:
    verdict = compute.verdict(cfg)
    if verdict is None:
        st.caption(":material/hourglass_top: checking this run against torch autograd …")
    elif verdict.ok:
        st.caption(f":material/verified: {links.escape(verdict.text)}")
    else:
        st.error(verdict.text)
    if verdict is not None and st.session_state.pop("_badge_waiting", None) == cfg:
        st.rerun(scope="app")  # stop the polling fragment
    if verdict is None:
        st.session_state["_badge_waiting"] = cfg


def exports(cfg) -> None:
    """The run's numbers as JSON or CSV, and the command and Python lines that reproduce it."""
    from engine.export import command_line, python_snippet

    name = f"trace_{cfg.cell}_{cfg.task}_T{cfg.seq_len}_seed{cfg.seed}"
    left, right = st.columns(2)
    left.download_button(
        "Download this trace as JSON",
        data=lambda: compute.trace_json(cfg),
        file_name=f"{name}.json",
        mime="application/json",
        on_click="ignore",
        key="download_trace",
    )
    right.download_button(
        "Download it as CSV (one row per step)",
        data=lambda: compute.trace_csv(cfg),
        file_name=f"{name}.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_csv",
    )
    # Drawn only while open: st.code's syntax highlighter costs the browser ~250 ms of script evaluation, which
    # would otherwise sit between a new tab and its first chart.
    mine = own_data.current(cfg)
    data_file = None
    if mine is not None:
        data_file = "my_series.csv" if cfg.task == "series" else "my_text.txt"
        st.download_button(
            f"Download your data ({data_file}): a link cannot carry it",
            data=own_data.as_file(mine),
            file_name=data_file,
            key="download_own_data",
            on_click="ignore",
        )
    reproduce = st.expander("Reproduce this run: the command line and the Python", key="reproduce", on_change="rerun")
    if reproduce.open:
        with reproduce:
            st.code(command_line(cfg, data_file=data_file), language="bash")
            st.code(python_snippet(cfg, data_file=data_file), language="python")
            st.caption("Each chart's camera button (top right, on hover) saves it as a slide-sized PNG.")


def gates_tab(cfg) -> None:
    """Tab 3: gate activations over time (no gates: hidden activations) for the untrained or the trained network."""
    run = st.session_state.get("training_run")
    trained = run is not None and run.config == cfg and run.log.last is not None
    shown = "untrained"
    if trained:
        step = run.log.last.step
        shown = st.radio(
            "Network shown",
            ("untrained", "trained"),
            key="gates_network",
            horizontal=True,
            format_func={"untrained": "untrained (as in tab 1)", "trained": f"after training step {step} (latest snapshot)"}.get,
        )
    trace = run.log.last.trace if shown == "trained" else compute.trace_for(cfg, False)
    diagonal = trace.unit_decay is not None  # IndRNN, LRU: a per-unit factor instead of gates
    first, second = st.container(), st.container()
    notes, figures = (second, first) if charts.style() == "present" else (first, second)  # on a projector the chart first
    with notes:
        overflow_notice(trace)
        if not trace.gates and not diagonal:
            st.caption(
                "This cell has no gates: shown are its hidden activations hₜ (first sequence) and the share of units "
                "on a flat part of φ (φ′ < 0.1), where almost no gradient gets through."
            )
        st.info(gates.gate_summary(trace))
        other = compare.other_config(cfg, st.session_state.get(compare.KEY, {}))[0]
        if other is not None and other != cfg and compute.affordable(other):
            st.info(f"**{links.escape(compare.label(cfg, other))}**: {gates.gate_summary(compute.trace_for(other, False))}")
    views = (("decay", "fig_decay"),) if diagonal else ()
    views += (("gate_maps", "fig_gate_maps"), ("gate_curves", "fig_gate_curves"), ("units", "fig_units"))
    with figures:
        for view, key in views:
            if shown == "trained":
                charts.chart(compute.VIEWS[view](trace), key=key, alt=alt_text.gradient(trace))
            else:
                chart(view, cfg, key)
    if not trained:
        st.caption("Shown: the untrained network. After a run in the Training tab, its latest snapshot can be shown here too.")


def phase_tab(cfg) -> None:
    """Tab: the phase diagram, the gradient's survival over every value of the axis at once; a click sets the control."""
    from viz.phase import nearest_value, phase_heatmap

    if own_data.current(cfg) is not None:
        st.info("The phase diagram is drawn for the bundled data and the synthetic tasks; your own data shows in the other tabs.")
        return
    axis, values = compute.phase_axis(cfg)
    if not compute.phase_affordable(cfg):
        st.info("This setting is too large for a live phase diagram (one batched pass per swept value): reduce T, H or B.")
        return
    record = compute.phase_record(cfg, axis, values)
    clicked = charts.chart(phase_heatmap(record, getattr(cfg, axis)), key="fig_phase", clicks=True, alt=alt_text.phase(record))
    what = {"recurrent_scale": "recurrent scale", "forget_bias": "forget-gate bias"}[axis]
    st.caption(f"Click a column to set the {what} to it. Each column is one value; every column comes from one batched job.")
    if clicked is not None:
        value = nearest_value(record, clicked)
        if value != getattr(cfg, axis):
            controls.request(axis, value)


CONN_ASK_S = 1.0  # connectivity estimated above this waits for a tick, whatever T (GRU T=200 H=128 B=64 float64: 2 s est.)


def connectivity_tab(cfg) -> None:
    """Tab 4: ‖∂loss_t/∂x_k‖, how much the output at t still depends on the input at k (under truncation: which one)."""
    overflow_notice(compute.trace_for(cfg, False))  # before the box: an overflow is said even when nothing is computed yet
    seconds = 0.0 if compute.on_device(cfg) else compute.estimate(cfg, True)[0]
    if seconds > compute.LONG_RUN_S and not admission.allow_override():  # the cost gate, as for any heavy work
        st.error(f"Connectivity for this setting needs about {seconds:.0f} s: more than this public page computes. Reduce T, H or B.")
        return
    if compute.conn_reduced(cfg) or seconds > CONN_ASK_S:
        on = st.checkbox(
            f"Compute connectivity for T = {cfg.seq_len}", key="conn_on", help="One extra backward pass carrying all rows at once; cached."
        )
        if compute.conn_reduced(cfg):
            st.caption(
                f"For T > {compute.CONN_AUTO_T} it is computed on about {compute.CONN_ROWS} evenly spaced loss steps t "
                f"and {compute.CONN_BATCH} of the {cfg.batch_size} sequences, to stay fast."
            )
        st.caption(f"About {seconds:.1f} s of computing, {compute.estimate_source()}.")
        if not on:
            st.info("Tick the box above to compute the connectivity map.")
            return
    which = st.radio(
        "Derivative with respect to",
        ("x", "h"),
        key="conn_which",
        horizontal=True,
        format_func={"x": "input xₖ", "h": "hidden state hₖ"}.get,
        help="xₖ: does the output at t still see the input at k? hₖ: the same through the hidden state.",
    )
    conn = True
    if cfg.tbptt:
        conn = st.radio(
            "Under truncated BPTT, show",
            ("truncated", "full"),
            key="conn_mode",
            horizontal=True,
            format_func={"truncated": "what training carries (0 beyond the horizon)", "full": "the full dependence"}.get,
            help="Training backpropagates only k2 steps: beyond that the gradient it uses is exactly zero. "
            "The full dependence is what the network's outputs really depend on, which training cannot see.",
        )
    chart("conn", cfg, "fig_conn", conn=conn, which=which)


def graph_tab(cfg) -> None:
    """Tab 5: the unrolled network with backward arrows sized by the gradient; gated cells also one cell in detail."""
    trace = compute.trace_for(cfg, False)
    overflow_notice(trace)
    chart("graph", cfg, "fig_graph", max_steps=40)
    backward_view.section(cfg)  # the same path played step by step, and a step's formula with its numbers
    if trace.gates or trace.unit_decay is not None:
        T, step = cfg.seq_len, 0
        if T > 1:
            state = st.session_state
            if state.get("graph_step", T) > T - 1:  # new, or T shrank: assign only then (an assignment overrides the browser)
                state["graph_step"] = T - 1
            step = st.slider("Time step of the cell", 0, T - 1, key="graph_step", help="Which step's gates and gradient to show.")
        chart("cell", cfg, "fig_cell", step=step)


def learn_tab() -> None:
    """Tab 6: the guided explanations (ui.teaching.learn)."""
    learn.learn_tab()
