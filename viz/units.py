"""Which units carry the gradient: a units x time heatmap of |∂L/∂h_t,i| (batch mean), on a log10 colour scale.

Students see dead ReLU units (exactly 0: an empty row), saturated tanh units and LSTM
units whose forget gate sits near 1 (a row that stays bright far back in time).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from .downsample import MAX_CELLS, log10_cells, pool_matrix
from .marks import overflow_marks
from .notes import frame, note_annotation, range_words, stack_above, wrap_text
from .theme import COLORS, SEQUENTIAL, base_layout

WHAT = "|∂L/∂hₜ,ᵢ|"
TITLE = f"Which units carry the gradient: {WHAT}, mean over the batch"
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
MAX_TICKS = 8  # decade labels on the colour bar


def decade_label(k: int) -> str:
    """10 to the integer power k in Unicode: 10⁻³."""
    return "10" + str(int(k)).translate(SUPERSCRIPT)


def decade_ticks(z: np.ndarray) -> dict:
    """Colour-bar ticks at whole decades only (at most MAX_TICKS of them), labelled 10ᵏ."""
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return {}
    lo, hi = math.floor(float(finite.min())), math.ceil(float(finite.max()))
    step = max(1, math.ceil((hi - lo) / MAX_TICKS))
    ks = list(range(lo - lo % step, hi + 1, step))
    return dict(tickmode="array", tickvals=ks, ticktext=[decade_label(k) for k in ks])


def unit_heatmap(trace) -> go.Figure:
    """log10 of trace.grad_h_units with y = unit i and x = time step t; blocks of cells pooled by their max."""
    units = getattr(trace, "grad_h_units", None)
    if units is None:
        fig = go.Figure()
        text = "This run has no per-unit record of the gradient."
        fig.update_layout(annotations=[note_annotation(text, 0.5, 0.5, "center", "middle", "#6b7280")])
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return base_layout(fig, TITLE)
    m = np.asarray(units, dtype=np.float64).T  # (H, T): rows are units
    H, T = m.shape
    pooled, ri, ci = pool_matrix(m, MAX_CELLS, MAX_CELLS, "max")
    z = log10_cells(pooled)
    fr, fc = _step(ri), _step(ci)
    hover = "unit i = %{y}<br>time step t = %{x}<br>" + WHAT + " = 10^%{z:.2f}<extra></extra>"
    bar = dict(title=dict(text=f"{WHAT} (log scale)", side="right"), **decade_ticks(z))
    fig = go.Figure(go.Heatmap(x=ci, y=ri, z=z, colorscale=SEQUENTIAL, name=WHAT, colorbar=bar, hovertemplate=hover))
    notes = overflow_marks(trace)[1][:1]  # the engine's message only: the red cells mark where
    red = COLORS["overflow"]
    bad = ~np.isfinite(pooled)
    if bad.any():
        z_bad = np.where(bad, 1.0, np.nan).astype(np.float32)
        hover_bad = "unit i = %{y}, t = %{x}: non-finite (overflow)<extra></extra>"
        fig.add_heatmap(x=ci, y=ri, z=z_bad, showscale=False, name="non-finite", colorscale=[[0, red], [1, red]], hovertemplate=hover_bad)
        notes.append(note_annotation(f"red cells: non-finite (overflow), {int(bad.sum())} of them", 0.99, 0.99, "right", "top", red))
    words = range_words(trace, m, WHAT)
    if words and "exceed" in words:
        notes.append(note_annotation(wrap_text(words, 100), 0.99, 0.8, "right", "top", red, border=True))
    zero_text = _zero_words(trace, m)
    if zero_text:
        notes.append(note_annotation(zero_text, 0.01, 0.01, "left", "bottom", COLORS["truncation"]))
    fig.update_layout(annotations=notes)
    x_title = "time step t" + (f" (max over blocks of {fc} steps)" if fc > 1 else "")
    y_title = "unit i" + (f" (max over blocks of {fr} units)" if fr > 1 else "")
    base_layout(fig, TITLE, x_title, y_title)
    frame(fig, stack_above(notes), height=500, legend=False)
    fig.update_xaxes(range=[-0.5, T - 0.5], constrain="domain")
    fig.update_yaxes(range=[H - 0.5, -0.5])  # unit 0 at the top
    return fig


def _zero_words(trace, m: np.ndarray) -> str | None:
    """Zeros have no logarithm: say how many cells are exactly 0, which units never get any gradient, and why."""
    zero = m == 0
    if not zero.any():
        return None
    dead = np.flatnonzero(zero.all(axis=1))
    text = f"empty cells: exactly 0 ({int(zero.sum())} of {m.size})"
    if len(dead):
        text += f"; {len(dead)} of {m.shape[0]} units get no gradient at any step (e.g. dead ReLUs)"
    truncated = getattr(trace.config, "tbptt", None)
    reasons = "truncation, a dead unit or underflow" if truncated else "a dead unit, no path to a loss or underflow"
    return text + f": {reasons}"


def _step(idx: np.ndarray) -> int:
    return int(idx[1] - idx[0]) if len(idx) > 1 else 1
