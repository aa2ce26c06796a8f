"""What a diagonal recurrence (IndRNN, LRU) has instead of gates: one factor per unit, and how fast each unit's gradient fades."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .bound import log_span
from .downsample import log_gaps, pick_indices
from .notes import LINE_PX, NOTE_PX, bottom_note, note_annotation, overflow_note, range_words, sci, wrap_text
from .theme import COLORS, EXTRA_COLORS, base_layout, log_axis
from .truncation import horizon_span

LABELS = {"indrnn": "IndRNN", "lru": "LRU"}  # readable names of the diagonal cells this module words for
PLOT_PX = 330  # height of the plot area: how many decades fit as tick labels
LEGEND_ROW_PX = 22  # one legend entry below the plot
REGIONS = (("< 1: fades", COLORS["contrib"]), ("= 1: kept", COLORS["bound"]), ("> 1: grows", COLORS["loss"]))


def recurrent_name(trace) -> str:
    """The recurrent parameter's symbol: the engine's one block name for a diagonal cell (u, λ), else W_hh."""
    names = list(getattr(trace, "block_radius", None) or {})
    return names[0] if getattr(trace, "unit_decay", None) is not None and len(names) == 1 else "W_hh"


def cell_label(trace) -> str:
    return LABELS.get(trace.config.cell, trace.config.cell)


def factor_symbol(trace) -> str:
    """'|λᵢ|' or '|uᵢ|': the per-unit factor as the charts write it."""
    return f"|{recurrent_name(trace)}ᵢ|"


def exact(trace) -> bool:
    """True when |factor|^k is each unit's exact gradient factor: no φ between steps (LRU) or a linear φ."""
    return "h" not in trace.saturation or trace.config.activation == "linear"


def num(v: float) -> str:
    """3 significant digits, more where 3 would round a value next to 1 to exactly 1 (the edge the charts are about)."""
    for digits in range(3, 10):
        text = f"{v:.{digits}g}"
        if v == 1 or float(text) != 1:
            return text
    return f"{v:.10g}"


