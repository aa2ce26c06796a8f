"""Gate and hidden-state views: what each gate does over time, and where units go flat."""

from __future__ import annotations

import warnings

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .downsample import MAX_CELLS, gaps, pick_indices
from .theme import COLORS, DIVERGING, GATE_COLORS, GATE_NAMES, SEQUENTIAL, base_layout

TANH_GATES = ("g", "n")  # candidates live in -1..1; every other gate is a sigmoid in 0..1
FLAT_TEXT = {
    "tanh": "saturated tanh units: |a| large, tanh'(a) < 0.1, so little gradient passes (%)",
    "sigmoid": "saturated sigmoid units: sigmoid'(a) < 0.1 (it never exceeds 0.25), little gradient passes (%)",
    "relu": "dead ReLU units: a < 0, relu'(a) = 0, so no gradient passes (%)",
    "linear": "linear units never saturate: phi'(a) = 1 everywhere (%)",
}


def _panels(trace):
    """(name, (T, H) values, (lo, hi), colorscale) per subplot."""
    if trace.gates:
        return [
            (n, v, (-1.0, 1.0) if n in TANH_GATES else (0.0, 1.0), DIVERGING if n in TANH_GATES else SEQUENTIAL)
            for n, v in trace.gates.items()
        ]
    act = trace.config.activation
    if act == "tanh":
        return [("h", trace.hidden, (-1.0, 1.0), DIVERGING)]
    if act == "sigmoid":
        return [("h", trace.hidden, (0.0, 1.0), SEQUENTIAL)]
    v = gaps(trace.hidden)
    ok = v[np.isfinite(v)]
    lo, hi = (float(ok.min()), float(ok.max())) if ok.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return [("h", trace.hidden, (lo, hi), SEQUENTIAL)]


def overflow_note(fig: go.Figure, trace, prefix: str = "Blank = non-finite (overflow). ") -> None:
    """Say in words, under the x axis, why some cells or points are blank, instead of leaving silent gaps."""
    msg = trace.overflow_message()
    if msg:
        text = wrap_words(prefix + msg)
        font = dict(color=COLORS["overflow"], size=12)
        place = dict(xref="paper", yref="paper", x=0, y=0, yshift=-62, xanchor="left", yanchor="top", showarrow=False, align="left")
        fig.add_annotation(text=text, font=font, **place)
        extra = 18 * (text.count("<br>") + 1)
        fig.update_layout(margin=dict(b=70 + extra), height=(fig.layout.height or 420) + extra)


def wrap_words(text: str, width: int = 110) -> str:
    """Break a long message into <br> lines so Plotly annotations stay inside the figure."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + len(word) > width:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def gate_heatmaps(trace) -> go.Figure:
    """Time x unit heatmaps of each gate (or the RNN's hidden state) on fixed colour ranges."""
    panels = _panels(trace)
    rnn = not trace.gates
    T, H = np.shape(panels[0][1])
    ti, ui = pick_indices(T, MAX_CELLS), pick_indices(H, MAX_CELLS)
    titles = [f"{GATE_NAMES[n]} ({trace.config.activation}, sequence 0)" if rnn else GATE_NAMES[n] for n, *_ in panels]
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
                name=GATE_NAMES[name],
                hovertemplate=f"{GATE_NAMES[name]}<br>step t = %{{x}}<br>unit %{{y}}<br>value %{{z:.6g}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="unit", row=row, col=1)
    for k, (key, (lo, hi, scale, name)) in enumerate(axes.items()):
        label = "h value" if rnn else ("candidate" if name in TANH_GATES else "gate value")
        bar = dict(title=dict(text=label), len=0.45 if len(axes) > 1 else 1.0, y=0.77 - 0.5 * k if len(axes) > 1 else 0.5)
        fig.update_layout({key: dict(cmin=lo, cmax=hi, colorscale=scale, colorbar=bar)})
    fig.update_xaxes(title_text="time step t", row=len(panels), col=1)
    shown = "" if len(ti) == T and len(ui) == H else f" (showing {len(ti)} of {T} steps, {len(ui)} of {H} units)"
    what = "Hidden state over time" if rnn else "Gate activations over time (batch mean)"
    base_layout(fig, what + shown, height=170 * len(panels) + 170)
    overflow_note(fig, trace)
    return fig


def gate_curves(trace) -> go.Figure:
    """Unit-mean of each gate against time, and the share of entries on a flat part (in %)."""
    rnn = not trace.gates
    if rnn:
        top_title, flat_title = "mean h_t over units (sequence 0)", FLAT_TEXT[trace.config.activation]
        series = {"h": np.asarray(trace.hidden)}
    else:
        top_title, flat_title = "gate value, mean over units and batch", "share of units on a flat part: little gradient passes (%)"
        series = {n: np.asarray(v) for n, v in trace.gates.items()}
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.14, subplot_titles=[top_title, flat_title])
    T = next(iter(series.values())).shape[0]
    steps = np.arange(T)
    mode = "lines+markers" if T <= 60 else "lines"
    for name, values in series.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(gaps(values), axis=1) if values.shape[1] else np.full(T, np.nan)
        color = GATE_COLORS[name]
        label = GATE_NAMES[name]
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
    base_layout(fig, "Hidden activity and saturation over time" if rnn else "Gates over time", height=540)
    fig.update_layout(legend=dict(y=1.1), margin=dict(t=110))
    overflow_note(fig, trace)
    return fig


def _mean(values) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(gaps(values)))


def gate_summary(trace) -> str:
    """One or two plain sentences on what the gates (or saturation) do to the gradient."""
    cfg = trace.config
    if cfg.cell == "rnn":
        if cfg.activation == "linear":
            return f"A linear RNN never saturates (phi' = 1): only W_hh shapes the gradient (spectral radius {trace.spectral_radius:.3g})."
        share = _mean(trace.saturation["h"]) * 100
        if not np.isfinite(share):
            return trace.overflow_message() or "No saturation data."
        if cfg.activation == "relu":
            return f"{share:.0f} % of units dead on average (a < 0): no gradient passes through them."
        return f"{share:.0f} % of units saturated on average ({cfg.activation}'(a) < 0.1): little gradient passes through them."
    value = _mean(trace.gates["f" if cfg.cell == "lstm" else "z"])
    if not np.isfinite(value):
        return trace.overflow_message() or "No gate data."
    flat = _mean(np.concatenate([np.asarray(s, dtype=np.float64) for s in trace.saturation.values()])) * 100
    pct = f"{value * 100:.0f} %"
    if cfg.cell == "lstm":
        text = f"Forget gate mean {value:.2f}: the cell state keeps about {pct} of itself per step, so ||dL/dc||"
    else:
        text = f"Update gate mean {value:.2f}: each step copies about {pct} of h_(t-1) straight through, so on that path ||dL/dh||"
    text += f" shrinks roughly x{value:.2f} per step (x{value**10:.2g} over 10 steps)."
    return text + f" {flat:.0f} % of gate entries sit on a flat part on average."
