"""Live training views from an engine TrainingLog (duck-typed): loss, clipping, and the gradient over time x steps."""

from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go

from .bound import log_span
from .downsample import log10_cells, log_gaps, pick_indices, pool_matrix
from .notes import PLOT_PX, frame, note_annotation, rgba, vline_shape, wrap_text
from .theme import COLORS, FONT, GRID, SEQUENTIAL, base_layout, log_axis, streamed_figure

HEAT_TITLE = "log₁₀ ‖∂L/∂hₜ‖"
MAX_POINTS = 400  # per curve: a streamed update must stay light for the browser
HEAT_ROWS, HEAT_COLS = 100, 200  # snapshots x time steps in the heatmap
RUG_BINS = 200  # clipping is drawn as the share of clipped steps in at most this many bins
HEIGHT = 660  # the dashboard, with tabs, Run/Stop and the progress bar above it, fits a 1000 px window
MARGIN = dict(l=70, r=30, t=80, b=55)
PANEL_PX = 0.4 * (HEIGHT - MARGIN["t"] - MARGIN["b"])  # height of the loss and norm panels (y domain 0.6..1)
NO_CLIP = "gradient norm (no clipping)"


def loss_curve(log, baseline: float | None = None) -> go.Figure:
    """Training loss against the training step (log y), with a trivial baseline to beat."""
    traces, shapes, notes = _loss_parts(log, baseline, "")
    return _single(traces, shapes, notes, "Training loss", "training step", "loss (log scale)", log_y=True)


def grad_heatmap(log) -> go.Figure:
    """log10 ||dL/dh_t|| with x = time step t and one row per snapshot, so it grows while training streams."""
    traces, shapes, notes, y_title = _heat_parts(log, "")
    return _single(traces, shapes, notes, "How the gradient over time changes while training", "time step t", y_title)


def clip_chart(log, threshold: float | None = None) -> go.Figure:
    """Global gradient norm before and after clipping per training step (log y); a light strip under it shows where it clipped."""
    traces, shapes, notes = _clip_parts(log, threshold, "", "2")
    fig = _single(traces, shapes, notes, "Gradient norm and clipping", "training step", "global gradient norm (log scale)", log_y=True)
    if any(t.get("yaxis") == "y2" for t in traces):
        fig.update_layout(yaxis=dict(domain=[0.12, 1.0]), yaxis2=_rug_axis([0.0, 0.08]), xaxis=dict(anchor="y2"))
    return fig


