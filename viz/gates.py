"""Gate and hidden-state views: what each gate does over time, and where units go flat."""

from __future__ import annotations

import warnings

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .cell_info import gate_title, path_keep, path_words, recorded, signed_gate
from .decay import cell_label, decay_summary_text
from .downsample import MAX_CELLS, gaps, pick_indices
from .gradients import factor_text, measured_factor
from .measures import FACTOR
from .notes import bottom_note, overflow_note, overflow_short, range_words
from .theme import DIVERGING, SEQUENTIAL, base_layout, gate_color

FLAT_TEXT = {
    "tanh": "saturated tanh units: |a| large, tanh′(a) < 0.1, so little gradient passes (%)",
    "sigmoid": "saturated sigmoid units: σ′(a) < 0.1 (it never exceeds 0.25), little gradient passes (%)",
    "relu": "dead ReLU units: a < 0, relu′(a) = 0, so no gradient passes (%)",
    "linear": "linear units never saturate: φ′(a) = 1 everywhere (%)",
}
FLAT_DEFAULT = "share of units on a flat part: little gradient passes (%)"
FLAT_NONE = "no saturation recorded: this cell has no φ between steps, nothing flattens its gradient"


def signed(trace, name: str, values) -> bool:
    """A tanh-like gate (values in -1..1): declared tanh by its cell, or any gate the trace shows going negative."""
    if signed_gate(trace, name):
        return True
    v = gaps(values)
    return bool(np.isfinite(v).any() and np.nanmin(v) < 0)


def hidden_values(trace) -> np.ndarray:
    """The first sequence's hidden states as real numbers (a complex state, e.g. the LRU's, shows its real part)."""
    h = np.asarray(trace.hidden)
    return np.real(h).astype(np.float64) if np.iscomplexobj(h) else h.astype(np.float64)


def _panels(trace):
    """(name, (T, H) values, (lo, hi), colorscale) per subplot."""
    if trace.gates:
        return [(n, v, (-1.0, 1.0), DIVERGING) if signed(trace, n, v) else (n, v, (0.0, 1.0), SEQUENTIAL) for n, v in trace.gates.items()]
    act, hidden = trace.config.activation, hidden_values(trace)
    with_phi = "h" in trace.saturation  # h = φ(a): its range is φ's
    if with_phi and act == "tanh":
        return [("h", hidden, (-1.0, 1.0), DIVERGING)]
    if with_phi and act == "sigmoid":
        return [("h", hidden, (0.0, 1.0), SEQUENTIAL)]
    v = gaps(hidden).astype(np.float32)  # the range of the values as drawn (float32), so the extreme cells sit inside it
    ok = v[np.isfinite(v)]
    lo, hi = (float(ok.min()), float(ok.max())) if ok.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return [("h", hidden, (lo, hi), SEQUENTIAL)]


def _unexplained_gaps(fig: go.Figure, trace, panels) -> None:
    """Non-finite gate or state values in a run whose overflow message is silent: say so, never leave a silent gap."""
    if getattr(trace, "nonfinite", False):
        return  # overflow_note already says where and why
    words = [range_words(trace, values, gate_title(trace, name)) for name, values in panels]
    words = [w for w in words if w]
    if words:
        bottom_note(fig, " ".join(words))