def representatives(values: np.ndarray) -> list[tuple[str, int]]:
    """(role, unit index) of the smallest, median and largest finite factor; units of equal value drawn once."""
    idx = np.flatnonzero(np.isfinite(values))
    if not idx.size:
        return []
    order = idx[np.argsort(values[idx], kind="stable")]
    picks = [("smallest", order[0]), ("median", order[(len(order) - 1) // 2]), ("largest", order[-1])]
    out: list[tuple[str, int]] = []
    for role, i in picks:
        same = [k for k, (_, j) in enumerate(out) if values[j] == values[i]]
        if same:
            out[same[0]] = (out[same[0]][0] + " = " + role, out[same[0]][1])
        else:
            out.append((role, int(i)))
    return out


def measured_ratio(trace):
    """(ratio over distance k = 0..T−1, what it is) of the measured gradient, or (None, why it does not apply)."""
    T = len(trace.grad_h)
    steps = [int(s) for s in np.asarray(trace.loss_steps).ravel()]
    if trace.grad_h_last is not None:
        g = trace.grad_h_last
        what = "measured ‖∂loss<sub>T−1</sub>/∂h<sub>T−1−k</sub>‖ ÷ ‖∂loss<sub>T−1</sub>/∂h<sub>T−1</sub>‖ (the last step's loss alone)"
    elif steps == [T - 1]:
        g, what = trace.grad_h, "measured ‖∂L/∂h<sub>T−1−k</sub>‖ ÷ ‖∂L/∂h<sub>T−1</sub>‖ (batch mean, all units together)"
    else:
        return None, "No measured curve: losses sit at several steps, so ‖∂L/∂hₜ‖ mixes paths of many lengths."
    g = np.asarray(g, dtype=np.float64)
    top = g[T - 1]
    if not np.isfinite(top) or top == 0:
        return None, f"No measured curve: ‖∂L/∂h<sub>T−1</sub>‖ = {top:g}, nothing to divide by."
    with np.errstate(all="ignore"):
        return g[::-1] / top, what


def power_text(base: float, k: int) -> str:
    """base^k in words, true beyond float64's range too ('1e-92', 'about 1e352')."""
    if base == 0 or k == 0:
        return "1" if k == 0 else "0"
    e = k * math.log10(base)
    return sci(10.0**e) if -300 < e < 300 else f"about 1e{round(e)}"


def _powers(base: float, ks: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", under="ignore"):
        return np.power(base, ks.astype(np.float64))


def _distribution(fig, trace, values) -> None:
    """Panel (a): every unit's factor, sorted, coloured by the side of 1 it sits on."""
    order = np.argsort(np.where(np.isfinite(values), values, np.inf), kind="stable")
    order = order[np.isfinite(values[order])]
    v, sym = values[order], factor_symbol(trace)
    ranks = np.arange(len(v))
    for (words, color), mask in zip(REGIONS, (v < 1, v == 1, v > 1), strict=True):
        if mask.any():
            fig.add_scatter(
                x=ranks[mask],
                y=v[mask],
                mode="markers",
                name=f"{sym} {words} ({int(mask.sum())} of {len(values)} units)",
                marker=dict(color=color, size=8 if len(v) <= 200 else 5),
                customdata=order[mask],
                hovertemplate=f"unit %{{customdata}}<br>{sym} = %{{y:.6g}}<extra></extra>",
                row=1,
                col=1,
            )
    fig.add_hline(y=1, line=dict(color=COLORS["bound"], dash="dash", width=1.5), row=1, col=1)
    text = "1: neither vanishes nor explodes"
    fig.add_annotation(text=text, x=0, y=1, xref="x domain", yref="y", xanchor="left", yanchor="bottom", showarrow=False)
    fig.layout.annotations[-1].font = dict(size=NOTE_PX, color=COLORS["bound"])
    top = float(v.max()) if v.size else 1.0
    fig.update_yaxes(range=[0, max(1.1, 1.08 * top)], title_text=sym, row=1, col=1)
    fig.update_xaxes(title_text="unit, sorted by " + sym, row=1, col=1)


def _decay(fig, trace, values, notes: list) -> list:
    """Panel (b): |factor|^k (or its bound) for the representative units, and the measured ratio; returns the drawn series."""
    T = len(trace.grad_h)
    ks = pick_indices(T)
    sym, gamma = factor_symbol(trace), trace.gamma if trace.gamma is not None else 1.0
    drawn = []
    for n, (role, i) in enumerate(representatives(values)):
        base = float(values[i]) if exact(trace) else gamma * float(values[i])
        y = _powers(base, ks)
        if exact(trace):
            name = f"unit {i} ({role}): {sym}<sup>k</sup>, {sym} = {num(values[i])}"
        elif gamma == 1:
            name = f"unit {i} ({role}): {sym}<sup>k</sup> ≥ the true factor (φ′ ≤ 1), {sym} = {num(values[i])}"
        else:
            name = f"unit {i} ({role}): (γ·{sym})<sup>k</sup> ≥ the true factor (φ′ ≤ γ = {gamma:g}), {sym} = {num(values[i])}"
        line = dict(color=EXTRA_COLORS[n % len(EXTRA_COLORS)], dash="dash", width=2)
        hover = f"k = %{{x}}<br>{'' if exact(trace) else 'bound '}%{{y:.4e}}<extra></extra>"
        fig.add_scatter(x=ks, y=log_gaps(y), mode="lines", name=name, line=line, hovertemplate=hover, row=1, col=2)
        drawn.append(y)
        if base == 0 and T > 1:
            zero = f"Unit {i}: {sym} = 0, so no gradient passes even one step back (0<sup>k</sup> = 0 for k ≥ 1)"
            notes.append(zero + ": not drawn on the log axis.")
        elif (y[1:] == 0).any() or np.isinf(y).any():
            k = int(ks[np.flatnonzero((y == 0) | np.isinf(y))[0]])
            side = "below float64's smallest number (about 1e-308)" if base < 1 else "beyond float64's largest number (about 1.8e308)"
            notes.append(f"Unit {i}: {num(base)}<sup>k</sup> is {side} from k = {k} on: not drawn there.")
    ratio, what = measured_ratio(trace)
    if ratio is None:
        notes.append(what)
        return drawn
    r = ratio[ks]
    hover = "k = %{x}<br>measured ratio %{y:.4e}<extra></extra>"
    line = dict(color=COLORS["grad_h"], width=3)
    fig.add_scatter(x=ks, y=log_gaps(r), mode="lines", name=what, line=line, hovertemplate=hover, row=1, col=2)
    drawn.append(r)
    span = horizon_span(trace)
    zeros = int((ratio == 0).sum())
    if span < T:
        notes.append(f"Measured: exactly 0 beyond the truncation horizon, {span} steps back (not drawn on the log axis).")
    elif zeros:
        notes.append(f"Measured: exactly 0 at {zeros} of {T} distances (underflow of the run's {trace.config.dtype}), not drawn.")
    words = range_words(trace, ratio, "the measured ratio")
    if words:
        notes.append(words)
    return drawn


def unit_decay_figure(trace) -> go.Figure:
    """(a) each unit's factor per step back, sorted, against the edge at 1; (b) that factor over distance k, and the measured gradient."""
    values = getattr(trace, "unit_decay", None)
    if values is None:
        fig = go.Figure()
        text = "This cell has no per-unit factor: its recurrence mixes the units (a full matrix): no one number per unit says how it fades."
        fig.update_layout(annotations=[note_annotation(wrap_text(text, 70), 0.5, 0.5, "center", "middle", COLORS["bound"])])
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return base_layout(fig, "Per-unit decay")
    values = np.asarray(values, dtype=np.float64)
    sym = factor_symbol(trace)
    bound = "" if exact(trace) else " (an upper bound)"
    titles = [f"(a) {sym} for each unit, sorted", f"(b) each unit's gradient factor after k steps back{bound}"]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.38, 0.62], horizontal_spacing=0.1, subplot_titles=titles)
    for a in fig.layout.annotations:
        a.font = dict(size=15)
    _distribution(fig, trace, values)
    words: list[str] = []
    drawn = _decay(fig, trace, values, words)
    how = wrap_text(_how_words(trace), 130)
    lines = how.count("<br>") + 1
    fig.add_annotation(note_annotation(how, 0.0, 1.0, "left", "bottom", yshift=32))
    top, bottom = 110 + LINE_PX * lines, 100 + LEGEND_ROW_PX * len(fig.data)
    height = top + PLOT_PX + bottom
    base_layout(fig, f"{cell_label(trace)}: each unit's own factor per step back, instead of gates", height=height)
    legend = dict(orientation="h", yanchor="top", y=-90 / PLOT_PX, x=0, xanchor="left")
    fig.update_layout(margin=dict(t=top, b=bottom), legend=legend, title=dict(y=1 - 35 / height, yanchor="middle"))
    fig.update_xaxes(title_text="distance k (steps back from t = T−1)", row=1, col=2)
    fig.update_yaxes(title_text="factor after k steps (log scale)", row=1, col=2, **log_axis(log_span(*drawn), PLOT_PX))
    bad = range_words(trace, values, sym)
    if bad:
        bottom_note(fig, bad)
    for text in words:
        bottom_note(fig, text, color=COLORS["truncation"] if "truncation" in text else "#1f2933")
    overflow_note(fig, trace)
    return fig


def _how_words(trace) -> str:
    """How one step back changes a unit's gradient, exactly as the cell computes it."""
    sym, name = factor_symbol(trace), recurrent_name(trace)
    if "h" not in trace.saturation:
        return (
            f"Each step back multiplies unit i's gradient by conj({name}ᵢ): a rotation and a scaling by exactly {sym}. "
            f"‖∂L/∂hₜ‖ of the complex state is the norm over its real and imaginary parts, so unit i's part changes by {sym}<sup>k</sup>."
        )
    act = trace.config.activation
    if act == "linear":
        return f"Each step back multiplies unit i's gradient by {name}ᵢ (linear φ, φ′ = 1): its size changes by {sym}<sup>k</sup> exactly."
    gamma = trace.gamma if trace.gamma is not None else 1.0
    return (
        f"Each step back multiplies unit i's gradient by {name}ᵢ·φ′(aₜ,ᵢ), and {act}′ ≤ γ = {gamma:g}: "
        f"(γ·{sym})<sup>k</sup> is an upper bound; saturated units (φ′ near 0) fade faster than it."
    )


def _units(n) -> str:
    return "1 unit has" if n == 1 else f"{int(n)} units have"


def decay_summary_text(trace) -> str:
    """One or two sentences for the info box: the range of the per-unit factors and what it does over the sequence."""
    values = getattr(trace, "unit_decay", None)
    if values is None:
        return "This cell has no per-unit factor: its recurrence mixes the units."
    values = np.asarray(values, dtype=np.float64)
    sym, label, H, T = factor_symbol(trace), cell_label(trace), len(values), len(trace.grad_h)
    ok = values[np.isfinite(values)]
    if not ok.size:
        return f"{label}: every {sym} is non-finite (overflow), so there is no per-unit factor to show."
    lo, hi = float(ok.min()), float(ok.max())
    spread = f"every {sym} = {num(lo)} ({H} units)" if lo == hi else f"{sym} ranges {num(lo)}–{num(hi)} over {H} units"
    if ok.size < H:
        spread += f" ({H - ok.size} non-finite, left out)"
    above = int((ok > 1).sum())
    if above:
        spread += f"; {above} of them above 1"
    act = trace.config.activation
    what = f"{label} ({act} φ)" if "h" in trace.saturation else label
    k = T - 1
    if exact(trace):
        step = f"Each step back multiplies unit i's gradient by exactly {sym}"
        spread_k = "" if lo == hi else f" (smallest) to {power_text(hi, k)} (largest)"
        after = f": after {k} steps {power_text(lo, k)}{spread_k}" if k else ""
    else:
        gamma = trace.gamma if trace.gamma is not None else 1.0
        step = f"Each step back multiplies unit i's gradient by {sym}·φ′ ≤ {'' if gamma == 1 else f'{gamma:g}·'}{sym}"
        after = f": after {k} steps at most {power_text(gamma * hi, k)}" if k else ""
    edge = f"At {sym} = 1 a unit's gradient neither vanishes nor explodes" + ("" if exact(trace) else " (with φ′ = 1)")
    text = f"{what}: {spread}. {step}{after}. {edge}: what modern linear recurrences (LRU, S4, Mamba) build on."
    if "h" not in trace.saturation and (ok == 1).any():
        text += (
            f" {_units((ok == 1).sum())} {sym} = 1 exactly: at initialisation the input weight γ = √(1 − |λ|²) is 0 there, "
            "so such a unit receives no input until training changes γ."
        )
    return text
