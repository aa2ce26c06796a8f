"""Gates while training streams: one gate's unit-mean over time x training step, and the share of saturated units."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .downsample import gaps, pick_indices, pool_matrix
from .notes import note_annotation
from .theme import COLORS, DIVERGING, GRID, SEQUENTIAL, gate_label, streamed_figure
from .training import HEAT_COLS, HEAT_ROWS, MARGIN, MAX_POINTS, house_layout

HEIGHT = 560


def gate_dashboard(log) -> go.Figure:
    """A heatmap of the chosen gate (rows = snapshots, growing like the gradient heatmap) over the saturation curve."""
    heat, heat_notes, what = _heat(log)
    curve, curve_notes = _curve(log)
    axis = dict(gridcolor=GRID, zeroline=False, showline=True, linecolor="#9ca3af")
    titles = [(f"{what} while training", 1.0), ("Share of saturated units while training", 0.30)]
    notes = heat_notes + curve_notes
    place = dict(x=0, xref="paper", yref="paper", xanchor="left", yanchor="bottom", showarrow=False, font=dict(size=15))
    notes += [dict(place, text=f"<b>{t}</b>", y=y) for t, y in titles]
    layout = dict(
        house_layout(),
        height=HEIGHT,
        margin=MARGIN,
        showlegend=False,
        annotations=notes,
        xaxis=dict(axis, domain=[0.0, 0.9], anchor="y", title=dict(text="time step t", standoff=4)),
        yaxis=dict(axis, domain=[0.45, 0.93], anchor="x", title=dict(text=_rows_title(log))),
        xaxis2=dict(axis, domain=[0.0, 0.9], anchor="y2", title=dict(text="training step", standoff=4)),
        yaxis2=dict(axis, domain=[0.0, 0.24], anchor="x2", range=[0, 100], title=dict(text="% saturated")),
    )
    return streamed_figure(heat + curve, layout)


def gate_title(gate: str | None) -> str:
    """What the rows of TrainingLog.gate_matrix() hold, in words."""
    if gate == "flat":
        return "Share of flat units (%)"
    if gate is None:
        return "No gate recorded"
    return f"{gate_label(gate)[0].upper()}{gate_label(gate)[1:]}, mean over units and batch"


def _rows_title(log) -> str:
    n = len(log)
    step = int(np.ceil(n / HEAT_ROWS)) if n else 1
    return "training step" + (f" (mean over {step} snapshots)" if step > 1 else "")


def _heat(log):
    gate = getattr(log, "gate", None)
    what = gate_title(gate)
    m = log.gate_matrix() if len(log) else np.zeros((0, 0))
    if m.size == 0 or gate is None:
        text = "no snapshots yet" if m.size == 0 else "this cell records no gates and no saturation"
        return [], [note_annotation(text, 0.5, 0.5, "center", "middle", "#6b7280", xref="x domain", yref="y domain")], what
    flat = gate == "flat"
    pooled, rows, cols = pool_matrix(m * 100 if flat else m, HEAT_ROWS, HEAT_COLS, "mean")
    lo, hi, scale = (-1.0, 1.0, DIVERGING) if getattr(log, "gate_signed", False) else (0.0, 100.0 if flat else 1.0, SEQUENTIAL)
    unit = "%" if flat else ""
    cstep = cols[1] - cols[0] if len(cols) > 1 else 1
    hover = "t = %{x}" + (f" (mean over {cstep} steps)" if cstep > 1 else "") + "<br>step %{y}<br>%{z:.3f}" + unit + "<extra></extra>"
    bar = dict(title=dict(text="% flat" if flat else gate, side="right"), len=0.5, y=0.45, yanchor="bottom")
    y = np.asarray(log.snapshot_steps)[rows]
    heat = dict(type="heatmap", x=cols, y=y, z=gaps(pooled).astype(np.float32), zmin=lo, zmax=hi, colorscale=scale, colorbar=bar)
    traces = [dict(heat, name=what, hovertemplate=hover, xaxis="x", yaxis="y")]
    notes = []
    bad = ~np.isfinite(pooled)
    if bad.any():
        red = COLORS["overflow"]
        z = np.where(bad, 1.0, np.nan).astype(np.float32)
        traces.append(dict(traces[0], z=z, zmin=0, zmax=1, name="non-finite", showscale=False, colorscale=[[0, red], [1, red]]))
        text = f"red cells: non-finite gate values (overflow) in {int(bad.any(axis=1).sum())} row(s)"
        notes.append(note_annotation(text, 0.99, 0.99, "right", "top", red, xref="x domain", yref="y domain"))
    return traces, notes, what


def _curve(log):
    steps = np.asarray(log.snapshot_steps, dtype=np.float64)
    share = np.asarray(getattr(log, "saturation_share", []), dtype=np.float64) * 100
    if not len(steps) or not np.isfinite(share).any():
        text = "no snapshots yet" if not len(steps) else "no saturation recorded"
        return [], [note_annotation(text, 0.5, 0.5, "center", "middle", "#6b7280", xref="x2 domain", yref="y2 domain")]
    i = pick_indices(len(steps), MAX_POINTS)
    hover = "step %{x}<br>%{y:.1f} % of units saturated<extra></extra>"
    line = dict(type="scatter", x=steps[i], y=gaps(share[i]), mode="lines", name="% saturated", line=dict(color=COLORS["grad_c"], width=2))
    notes = []
    bad = ~np.isfinite(share)
    if bad.any():
        text = f"saturation not finite at {int(bad.sum())} snapshot(s) (overflow): not drawn"
        notes.append(note_annotation(text, 0.01, 0.99, "left", "top", COLORS["overflow"], xref="x2 domain", yref="y2 domain"))
    return [dict(line, hovertemplate=hover, xaxis="x2", yaxis="y2")], notes
