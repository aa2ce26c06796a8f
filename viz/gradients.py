"""How the gradient flows back in time through one BPTT pass: ‖∂L/∂h_t‖ against t, and what W_hh learns from."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from .bound import bound_words, clipped_bound, log_span, why_no_explosion
from .cell_info import direct_path, gate_title, path_gate, path_keep
from .decay import power_text, recurrent_name
from .downsample import log_gaps, pick_indices
from .marks import dtype_limits, overflow_marks, truncation_marks, zero_notes
from .measures import FACTOR, end_ratio, end_ratio_text, factor_text, trend
from .notes import PLOT_PX, dtype_floors, dtype_max, frame, note_annotation, overflow_short, range_words, rgba, sci, stack_above, wrap_text
from .theme import COLORS, base_layout, log_axis
from .truncation import horizon_span

DH, DC = "‖∂L/∂hₜ‖", "‖∂L/∂cₜ‖"
MAIN = f"{DH} (batch mean)"
BOUND = "bound (γ·σ_max)^(s−t)"


def measured_factor(trace) -> tuple[float | None, str]:
    """(the engine's fitted factor per step back in time, what it was fitted on): one source for every tab that shows it."""
    f = getattr(trace, "decay_factor", None)
    what = f"{DH} of the last step's loss alone" if getattr(trace, "grad_h_last", None) is not None else DH
    return (f if f is not None and math.isfinite(f) and f > 0 else None), what


def decay_summary(trace) -> str:
    """The factor per step (fitted) and the end-to-end ratio in words, plus the theory verdict for vanilla RNNs."""
    return ". ".join(p.rstrip(".") for p in _decay_parts(trace)) + "."


def grad_norm_curve(trace, compare=None) -> go.Figure:
    """‖∂L/∂h_t‖ (batch band, cell state) on a log axis kept on the measured data; the theory bound clipped at its edge.

    compare = (other trace, its label) overlays the other configuration's curves, dashed, on the same axes.
    """
    T = len(trace.grad_h)
    x = pick_indices(T)
    fig = go.Figure()
    band = getattr(trace, "grad_h_band", None)
    band = np.asarray(band, dtype=np.float64)[x] if band is not None and len(band) == T else None
    measured = [np.asarray(v, dtype=np.float64)[x] for v in (trace.grad_h, trace.grad_c, trace.grad_h_last) if v is not None]
    other = _compared(compare)
    state = state_norm(trace)
    shapes, limit_notes, levels = dtype_limits(trace, np.concatenate(measured + ([state] if state is not None else [])))
    span = log_span(*measured, band, *[o[1] for o in other], state, np.asarray(levels))
    if band is not None:
        _curve(fig, x, band[:, 0], "10th percentile", None, showlegend=False)
        _curve(fig, x, band[:, 1], "10–90 % of the batch", None, fill="tonexty", fillcolor=rgba(COLORS["grad_h"], 0.18))
    _curve(fig, x, np.asarray(trace.grad_h)[x], MAIN, COLORS["grad_h"], width=2.5)
    if trace.grad_c is not None:
        _curve(fig, x, np.asarray(trace.grad_c)[x], f"{DC} (cell state)", COLORS["grad_c"])
    if trace.grad_h_last is not None:
        _curve(fig, x, np.asarray(trace.grad_h_last)[x], "‖∂loss_{T−1}/∂hₜ‖ (the last step's loss alone)", COLORS["last"])
    for ox, oy, name, color, dash in other:
        _curve(fig, ox, oy, name, color, dash=dash, width=2.5)
    if state is not None:
        name = f"‖hₜ‖, the forward state (sequence 0), finite before t = {trace.overflow_step}"
        _curve(fig, np.arange(len(state)), state, name, COLORS["state"], dash="dashdot")
    notes = []
    if trace.bound is not None:
        bound = np.asarray(trace.bound, dtype=np.float64)
        span = span or log_span(bound)
        drawn, above, _ = clipped_bound(bound[x], span)
        true = [sci(float(v)) if np.isfinite(v) else ("∞" if v > 0 else "not finite") for v in bound[x]]
        hover = "t = %{x}<br>bound = %{customdata}<extra></extra>"
        fig.add_scatter(
            x=x, y=drawn, customdata=true, mode="lines", name=BOUND, line=dict(color=COLORS["bound"], dash="dash"), hovertemplate=hover
        )
        words = bound_words(trace, clipped_bound(bound, span)[1])
        if words:
            # Above the plot with the other notes (a slide moves them under the chart): inside, it ran over the y ticks.
            notes.append(note_annotation(wrap_text(words, 110), 0.0, 1.0, "left", "bottom", COLORS["bound"]))
    _loss_markers(fig, trace, T)
    _beyond_markers(fig, trace, x, measured, span)
    mark_shapes, marks = _marks(trace, T)
    shapes = mark_shapes + shapes
    # Above the plot area, under the title: inside it the box hid the curve's high end.
    parts = _decay_parts(trace) + ([compared_words(*compare)] if compare is not None else [])
    text = "<br>".join(wrap_text(part.rstrip(".") + ".", 110) for part in parts)  # a sentence each: a slide splits them there
    notes = [note_annotation(text, 0.0, 1.0, "left", "bottom")] + marks + notes + limit_notes
    notes += zero_notes(trace, trace.grad_h, DH, top=trace.config.tbptt is not None)  # the TBPTT label holds the bottom
    said = overflow_short(trace) is not None  # the overflow mark already says which values are non-finite
    out = [range_words(trace, trace.grad_h, DH, nonfinite=not said)]
    out += [range_words(trace, trace.grad_c, DC, nonfinite=not said)] if trace.grad_c is not None else []
    out = [w for w in out if w]
    if out:
        notes.append(note_annotation(wrap_text(" ".join(out), 110), 0.0, 1.0, "left", "bottom", COLORS["overflow"], border=True))
    above = stack_above(notes)
    fig.update_layout(shapes=shapes, annotations=notes)
    ytitle = "norm (log scale)" if state is not None else "gradient norm (log scale)"
    base_layout(fig, f"How the gradient flows back in time: {DH} at each step t", "time step t", ytitle)
    frame(fig, above)
    fig.update_xaxes(range=[-0.5, max([T] + [len(o[0].grad_h) for o in [compare] if o]) - 0.5])
    fig.update_yaxes(**log_axis(span, PLOT_PX))
    return fig


def _compared(compare) -> list:
    """[(x, y, name, colour, dash)] of the compared trace's curves: ‖∂L/∂h_t‖ dashed and, for an LSTM, ‖∂L/∂c_t‖ dotted."""
    if compare is None:
        return []
    other, label = compare
    x = pick_indices(len(other.grad_h))
    out = [(x, np.asarray(other.grad_h, dtype=np.float64)[x], f"{DH} ({label}), dashed", COLORS["compare"], "dash")]
    if other.grad_c is not None:
        out.append((x, np.asarray(other.grad_c, dtype=np.float64)[x], f"{DC} cell state ({label}), dotted", COLORS["compare_c"], "dot"))
    return out


def compared_words(other, label: str) -> str:
    """The compared run in the same two measures as the main one, and for a gated cell the gate that explains it."""
    f, _ = measured_factor(other)
    words = f"Dashed, {label}: " + (f"{FACTOR} {factor_text(f)}" if f is not None else f"no {FACTOR}")
    if other.grad_h_last is None and other.config.tbptt is None:
        words += f"; {end_ratio_text(other.grad_h)}"
    name, keep = path_gate(other), path_keep(other)  # the direct path and its gate, as the cell declares them
    if keep is None or not np.isfinite(keep[0]):
        return words
    value, symbol = keep
    factor = f"the {gate_title(other, name)}" + (f" as {symbol}" if symbol != name else "")
    if direct_path(other)["state"] != "c":
        return words + f". Why: its direct path keeps {factor} = {value:.2f} per step on average"
    bias, cell = other.config.forget_bias, other.cell_info["label"]
    c = end_ratio(other.grad_c) if other.grad_c is not None else math.nan
    low = f": at bias 0, {symbol} ≈ 0.5 and an untrained {cell} loses its gradient too; forget bias 2 keeps {symbol} near 0.9"
    return words + (
        f". Why: its cell path cₜ₋₁ → cₜ keeps {factor} = {value:.2f} per step on average (forget bias {bias:g})"
        + (f", so the cell state's end-to-end ratio is {sci(c)} (dotted)" if math.isfinite(c) else "")
        + (low if bias <= 0.5 else "")
    )


def state_norm(trace) -> np.ndarray | None:
    """‖h_t‖ of sequence 0 up to the step before the forward pass overflowed: what is finite when no gradient is; else None."""
    t = getattr(trace, "overflow_step", None)
    hidden = getattr(trace, "hidden", None)
    if t is None or hidden is None or t < 1:
        return None
    h = np.asarray(hidden)[:t]
    h = np.abs(h).astype(np.float64) if np.iscomplexobj(h) else h.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        norm = np.sqrt(np.sum(np.square(h), axis=-1)) if h.ndim == 2 else np.abs(h)
    return np.where(np.isfinite(norm) & (norm > 0), norm, np.nan)


def contrib_bars(trace, log: bool = True) -> go.Figure:
    """Bars of ‖step t's term of ∂L/∂W_hh‖: which time steps the weight update actually learns from."""
    T = len(trace.contrib)
    x = pick_indices(T)
    c = np.asarray(trace.contrib, dtype=np.float64)[x]
    y = log_gaps(c) if log else np.where(np.isfinite(c), c, np.nan)
    with np.errstate(invalid="ignore"):
        beyond = np.isfinite(c) & (np.abs(c) > dtype_max(trace))
    colors = np.where(beyond, COLORS["overflow"], COLORS["contrib"]) if beyond.any() else COLORS["contrib"]
    name = recurrent_name(trace)  # W_hh, or a diagonal cell's vector (u, λ)
    what = f"‖step t's term of ∂L/∂{name}‖"
    hover = "t = %{x}<br>" + what + " = %{y:.6g}<extra></extra>"
    fig = go.Figure(go.Bar(x=x, y=y, name=what, marker=dict(color=colors), hovertemplate=hover))
    shapes, notes = _marks(trace, T)
    if log:
        notes += zero_notes(trace, trace.contrib, "the term", top=True)
    words = range_words(trace, trace.contrib, "the term")
    if words:
        notes.append(note_annotation(wrap_text(words, 110), 0.0, 1.0, "left", "bottom", COLORS["overflow"], border=True))
    above = stack_above(notes)
    fig.update_layout(shapes=shapes, annotations=notes, bargap=0.1)
    base_layout(fig, f"Which time steps the {name} update learns from", "time step t", what)
    frame(fig, above)
    fig.update_xaxes(range=[-0.5, T - 0.5])
    if log:
        span = log_span(c, pad=0.3)
        axis = log_axis(span, PLOT_PX)
        if span is not None:  # bars grow from the axis bottom: start it a decade under the smallest bar, never zoomed to a band
            axis["range"] = [min(span[0], float(np.log10(np.nanmin(y))) - 1.0), span[1]]
        fig.update_yaxes(**axis)
    return fig


def _marks(trace, T):
    (s1, n1), (s2, n2) = truncation_marks(trace, T), overflow_marks(trace)
    return s1 + s2, n1 + n2


def _curve(fig, x, values, name, color, dash="solid", width=2.0, **kw):
    line = dict(color=color, width=width, dash=dash) if color else dict(width=0)
    hover = f"t = %{{x}}<br>{name} = %{{y:.4e}}<extra></extra>" if color else None
    fig.add_scatter(x=x, y=log_gaps(values), mode="lines", name=name, line=line, hovertemplate=hover, **kw)
    if not color:
        fig.data[-1].hoverinfo = "skip"


def _loss_markers(fig, trace, T):
    steps = np.asarray(trace.loss_steps, dtype=np.int64)
    if 0 < len(steps) < T or T == 1:  # with a loss at every step, markers would only hide the curve
        steps = steps[pick_indices(len(steps), 100)]
        y = log_gaps(np.asarray(trace.grad_h, dtype=np.float64)[steps])
        marker = dict(color=COLORS["loss"], size=8, symbol="diamond")
        fig.add_scatter(
            x=steps, y=y, mode="markers", name="step with a loss", marker=marker, hovertemplate="loss at t = %{x}<extra></extra>"
        )


def _beyond_markers(fig, trace, x, measured, span):
    """Red rings on measured points beyond the run's dtype range: finite here, but not a number the run could hold."""
    top = dtype_max(trace)
    for values in measured:
        with np.errstate(invalid="ignore"):
            idx = np.nonzero(np.isfinite(values) & (values > top))[0]
        if len(idx):
            ring = dict(color="rgba(0,0,0,0)", size=9, line=dict(color=COLORS["overflow"], width=2))
            hover = "t = %{x}: %{y:.3e}, beyond the run's dtype range<extra></extra>"
            fig.add_scatter(x=x[idx], y=values[idx], mode="markers", name="beyond the dtype's range", marker=ring, hovertemplate=hover)


def _decay_parts(trace) -> list[str]:
    """The measured factor per step (fitted), the end-to-end ratio, and the theory bound's verdict, by one rule (measures.trend)."""
    T = len(trace.grad_h)
    f, what = measured_factor(trace)
    span = horizon_span(trace)
    n = span - 1
    if f is None:
        if T < 2:
            parts = ["One time step only: there is no change per step to fit"]
        elif not np.isfinite(np.asarray(trace.grad_h if trace.grad_h_last is None else trace.grad_h_last, float)).any():
            parts = [f"No {FACTOR}: every {DH} overflowed, nothing finite to fit"]
            parts += _state_growth(trace)
        else:
            parts = [f"No {FACTOR}: fewer than two finite, non-zero values of {what} to fit"]
    else:
        parts = [f"Measured, {FACTOR}: {what} changes {factor_text(f)} per step back in time: {trend(f, n)}"]
        if span < T:
            parts[0] += f"; exactly 0 beyond the truncation horizon, {span} steps back"
        elif trace.grad_h_last is None:
            parts.append(f"Measured, {end_ratio_text(trace.grad_h, floor=dtype_floors(trace)[0])}")
    gamma, smax = getattr(trace, "gamma", None), getattr(trace, "sigma_max", None)
    if gamma is not None and smax is not None and math.isfinite(gamma * smax):
        parts.append(_theory_words(gamma * smax, n))
        why = why_no_explosion(trace)
        if why:
            parts.append(why.rstrip("."))
    elif gamma is not None and smax is not None:
        parts.append("Theory: σ_max(W_hh) is not finite, so there is no bound to draw")
    return parts


def _theory_words(gs: float, n: int) -> str:
    """The bound's verdict over the n steps shown, read by the same rule as the measured factor, so the two agree."""
    word = trend(gs, n)
    if word == "about constant" or n < 1:
        return f"Theory: γ·σ_max = {gs:.3g}, about 1: the bound stays flat over the {n} steps, neither vanishing nor exploding is forced"
    if gs < 1:
        pace = ", slowly" if "slowly" in word else ""
        return f"Theory: γ·σ_max = {gs:.3g} < 1: vanishing guaranteed{pace}, the bound {gs:.3g}^{n} = {power_text(gs, n)} end to end"
    return f"Theory: γ·σ_max = {gs:.3g} > 1: the bound allows exploding, it does not force it"


def _state_growth(trace) -> list[str]:
    """When the forward pass overflowed: how fast its finite part grew (fitted on the later half, past the start-up)."""
    norm = state_norm(trace)
    if norm is None:
        return []
    t = np.arange(len(norm))
    ok = np.isfinite(norm) & (t >= len(norm) // 2)
    if ok.sum() < 2:
        return []
    g = float(np.exp(np.polyfit(t[ok], np.log(norm[ok]), 1)[0]))
    return [f"The forward state ‖hₜ‖ (drawn) grows {factor_text(g)} per step (fitted) until it overflows at t = {trace.overflow_step}"]