def training_dashboard(log, baseline: float | None = None, threshold: float | None = None, compare=None, total=None) -> go.Figure:
    """Loss, clipping and the gradient heatmap in one figure: one figure per streamed update is cheaper than three.

    compare = (log, label, baseline) of a configuration trained side by side: its loss and its
    gradient norm are drawn on the same two panels (near black, dashed) and named by its label,
    so both runs share one pair of axes; the heatmap stays this run's. With total (the steps a
    run will take), the loss panel's title counts the steps drawn: the chart carries its own
    counter, never a frame behind or ahead of its curves. On a phone the panels stack.
    """
    loss = _loss_parts(log, baseline, "")
    clip = _clip_parts(log, threshold, "2", "4")
    heat = _heat_parts(log, "3")
    heat_title = "How the gradient over time changes while training"
    if compare is not None:
        other, label, other_base = compare
        for trace in loss[0] + clip[0]:  # this run's own lines, told apart from the compared run's
            if trace["name"] in ("training loss", NO_CLIP, "norm before clipping", "norm after clipping"):
                trace["name"] += ", this run"
        more = _compared_parts(other, label, other_base if other_base != baseline else None)
        loss, clip = _joined(loss, more[0]), _joined(clip, more[1])
        heat_title += " (this run)"
    for trace in heat[0]:
        if "colorbar" in trace:
            trace["colorbar"].update(x=0.92, xanchor="left", y=0.0, yanchor="bottom", len=0.44)
    loss_title = "Training loss" if total is None else f"Training loss: step {_done(log)} of {total}"
    if total is not None and compare is not None and _done(compare[0]) != _done(log):
        loss_title += f" (compared run: {_done(compare[0])})"
    titles = [(loss_title, ""), ("Gradient norm and clipping", "2"), (heat_title, "3")]
    notes = loss[2] + clip[2] + heat[2]
    notes += [  # on each panel's top edge, so they move with the panels (the phone layout stacks them)
        dict(
            text=f"<b>{t}</b>",
            x=0.0,
            y=1.0,
            xref=f"x{ax} domain",
            yref=f"y{ax} domain",
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            font=dict(size=15),
        )
        for t, ax in titles
    ]
    rug = any(t.get("yaxis") == "y4" for t in clip[0])
    axis = dict(gridcolor=GRID, zeroline=False, showline=True, linecolor="#9ca3af")
    top = dict(axis, domain=[0.6, 1.0], type="log", exponentformat="power")  # loss and norm panels
    layout = dict(
        house_layout(),
        height=HEIGHT,
        showlegend=True,
        shapes=loss[1] + clip[1] + heat[1],
        annotations=notes,
        legend=dict(orientation="h", yanchor="bottom", y=1.06, xanchor="right", x=1.0),
        margin=MARGIN,
        xaxis=dict(axis, domain=[0.0, 0.46], anchor="y", title=dict(text="training step", standoff=4)),
        yaxis=dict(top, anchor="x", title=dict(text="loss"), **_ticks(loss[0], PANEL_PX)),
        xaxis2=dict(axis, domain=[0.54, 1.0], anchor="y4" if rug else "y2", title=dict(text="training step", standoff=4)),
        yaxis2=dict(top, domain=[0.65 if rug else 0.6, 1.0], anchor="x2", title=dict(text="gradient norm"), **_ticks(clip[0], PANEL_PX)),
        yaxis4=_rug_axis([0.6, 0.635]),
        xaxis3=dict(axis, domain=[0.0, 0.9], anchor="y3", title=dict(text="time step t")),
        yaxis3=dict(axis, domain=[0.0, 0.44], anchor="x3", title=dict(text=heat[3])),
        meta=dict(narrow=_stacked(len(loss[0]) + len(clip[0]), heat[0], rug)),  # the legend: one row per line drawn
    )
    return streamed_figure(loss[0] + clip[0] + heat[0], layout)


PHONE_HEIGHT = 1120  # the three panels stacked, each about as tall as on a wide screen
LEGEND_ROW_PX = 22  # a phone's legend lists one line per row, above the panels


def _stacked(heat_index: int, heat_traces: list, rug: bool) -> dict:
    """The phone layout (ui/page/plotly_fit.js): loss, gradient norm and the heatmap one under another, full width.

    heat_index: the heatmap's place among the traces; the lines before it are the legend's rows.
    """
    legend = LEGEND_ROW_PX * heat_index
    patch = {
        "layout.height": PHONE_HEIGHT + legend,
        "layout.margin.t": MARGIN["t"] + legend,
        "layout.legend": dict(orientation="v", yref="container", y=1.0, yanchor="top", x=0.0, xanchor="left"),
        "layout.xaxis.domain": [0.0, 1.0],
        "layout.yaxis.domain": [0.75, 1.0],
        "layout.xaxis2.domain": [0.0, 1.0],
        "layout.yaxis2.domain": [0.46 if rug else 0.43, 0.68],
        "layout.xaxis3.domain": [0.0, 0.74],
        "layout.yaxis3.domain": [0.0, 0.33],
    }
    if rug:
        patch["layout.yaxis4.domain"] = [0.43, 0.45]  # the clipping strip under the norm panel
    if heat_traces and "colorbar" in heat_traces[0]:
        patch.update({f"data[{heat_index}].colorbar.{k}": v for k, v in dict(x=0.78, len=0.33, thickness=12).items()})
    return patch