def gate_heatmaps(trace) -> go.Figure:
    """Time x unit heatmaps of each gate (or the RNN's hidden state) on fixed colour ranges."""
    panels = _panels(trace)
    rnn = not trace.gates
    T, H = np.shape(panels[0][1])
    ti, ui = pick_indices(T, MAX_CELLS), pick_indices(H, MAX_CELLS)
    titles = [f"{_hidden_name(trace)} ({_what_h(trace)}, sequence 0)" if rnn else gate_title(trace, n) for n, *_ in panels]
    fig = make_subplots(
        rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.08 if len(panels) > 1 else 0.0, subplot_titles=titles
    )
    axes = {}
    for row, (name, values, (lo, hi), scale) in enumerate(panels, start=1):
        key = "coloraxis" if ((lo, hi), scale) == panels[0][2:] else "coloraxis2"
        axes[key] = (lo, hi, scale, name)
        z = gaps(np.asarray(values)[np.ix_(ti, ui)]).T.astype(np.float32)  # (units, steps); float32 halves the bytes sent
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=ti,
                y=ui,
                coloraxis=key,
                name=gate_title(trace, name),
                hovertemplate=f"{gate_title(trace, name)}<br>step t = %{{x}}<br>unit %{{y}}<br>value %{{z:.6g}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="unit", row=row, col=1)
    for k, (key, (lo, hi, scale, _name)) in enumerate(axes.items()):
        label = f"{_hidden_symbol(trace)} value" if rnn else ("candidate" if lo < 0 else "gate value")
        bar = dict(title=dict(text=label), len=0.45 if len(axes) > 1 else 1.0, y=0.77 - 0.5 * k if len(axes) > 1 else 0.5)
        fig.update_layout({key: dict(cmin=lo, cmax=hi, colorscale=scale, colorbar=bar)})
    fig.update_xaxes(title_text="time step t", row=len(panels), col=1)
    shown = "" if len(ti) == T and len(ui) == H else f" (showing {len(ti)} of {T} steps, {len(ui)} of {H} units)"
    what = (
        ("Output over time" if _hidden_symbol(trace) != "h" else "Hidden state over time")
        if rnn
        else "Gate activations over time (batch mean)"
    )
    base_layout(fig, what + shown, height=170 * len(panels) + 170)
    overflow_note(fig, trace)
    _unexplained_gaps(fig, trace, [(n, v) for n, v, *_ in panels])
    return fig


def gate_curves(trace) -> go.Figure:
    """Unit-mean of each gate against time, and the share of entries on a flat part (in %)."""
    rnn = not trace.gates
    if rnn:
        flat_title = FLAT_TEXT.get(trace.config.activation, FLAT_DEFAULT) if "h" in trace.saturation else FLAT_NONE
        top_title = f"mean {_hidden_symbol(trace)}ₜ over units ({_what_h(trace)}, sequence 0)"
        series = {"h": hidden_values(trace)}
    else:
        top_title, flat_title = "gate value, mean over units and batch", FLAT_DEFAULT
        series = {n: np.asarray(v, dtype=np.float64) for n, v in trace.gates.items()}
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.14, subplot_titles=[top_title, flat_title])
    T = next(iter(series.values())).shape[0]
    steps = np.arange(T)
    mode = "lines+markers" if T <= 60 else "lines"
    for k, (name, values) in enumerate(series.items()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(gaps(values), axis=1) if values.shape[1] else np.full(T, np.nan)
        color, label = gate_color(name, k), gate_title(trace, name)
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=mean,
                mode=mode,
                name=label,
                legendgroup=name,
                line=dict(color=color),
                hovertemplate=f"{label}<br>step %{{x}}<br>mean %{{y:.4g}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        if name not in trace.saturation:
            continue  # this cell records no saturation for it
        flat = gaps(np.asarray(trace.saturation[name], dtype=np.float64) * 100.0)
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=flat,
                mode=mode,
                name=f"{label}: % flat",
                legendgroup=name,
                showlegend=False,
                line=dict(color=color, dash="dot"),
                hovertemplate=f"{label}<br>step %{{x}}<br>%{{y:.1f}} % on a flat part<extra></extra>",
            ),
            row=2,
            col=1,
        )
    if not rnn:
        fig.update_yaxes(range=[-1.05, 1.05], row=1, col=1)
    fig.update_yaxes(title_text="mean", row=1, col=1)
    fig.update_yaxes(title_text="% of units", range=[0, 100], row=2, col=1)
    fig.update_xaxes(title_text="time step t", row=2, col=1)
    plain = "Output over time" if _hidden_symbol(trace) != "h" else "Hidden activity and saturation over time"
    base_layout(fig, plain if rnn else "Gates over time", height=540)
    fig.update_layout(legend=dict(y=1.1), margin=dict(t=110))
    overflow_note(fig, trace)
    _unexplained_gaps(fig, trace, list(series.items()))
    return fig


