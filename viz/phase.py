"""The phase diagram: log10 of how much of the last step's gradient is left k steps back, for every swept value."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from .downsample import MAX_CELLS, pick_indices
from .notes import frame, note_annotation, sci, stack_above, vline_shape, wrap_text
from .theme import COLORS, LABEL_PX, base_layout

TITLE = "Phase diagram: how much of the last step's gradient survives k steps back"
AXIS_TITLE = {"recurrent_scale": "recurrent scale", "forget_bias": "forget-gate bias b_f"}
CONTOUR = 3  # contour lines at ratio 10^-3 and 10^3
ZERO_GREY = "#9ca3af"
SUPER = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade(k: int) -> str:
    """10 to the k in Unicode: 10⁻³."""
    return "10" + str(int(k)).translate(SUPER)


def nearest_value(record, x: float) -> float:
    """The swept value closest to a clicked x (what the page sets the slider to)."""
    values = np.asarray(record.scales, dtype=np.float64)
    return float(values[np.argmin(np.abs(values - float(x)))])


def phase_cells(record) -> dict:
    """What the heatmap draws: x (S,), k (rows shown), z = log_ratio at those rows (K, S), and the hover numbers."""
    log_ratio = np.asarray(record.log_ratio, dtype=np.float64)
    S, T = log_ratio.shape
    rows = pick_indices(T, MAX_CELLS)  # exact values at evenly spaced k, never averaged
    z = log_ratio[:, rows].T  # (K, S)
    grad = np.asarray(record.grad_h, dtype=np.float64)[:, ::-1][:, rows].T  # ||dL/dh_{T-1-k}|| in distance order
    with np.errstate(all="ignore"):
        ratio = 10.0**z
    return {"x": np.asarray(record.scales, dtype=np.float64), "k": rows, "z": z, "ratio": ratio, "grad": grad}


def phase_heatmap(record, current: float | None = None) -> go.Figure:
    """Heatmap of log_ratio over (swept value, k), contours at 10^-3 and 10^3, the theory boundary, the current value, overflow."""
    cells = phase_cells(record)
    x, k, z = cells["x"], cells["k"], cells["z"]
    T = len(record.distance)
    axis = AXIS_TITLE.get(record.axis, record.axis)
    current = getattr(record.config, record.axis) if current is None else current
    finite = np.isfinite(z)
    shown = np.where(finite, z, np.nan)
    lo, hi = (float(np.min(z[finite])), float(np.max(z[finite]))) if finite.any() else (-1.0, 1.0)
    lo, hi = min(lo, -1e-9), max(hi, 1e-9)  # keep 0 (ratio 1) inside the colour range: blue below, red above
    custom = np.stack([cells["ratio"], cells["grad"]], axis=-1)
    hover = (
        f"{axis} = %{{x:.4g}}<br>k = %{{y}} steps back (t = {T - 1} − k)<br>log₁₀ ratio = %{{z:.3f}}"
        "<br>ratio ‖∂L/∂h_{T−1−k}‖ / ‖∂L/∂h_{T−1}‖ = %{customdata[0]:.3e}<br>‖∂L/∂h_{T−1−k}‖ = %{customdata[1]:.3e}<extra></extra>"
    )
    fig = go.Figure(
        go.Heatmap(
            x=x,
            y=k,
            z=shown,
            customdata=custom,
            zmin=lo,
            zmax=hi,
            colorscale=_split_scale(lo, hi),
            name="log₁₀ ratio",
            colorbar=_colorbar(lo, hi),
            hovertemplate=hover,
        )
    )
    notes = []
    _special_cells(fig, x, k, z, notes)
    if finite.sum() >= 4 and min(z.shape) >= 2:
        fig.add_contour(
            x=x,
            y=k,
            z=shown,
            contours=dict(start=-CONTOUR, end=CONTOUR, size=2 * CONTOUR, coloring="none", showlabels=True, labelfont=dict(size=12)),
            line=dict(color="#111827", width=1.5),
            showscale=False,
            hoverinfo="skip",
            name=f"ratio {decade(-CONTOUR)} and {decade(CONTOUR)}",
            showlegend=True,
        )
    shapes = [vline_shape(current, "#111827", dash="dash", width=2)]
    side = "left" if current <= (x.min() + x.max()) / 2 else "right"  # the note opens toward the wider side of the plot
    notes.append(note_annotation(f"current {axis} {current:g}", current, 1.0, side, "top", "#111827", xref="x"))
    shapes += _theory(record, x, notes)
    _overflow(record, fig, notes)
    above = stack_above(notes)
    fig.update_layout(shapes=shapes, annotations=notes + list(fig.layout.annotations))
    base_layout(fig, TITLE, axis + _axis_words(record), f"steps back k from the last step (loss at t = {T - 1})")
    frame(fig, above, height=520)
    if len(k) < T:
        fig.update_yaxes(title_text=f"steps back k (showing {len(k)} of {T})")
    if len(x) > 1:  # the columns' own edges: a note that runs past them is wrapped, never a reason to widen the axis
        half = float(np.min(np.diff(x))) / 2
        fig.update_xaxes(range=[float(x.min()) - half, float(x.max()) + half])
    return fig


def _split_scale(lo: float, hi: float) -> list:
    """Blue below ratio 1 (vanishing), white at 1, orange above (growing; red is kept for overflow), whatever the asymmetry."""
    mid = (0.0 - lo) / (hi - lo)
    blues, reds = ["#08306b", "#2171b5", "#9ecae1"], ["#fee391", "#fe9929", "#993404"]
    below = [[mid * i / 3, c] for i, c in enumerate(blues)]
    above = [[mid + (1 - mid) * (i + 1) / 3, c] for i, c in enumerate(reds)]
    return below + [[mid, "#f7f7f7"]] + above


def _colorbar(lo: float, hi: float) -> dict:
    """Ticks at whole decades, as many as fit, labelled 10⁻³ … 10³."""
    step = max(1, math.ceil((hi - lo) / max(300 / LABEL_PX, 1)))
    ticks = [v for v in range(math.ceil(lo / step) * step, math.floor(hi) + 1, step)] or [0]
    return dict(title=dict(text="share of the gradient left", side="right"), tickvals=ticks, ticktext=[decade(v) for v in ticks])


def _special_cells(fig, x, k, z, notes) -> None:
    """Grey: gradient exactly 0 (ratio 0, log = −∞); red: non-finite (overflow). Never silent gaps."""
    for mask, color, label, words in (
        (
            np.isneginf(z),
            ZERO_GREY,
            "exactly 0",
            "grey cells: the gradient is exactly 0 there (underflow, or beyond the truncation horizon)",
        ),
        (np.isnan(z) | np.isposinf(z), COLORS["overflow"], "non-finite (overflow)", "red cells: non-finite (overflow)"),
    ):
        if mask.any():
            hover = f"{label}<br>x = %{{x:.4g}}, k = %{{y}}<extra></extra>"
            fig.add_heatmap(
                x=x,
                y=k,
                z=np.where(mask, 1.0, np.nan),
                showscale=False,
                name=label,
                colorscale=[[0, color], [1, color]],
                hovertemplate=hover,
            )
            notes.append(note_annotation(f"{words}: {int(mask.sum())} of {mask.size}", 0.0, 1.0, "left", "bottom", color))


def _theory(record, x, notes) -> list:
    """The line gamma * sigma_max = 1 where the bound applies; otherwise say why there is none."""
    b, gamma = record.boundary, record.gamma
    if b is None:
        why = (
            "no γ·σ_max line: the forget gate, not W_hh alone, sets the factor per step"
            if record.axis != "recurrent_scale"
            else "no γ·σ_max line: the gates, not W_hh alone, set the factor per step"
        )
        notes.append(note_annotation(why, 0.0, 1.0, "left", "bottom", COLORS["bound"]))
        return []
    label = f"theory γ·σ_max = 1: scale {b:.3g}" + (f" = 1/γ (γ = {gamma:g})" if abs(b * gamma - 1) < 1e-6 else "")
    if not x.min() <= b <= x.max():
        notes.append(note_annotation(f"{label}, outside the scales shown", 0.0, 1.0, "left", "bottom", COLORS["bound"]))
        return []
    notes.append(note_annotation(label, b, 0.0, "right", "bottom", COLORS["bound"], xref="x", textangle=-90))
    return [vline_shape(b, COLORS["bound"], width=2.5)]


def _overflow(record, fig, notes) -> None:
    """Mark the values whose forward state or gradient overflowed, and say in words where and why."""
    over = np.asarray(record.overflow, dtype=bool)
    if not over.any():
        return
    x = np.asarray(record.scales, dtype=np.float64)
    red = COLORS["overflow"]
    fig.add_scatter(
        x=x[over],
        y=[len(record.distance) - 0.5] * int(over.sum()),
        mode="markers",
        marker=dict(symbol="triangle-down", size=10, color=red),
        name="overflow at this value",
        hovertemplate="%{x:.4g}: overflow<extra></extra>",
        cliponaxis=False,
    )
    dtype = getattr(record.config, "dtype", "float32")
    parts = []
    T = len(record.distance)
    for i in np.flatnonzero(over)[:3]:
        fwd, back = int(record.overflow_step[i]), int(record.overflow_grad_step[i])
        where = [f"hₜ from t = {fwd} on"] if fwd >= 0 else []
        where += [f"the gradient from t = {back} back (k ≥ {T - 1 - back})"] if back >= 0 else []
        parts.append(f"at {x[i]:g}: {' and '.join(where)}")
    more = f" (and {int(over.sum()) - 3} more values)" if over.sum() > 3 else ""
    why = "products of per-step factors above 1 grow geometrically"
    if record.gamma is not None and np.isfinite(record.sigma_max[over]).all():
        why = f"γ·σ_max up to {sci(float(record.gamma * np.max(record.sigma_max[over])))} > 1: {why}"
    text = f"Overflow ({int(over.sum())} of {len(x)} values, red triangles): {'; '.join(parts)}{more} exceeded {dtype}. Why: {why}."
    notes.append(note_annotation("<b>" + wrap_text(text, 110) + "</b>", 0.0, 1.0, "left", "bottom", red, border=True))


def _axis_words(record) -> str:
    if record.axis == "recurrent_scale":
        return " (spectral radius of each recurrent block; max |uᵢ| or |λᵢ| for diagonal cells)"
    return ""