def _done(log) -> int:
    """Training steps a log holds (the progress bar's count)."""
    return len(getattr(log, "history", {}).get("step", ()))


def _joined(parts, more):
    """(traces, shapes, notes) of a panel with the compared run's added."""
    return parts[0] + more[0], parts[1] + more[1], parts[2] + more[2]


def _compared_parts(log, label: str, baseline: float | None):
    """The compared run's loss and gradient norm (dashed, near black), its own baseline when it differs, and its end."""
    steps, loss = _history(log, "step"), _history(log, "loss")
    if not len(steps):
        return ([], [], []), ([], [], [])
    i = pick_indices(len(steps), MAX_POINTS)
    ink = COLORS["compare"]
    losses = [_line("", steps[i], loss[i], f"training loss, {label}", "loss = %{y:.4g}", color=ink, dash="dash", width=2)]
    if baseline is not None and np.isfinite(baseline) and baseline > 0:
        ends, name = [steps[0], steps[-1]], f"trivial baseline {baseline:.3g}, {label}"
        losses.append(_line("", ends, [baseline] * 2, name, "trivial baseline %{y:.4g}", color=ink, dash="dot", width=1.5))
    before, after = _history(log, "grad_norm_before"), _history(log, "grad_norm_after")
    clipping = not _clipping_off(log, before, after)
    name = f"gradient norm{' before clipping' if clipping else ''}, {label}"
    norms = [_line("2", steps[i], before[i], name, "norm: %{y:.4g}", color=ink, dash="dash", width=1.5)]
    notes = _nonfinite_notes(loss, f"loss ({label})", steps, "")
    shapes = []
    if getattr(log, "diverged", False):
        shapes.append(vline_shape(steps[-1], ink, dash="dash", width=1.5, xref="x", yref="y domain"))
        notes.append(_note(f"{label}: diverged at step {int(steps[-1])}", 0.99, 0.01, "right", "bottom", ink, ""))
    return (losses, shapes, notes), (norms, [], _nonfinite_notes(before, f"gradient norm ({label})", steps, "2"))


@functools.cache
def house_layout() -> dict:
    """The theme's layout as a plain dict, built once; the template is left to the (cheap) default.

    Setting a named template validates and copies it on every figure (~25 ms here), which
    alone would eat the budget of a streamed update.
    """
    lay = base_layout(go.Figure(), "").layout.to_plotly_json()
    for key in ("template", "title", "xaxis", "yaxis", "height", "legend"):
        lay.pop(key, None)
    return dict(lay, font=FONT, plot_bgcolor="white", paper_bgcolor="white", template={})


def _single(traces, shapes, notes, title, x_title, y_title, log_y=False) -> go.Figure:
    fig = go.Figure(data=traces, layout=dict(shapes=shapes, annotations=notes))
    base_layout(fig, title, x_title, y_title)
    frame(fig)
    if log_y:
        fig.update_yaxes(**_ticks(traces, PLOT_PX))
    return fig


def _ticks(traces, plot_px: float) -> dict:
    """A log axis over the drawn lines (padded, at least two decades), labelled at whole decades only."""
    return log_axis(log_span(*(t["y"] for t in traces if t.get("mode") == "lines"), pad=0.15), plot_px)


def _rug_axis(domain) -> dict:
    return dict(domain=domain, range=[0, 1], visible=False, fixedrange=True)


def _clipping_off(log, before, after) -> bool:
    """No clipping configured (duck-typed from the last snapshot's config), or it never changed the norm."""
    config = getattr(getattr(getattr(log, "last", None), "trace", None), "config", None)
    return getattr(config, "clip", None) == "none" or np.array_equal(before, after, equal_nan=True)


def _history(log, key) -> np.ndarray:
    values = getattr(log, "history", {}).get(key, [])
    return np.asarray(values, dtype=np.float64)