def _mean(values) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(gaps(values)))


def _what_h(trace) -> str:
    """The cell and its φ, as the hidden-state panels name them: 'tanh' (RNN), 'IndRNN, relu', 'LRU'."""
    cfg = trace.config
    if "h" not in trace.saturation:
        return cell_label(trace) + (", real part" if np.iscomplexobj(trace.hidden) else "")
    return cfg.activation if cfg.cell == "rnn" else f"{cell_label(trace)}, {cfg.activation}"


def _hidden_name(trace) -> str:
    """What trace.hidden holds: the hidden state h, or the output map the cell records instead (the LRU's y)."""
    return recorded(trace)[0]


def _hidden_symbol(trace) -> str:
    return recorded(trace)[1]


def gate_summary(trace) -> str:
    """What the gates (or saturation) do to the gradient, next to the measured factor the Gradient flow tab shows."""
    cfg = trace.config
    measured = _measured_sentence(trace)
    if not trace.gates:
        lead = decay_summary_text(trace) + " " if getattr(trace, "unit_decay", None) is not None else ""
        flat = trace.saturation.get("h")
        if flat is None:
            return f"{lead}The {cell_label(trace)} cell has no gates and no φ between steps: nothing saturates. {measured}"
        if cfg.activation == "linear":
            if lead:
                return f"{lead}Linear φ never saturates (φ′ = 1). {measured}"
            rho = trace.spectral_radius
            return f"A linear RNN never saturates (φ′ = 1): only W_hh shapes the gradient (spectral radius ρ = {rho:.3g}). {measured}"
        share = _mean(flat) * 100
        if not np.isfinite(share):
            return lead + (overflow_short(trace) or "No finite saturation data.") + f" {measured}"  # the page says why, once
        if cfg.activation == "relu":
            return f"{lead}{share:.0f} % of units dead on average (a < 0): no gradient passes through them. {measured}"
        flat_words = f"{share:.0f} % of units saturated on average ({cfg.activation}′(a) < 0.1): little gradient passes through them"
        return f"{lead}{flat_words}. {measured}"
    text = _gate_path_sentence(trace)
    flat = _mean(np.concatenate([np.asarray(s, dtype=np.float64).ravel() for s in trace.saturation.values()] or [np.zeros(0)])) * 100
    flat_text = f" {flat:.0f} % of gate entries sit on a flat part on average." if np.isfinite(flat) else ""
    return f"{measured} {text}{flat_text}".strip()


def _measured_sentence(trace) -> str:
    """The measured per-step factor, worded exactly as the Gradient flow tab words it (one source: gradients.measured_factor)."""
    f, what = measured_factor(trace)
    if f is None:
        return f"No {FACTOR}: fewer than two finite, non-zero values of {what}."
    return f"Measured, {FACTOR}: {what} changes {factor_text(f)} per step back in time."


def _gate_path_sentence(trace) -> str:
    """The direct path's keep factor, named exactly: it is the gate mean, not the factor of the whole gradient."""
    keep = path_keep(trace)  # the path and its factor as the cell declares them (Cell.direct)
    if keep is None:
        return ""
    value, symbol = keep
    where, other = path_words(trace)
    path = f"{where} alone keeps {symbol}"
    if not np.isfinite(value):
        return overflow_short(trace) or "No finite gate data."
    return (
        f"{path[0].upper()}{path[1:]} = {value:.2f} per step on average ({factor_text(value**10)} over 10 steps on that path alone); "
        f"the gradient also flows through {other}, so the total changes by the measured factor, not by the gate mean."
    )
