"""One diagonal cell (IndRNN, LRU) up close: its recurrence drawn as it is, and each unit's gradient factor at the chosen step."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .decay import cell_label, factor_symbol, num, recurrent_name
from .notes import NOTE_PX, overflow_note
from .theme import COLORS, base_layout

INK, EDGE, BOX = "#1f2933", "#9ca3af", "#f1f5f9"
Y = 2.3  # height of the recurrence line h_{t-1} -> h_t
DERIV = {  # φ′(a) read back from h = φ(a)
    "tanh": ("1 − hₜ²", lambda h: 1 - h**2),
    "sigmoid": ("hₜ(1 − hₜ)", lambda h: h * (1 - h)),
    "relu": ("1[hₜ > 0]", lambda h: (h > 0).astype(np.float64)),
    "linear": ("1", np.ones_like),
}


def unit_factors(trace, step: int) -> tuple[np.ndarray, str]:
    """(H,) each unit's factor ‖∂hₜ,ᵢ/∂hₜ₋₁,ᵢ‖ at `step` and how it was computed: |λᵢ| (LRU), |uᵢ|·φ′(aₜ,ᵢ) of sequence 0 (IndRNN)."""
    decay = np.asarray(trace.unit_decay, dtype=np.float64)
    sym = factor_symbol(trace)
    if "h" not in trace.saturation:
        return decay, f"{sym}, the same at every step"
    act = trace.config.activation
    words, deriv = DERIV[act]
    h = np.asarray(trace.hidden, dtype=np.float64)[step]
    with np.errstate(all="ignore"):
        return decay * deriv(h), f"{sym}·φ′(aₜ,ᵢ), φ′ = {act}′ = {words}, sequence 0"


def _text(x, y, text, size=NOTE_PX, color=INK, anchor="center") -> dict:
    return dict(x=x, y=y, text=text, showarrow=False, xanchor=anchor, font=dict(size=size, color=color))


def _arrow(x0, y0, x1, y1) -> dict:
    return dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="", arrowhead=2, arrowwidth=2, arrowcolor=EDGE)


def _op(x, y, symbol) -> tuple[dict, dict]:
    shape = dict(type="circle", x0=x - 0.28, x1=x + 0.28, y0=y - 0.28, y1=y + 0.28, line=dict(color="#52606d"), fillcolor="#ffffff")
    return shape, _text(x, y, symbol, size=16)


def _box(x, y, w, h, text, fill=BOX, ink=INK, name="") -> tuple[dict, dict]:
    shape = dict(type="rect", x0=x - w, x1=x + w, y0=y - h, y1=y + h, line=dict(color=INK), fillcolor=fill, name=name)
    return shape, _text(x, y, text, color=ink)


def _factor_words(values: np.ndarray, how: str) -> tuple[str, str]:
    """The smallest, median and largest factor over the units, in words, and the box colour (red when none is finite)."""
    ok = np.sort(values[np.isfinite(values)])
    head = f"each unit's gradient factor one step back, hₜ → hₜ₋₁: {how}"
    if not ok.size:
        return f"{head}<br>not finite for any unit (overflow)", COLORS["overflow"]
    spread = f"min {num(ok[0])}, median {num(ok[(len(ok) - 1) // 2])}, max {num(ok[-1])}"
    left_out = f"; {len(values) - ok.size} units non-finite (overflow)" if ok.size < len(values) else ""
    return f"{head}<br><b>{spread}</b> over {len(values)} units{left_out}", BOX


def diagonal_cell_diagram(trace, step: int) -> go.Figure:
    """h_{t−1} → (× u or λ) → (+ input) → [φ] → h_t, with the per-unit factor at this step and the measured ‖∂L/∂hₜ‖."""
    name, lru = recurrent_name(trace), "h" not in trace.saturation
    parts = [_op(2.0, Y, "×"), _op(3.6, Y, "+")]
    notes = [_arrow(*a) for a in ((0.8, Y, 1.72, Y), (2.28, Y, 3.32, Y), (3.6, 0.0, 3.6, Y - 0.28))]
    notes += [_text(0.2, Y, "h<sub>t-1</sub>", anchor="left"), _text(9.8, Y, "h<sub>t</sub>", anchor="right")]
    notes.append(_text(2.0, Y + 0.5, f"{name} ⊙ h<sub>t-1</sub>"))
    notes.append(_text(3.6, -0.3, "x<sub>t</sub>"))
    if lru:
        notes.append(_text(3.75, 1.0, "γ ⊙ (B x<sub>t</sub>)", anchor="left"))
        notes.append(_arrow(3.88, Y, 9.2, Y))
        notes.append(_text(9.8, 1.55, "output y<sub>t</sub> = Re(C h<sub>t</sub>) + D x<sub>t</sub>", anchor="right"))
        sub = "a diagonal complex linear recurrence: no gates, no φ"
    else:
        act = trace.config.activation
        flat = np.asarray(trace.saturation["h"], dtype=np.float64)[step] * 100
        word = {"relu": "dead", "linear": "flat"}.get(act, "saturated")
        fill = BOX if np.isfinite(flat) else COLORS["overflow"]
        parts.append(_box(5.6, Y, 1.2, 0.5, f"<b>φ = {act}</b><br>{word}: {flat:.0f} % of units", fill, name=f"activation {act}"))
        notes += [_text(3.75, 1.0, "W x<sub>t</sub> + b", anchor="left"), _arrow(3.88, Y, 4.38, Y), _arrow(6.8, Y, 9.2, Y)]
        sub = "each unit recurs only on itself: no gates, no mixing of units"
    values, how = unit_factors(trace, step)
    words, fill = _factor_words(values, how)
    parts.append(_box(5.0, 3.75, 4.9, 0.45, words, fill, "#ffffff" if fill != BOX else INK, "per-unit factor"))
    shapes = [s for s, _ in parts]
    notes += [n for _, n in parts]
    dh = f"‖∂L/∂h<sub>t</sub>‖ = {float(np.asarray(trace.grad_h)[step]):.4g}" + (" (over Re and Im)" if lru else "")
    notes.append(_text(9.8, 1.05 if lru else 1.55, dh, color=COLORS["grad_h"], anchor="right"))
    if step in set(int(s) for s in trace.loss_steps):
        notes.append(_text(9.8, 0.55 if lru else 1.05, "a loss sits at this step", color=COLORS["loss"], anchor="right"))
    title = f"{cell_label(trace)} cell at time step t = {step}<br><sup>{sub}</sup>"
    fig = base_layout(go.Figure(), title, height=460)
    fig.update_layout(shapes=shapes, annotations=notes, showlegend=False, margin=dict(l=20, r=20, t=80, b=20))
    fig.update_xaxes(range=[-0.1, 10.1], visible=False)
    fig.update_yaxes(range=[-0.7, 4.4], visible=False)
    overflow_note(fig, trace, prefix="")
    return fig