def _loss_parts(log, baseline, ax):
    steps, loss = _history(log, "step"), _history(log, "loss")
    if not len(steps):
        return [], [], [_note("no training steps yet", 0.5, 0.5, "center", "middle", "#6b7280", ax)]
    i = pick_indices(len(steps), MAX_POINTS)
    traces = [_line(ax, steps[i], loss[i], "training loss", "loss = %{y:.4g}", color=COLORS["loss"], width=2)]
    if baseline is not None and np.isfinite(baseline) and baseline > 0:
        ends, name = [steps[0], steps[-1]], f"trivial baseline {baseline:.3g}"
        traces.append(_line(ax, ends, [baseline] * 2, name, "trivial baseline %{y:.4g}", color=COLORS["bound"], dash="dash", width=1.5))
    shapes, notes = [], _nonfinite_notes(loss, "loss", steps, ax)
    if getattr(log, "diverged", False):
        last = getattr(log, "last", None)
        shapes.append(vline_shape(steps[-1], COLORS["overflow"], width=2, xref=f"x{ax}", yref=f"y{ax} domain"))
        message = last.trace.overflow_message() if last is not None else None
        text = f"<b>Training diverged at step {int(steps[-1])}.</b>" + ("<br>" + wrap_text(message, 60) if message else "")
        notes.append(_note(text, 0.5, 0.5, "center", "middle", COLORS["overflow"], ax, border=True))
    return traces, shapes, notes


def _clip_parts(log, threshold, ax, rug_ax):
    steps = _history(log, "step")
    if not len(steps):
        return [], [], [_note("no training steps yet", 0.5, 0.5, "center", "middle", "#6b7280", ax)]
    before, after, clipped = _history(log, "grad_norm_before"), _history(log, "grad_norm_after"), _history(log, "clipped") > 0
    i = pick_indices(len(steps), MAX_POINTS)
    if _clipping_off(log, before, after):  # the two lines would coincide: the grey one hidden under the blue
        traces = [_line(ax, steps[i], before[i], NO_CLIP, "norm: %{y:.4g}", color=COLORS["after"], width=2)]
    else:
        traces = [
            _line(ax, steps[i], before[i], "norm before clipping", "before: %{y:.4g}", color=COLORS["before"], width=2),
            _line(ax, steps[i], after[i], "norm after clipping", "after: %{y:.4g}", color=COLORS["after"], width=1.5),
        ]
    if clipped.any():
        traces.append(_rug(steps, clipped, rug_ax, ax))
    if threshold is not None and np.isfinite(threshold) and threshold > 0:
        ends, name = [steps[0], steps[-1]], f"threshold {threshold:g}"
        traces.append(_line(ax, ends, [threshold] * 2, name, "threshold %{y:g}", color=COLORS["clip"], dash="dash", width=1.5))
    return traces, [], _nonfinite_notes(before, "gradient norm", steps, ax)


def clip_bins(steps: np.ndarray, clipped: np.ndarray, bins: int = RUG_BINS):
    """(first step, last step, share clipped) of at most `bins` consecutive groups of training steps."""
    n = len(steps)
    starts = np.unique(np.round(np.linspace(0, n, min(bins, n) + 1)).astype(np.int64))[:-1]  # group boundaries, rounded
    ends = np.append(starts[1:], n) - 1
    share = np.add.reduceat(clipped.astype(np.float64), starts) / (ends - starts + 1)
    return steps[starts].astype(np.float64), steps[ends].astype(np.float64), share


def _rug(steps, clipped, rug_ax, ax) -> dict:
    """A thin light strip under the norm panel: each bar is the share of clipped steps in its group, never over the curve."""
    first, last, share = clip_bins(steps, clipped)
    width = np.maximum(last - first + 1, 1)
    hover = "steps %{customdata[0]}–%{customdata[1]}<br>%{customdata[2]:.0%} clipped<extra></extra>"
    return dict(
        type="bar",
        x=first + (width - 1) / 2,
        y=share,
        width=width,
        customdata=np.column_stack([first, last, share]),
        name=f"clipped ({int(clipped.sum())} of {len(clipped)} steps)",
        marker=dict(color=rgba(COLORS["clip"], 0.45), line=dict(width=0)),
        hovertemplate=hover,
        xaxis=f"x{ax}",
        yaxis=f"y{rug_ax}",
    )


def _nonfinite_notes(values, what, steps, ax) -> list:
    """Non-finite points cannot sit on a log axis: say how many and from which step, in words."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return []
    text = f"{what} not finite at {int(bad.sum())} step(s), first at step {int(steps[np.argmax(bad)])}: not drawn"
    return [_note(text, 0.01, 0.01, "left", "bottom", COLORS["overflow"], ax)]


def _heat_parts(log, ax):
    m = log.grad_matrix() if len(log) else np.zeros((0, 0))
    if m.size == 0:
        return [], [], [_note("no snapshots yet", 0.5, 0.5, "center", "middle", "#6b7280", ax)], "training step"
    pooled, rows, cols = pool_matrix(m, HEAT_ROWS, HEAT_COLS, "max")
    y = np.asarray(log.snapshot_steps)[rows]
    rstep, cstep = (rows[1] - rows[0] if len(rows) > 1 else 1), (cols[1] - cols[0] if len(cols) > 1 else 1)
    y_title = "training step" + (f" (max over {rstep} snapshots)" if rstep > 1 else "")
    hover = (
        "t = %{x}" + (f" (max over {cstep} steps)" if cstep > 1 else "") + f"<br>step %{{y}}<br>{HEAT_TITLE} = %{{z:.2f}}<extra></extra>"
    )
    bar = dict(title=dict(text=HEAT_TITLE, side="right"))
    heat = dict(type="heatmap", x=cols, y=y, z=log10_cells(pooled), colorscale=SEQUENTIAL, colorbar=bar, hovertemplate=hover, **_axes(ax))
    traces, notes = [dict(heat, name=HEAT_TITLE)], []
    bad = ~np.isfinite(pooled)
    if bad.any():
        red = COLORS["overflow"]
        z = np.where(bad, 1.0, np.nan).astype(np.float32)
        hover = "t = %{x}, step %{y}: non-finite (overflow)<extra></extra>"
        traces.append(dict(heat, z=z, name="non-finite", showscale=False, colorscale=[[0, red], [1, red]], hovertemplate=hover))
        text = f"red cells: non-finite ‖∂L/∂hₜ‖ (overflow) in {int(bad.any(axis=1).sum())} row(s)"
        notes.append(_note(text, 0.99, 0.99, "right", "top", red, ax))
    if (pooled == 0).any():
        text = "empty cells: ‖∂L/∂hₜ‖ = 0 (beyond the truncation horizon or underflow)"
        notes.append(_note(text, 0.99, 0.01, "right", "bottom", COLORS["truncation"], ax))
    return traces, [], notes, y_title


def _line(ax, x, y, name, hover, mode="lines", marker=None, **line) -> dict:
    """One scatter trace as a plain dict on subplot `ax` ('' or '2'); a log axis gets NaN gaps."""
    style = dict(marker=marker) if marker else dict(line=line)
    tip = "step %{x}<br>" + hover + "<extra></extra>"
    return dict(type="scatter", x=x, y=log_gaps(y), mode=mode, name=name, hovertemplate=tip, **style, **_axes(ax))


def _axes(ax: str) -> dict:
    return dict(xaxis=f"x{ax}", yaxis=f"y{ax}")


def _note(text, x, y, anchor, yanchor, color, ax, border=False):
    return note_annotation(text, x, y, anchor, yanchor, color, border, xref=f"x{ax} domain", yref=f"y{ax} domain")
