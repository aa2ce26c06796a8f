"""How the gradient flows back in time through one BPTT pass: ||dL/dh_t|| against t, and what W_hh learns from."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from .downsample import log_gaps, pick_indices
from .theme import COLORS, base_layout, log_ticks
from .truncation import block_ends, horizon_span

MAX_LINES = 100  # truncation block ends drawn as lines; more would only paint the chart pink
INK = "#1f2933"
LINE_PX = 17  # height of one line of note text (13 px font), as frame() reserves it
PLOT_PX = 290  # height of frame()'s plot area: 480 px less the margins
_NOTE = dict(showarrow=False, align="left", bgcolor="rgba(255,255,255,0.85)", borderpad=4)


def decay_summary(trace) -> str:
    """The fitted factor per step back in time in words, plus the theory verdict for vanilla RNNs."""
    return ". ".join(_decay_parts(trace)) + "."


def grad_norm_curve(trace) -> go.Figure:
    """||dL/dh_t|| (with its batch band, the cell state, the theory bound) on a log axis against t."""
    T = len(trace.grad_h)
    x = pick_indices(T)
    fig = go.Figure()
    band = getattr(trace, "grad_h_band", None)
    if band is not None and len(band) == T:
        band = np.asarray(band, dtype=np.float64)  # (T, 2); _curve picks the shown steps
        _curve(fig, x, band[:, 0], "10th percentile", None, showlegend=False)
        _curve(fig, x, band[:, 1], "10-90 % of the batch", None, fill="tonexty", fillcolor=rgba(COLORS["grad_h"], 0.18))
    _curve(fig, x, trace.grad_h, "||dL/dh_t|| (batch mean)", COLORS["grad_h"], width=2.5)
    if trace.grad_c is not None:
        _curve(fig, x, trace.grad_c, "||dL/dc_t|| (cell state)", COLORS["grad_c"])
    if trace.grad_h_last is not None:
        _curve(fig, x, trace.grad_h_last, "||d loss_{T-1}/dh_t|| (the last step's loss alone)", COLORS["last"])
    if trace.bound is not None:
        _curve(fig, x, trace.bound, "bound (gamma * sigma_max)^(s-t)", COLORS["bound"], dash="dash")
    steps = np.asarray(trace.loss_steps, dtype=np.int64)
    if 0 < len(steps) < T or T == 1:  # with a loss at every step, markers would only hide the curve
        steps = steps[pick_indices(len(steps), 100)]
        y = log_gaps(np.asarray(trace.grad_h, dtype=np.float64)[steps])
        marker = dict(color=COLORS["loss"], size=8, symbol="diamond")
        fig.add_scatter(
            x=steps, y=y, mode="markers", name="step with a loss", marker=marker, hovertemplate="loss at t = %{x}<extra></extra>"
        )
    shapes, notes = _marks(trace, T)
    # Above the plot area, under the title: inside it the box hid the bound and the curve's high end.
    text = "<br>".join(wrap_text(part, 110) for part in _decay_parts(trace))
    notes.insert(0, note_annotation(text, 0.0, 1.0, "left", "bottom"))
    notes += zero_notes(trace, trace.grad_h, "||dL/dh_t||")
    above = stack_above(notes)
    fig.update_layout(shapes=shapes, annotations=notes)
    base_layout(fig, "How the gradient flows back in time: ||dL/dh_t|| at each step t", "time step t", "gradient norm (log scale)")
    frame(fig, above)
    fig.update_xaxes(range=[-0.5, T - 0.5])
    fig.update_yaxes(type="log", exponentformat="power", **log_ticks(*(d.y for d in fig.data), plot_px=PLOT_PX))
    return fig


def contrib_bars(trace, log: bool = True) -> go.Figure:
    """Bars of ||step t's term of dL/dW_hh||: which time steps the weight update actually learns from."""
    T = len(trace.contrib)
    x = pick_indices(T)
    c = np.asarray(trace.contrib, dtype=np.float64)[x]
    y = log_gaps(c) if log else np.where(np.isfinite(c), c, np.nan)
    hover = "t = %{x}<br>||term t of dL/dW_hh|| = %{y:.6g}<extra></extra>"
    bars = go.Bar(x=x, y=y, name="||step t's term of dL/dW_hh||", marker=dict(color=COLORS["contrib"]), hovertemplate=hover)
    fig = go.Figure(bars)
    shapes, notes = _marks(trace, T)
    if log:
        notes += zero_notes(trace, trace.contrib, "the term", top=True)
    above = stack_above(notes)
    fig.update_layout(shapes=shapes, annotations=notes, bargap=0.1)
    base_layout(fig, "Which time steps the W_hh update learns from", "time step t", "||step t's term of dL/dW_hh||")
    frame(fig, above)
    fig.update_xaxes(range=[-0.5, T - 0.5])
    if log:
        fig.update_yaxes(type="log", exponentformat="power")
    return fig


def truncation_marks(trace, T: int) -> tuple[list, list]:
    """Dashed lines where truncated-BPTT blocks end (as in engine.bptt.truncation_blocks), plus a label."""
    tbptt = getattr(trace.config, "tbptt", None)
    if not tbptt:
        return [], []
    k1, k2 = tbptt
    ends = block_ends(T, tbptt)
    label = f"truncated BPTT: detach every {k1} steps" if k1 == k2 else f"TBPTT({k1}, {k2}): every {k1} steps, back {k2} steps"
    if len(ends) > MAX_LINES:
        label += f" ({len(ends)} block ends, too many to draw)"
        ends = []
    shapes = [vline_shape(e + 0.5, COLORS["truncation"], dash="dash") for e in ends]
    return shapes, [note_annotation(label, x=0.01, y=0.01, anchor="left", yanchor="bottom", color=COLORS["truncation"])]


def overflow_marks(trace, xref: str = "x") -> tuple[list, list]:
    """Red lines at the first non-finite steps and the engine's overflow message above the plot."""
    message = trace.overflow_message() if getattr(trace, "nonfinite", False) else None
    if message is None:
        return [], []
    red = COLORS["overflow"]
    shapes, notes = [], [note_annotation("<b>" + wrap_text(message) + "</b>", 0.0, 1.0, "left", "bottom", red, border=True)]
    lines = (
        (trace.overflow_step, "h_t non-finite from here on", "left"),
        (trace.overflow_grad_step, "gradient non-finite from here back", "right"),
    )
    for step, label, side in lines:
        if step is not None:
            shapes.append(vline_shape(step, red, width=2, xref=xref))
            notes.append(note_annotation(label, step, 0.5, side, "middle", red, xref=xref, textangle=-90 if side == "left" else 90))
    return shapes, notes


def zero_notes(trace, values, what: str, top: bool = False) -> list:
    """Zeros cannot sit on a log axis: say where they are instead of letting them vanish silently."""
    v = np.asarray(values, dtype=np.float64)
    zeros = np.nonzero(v == 0)[0]
    if not len(zeros):
        return []
    if getattr(trace.config, "tbptt", None):
        text = f"{what} = 0 beyond the truncation horizon ({len(zeros)} of {len(v)} steps, not drawn on the log axis)"
    elif list(zeros) == [0] and what == "the term":
        text = "the term at t = 0 is 0 (h_{-1} = 0), not drawn on the log axis"
    else:
        text = f"{what} is exactly 0 at {len(zeros)} of {len(v)} steps (underflow or no path to a loss), not drawn on the log axis"
    y, yanchor = (0.99, "top") if top else (0.08, "bottom")
    return [note_annotation(text, x=0.01, y=y, anchor="left", yanchor=yanchor, color=COLORS["truncation"])]


def note_annotation(text: str, x: float, y: float, anchor="left", yanchor="top", color=INK, border=False, **refs) -> dict:
    """A readable text box, in paper coordinates (0..1) of the plot area unless xref/yref say otherwise."""
    box = dict(bordercolor=color, borderwidth=1) if border else {}
    where = dict(xref="paper", yref="paper", xanchor=anchor, yanchor=yanchor, **box) | refs
    return dict(_NOTE, text=text, x=x, y=y, font=dict(size=13, color=color), **where)


def frame(fig: go.Figure, notes_above: int = 0, height: int = 480, legend: bool = True) -> go.Figure:
    """Legend below the plot, and room above it for a message of `notes_above` lines (call after base_layout)."""
    margin = dict(t=70 + LINE_PX * notes_above, b=120 if legend else 60)
    legend_below = dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0.0, traceorder="normal")
    total = height + LINE_PX * notes_above
    title = dict(y=1 - 35 / total, yanchor="middle")  # where a 70 px margin centres it, not pushed down onto the notes
    return fig.update_layout(height=total, margin=margin, legend=legend_below, title=title)


def stack_above(notes: list) -> int:
    """Stack the notes placed above the plot area (first one nearest the plot) so none covers another; lines they need."""
    lines = 0
    for note in notes:
        if note.get("yref") == "paper" and note.get("y", 0) >= 1 and note.get("yanchor") == "bottom":
            note["yshift"] = LINE_PX * lines
            lines += note["text"].count("<br>") + 2  # its lines plus a gap
    return lines


lines_above = stack_above  # the name viz.connectivity imports


def vline_shape(x: float, color: str, dash: str = "solid", width: float = 1.5, xref: str = "x", yref: str = "paper") -> dict:
    """A vertical line over the whole plot height at data coordinate x."""
    return dict(type="line", x0=x, x1=x, y0=0, y1=1, xref=xref, yref=yref, line=dict(color=color, dash=dash, width=width), layer="above")


def wrap_text(text: str, width: int = 90) -> str:
    """Break long messages into <br>-separated lines so annotations stay inside the figure."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join(lines + [line])


def rgba(hex_color: str, alpha: float) -> str:
    """'#2563eb' -> 'rgba(37,99,235,alpha)' for translucent fills."""
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def sci(v: float) -> str:
    """Compact magnitude: '0.25', '7e-10', '8e4'."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    if 1e-2 <= abs(v) < 1e3:
        return f"{v:.2g}"
    e = math.floor(math.log10(abs(v)))
    m = round(abs(v) / 10**e)
    if m == 10:
        m, e = 1, e + 1
    return f"{'-' if v < 0 else ''}{m}e{e}"


def _marks(trace, T):
    (s1, n1), (s2, n2) = truncation_marks(trace, T), overflow_marks(trace)
    return s1 + s2, n1 + n2


def _curve(fig, x, values, name, color, dash="solid", width=2.0, **kw):
    line = dict(color=color, width=width, dash=dash) if color else dict(width=0)
    hover = f"t = %{{x}}<br>{name} = %{{y:.4e}}<extra></extra>" if color else None
    fig.add_scatter(x=x, y=log_gaps(np.asarray(values, dtype=np.float64)[x]), mode="lines", name=name, line=line, hovertemplate=hover, **kw)
    if not color:
        fig.data[-1].hoverinfo = "skip"


def _decay_parts(trace) -> list[str]:
    T = len(trace.grad_h)
    f = trace.decay_factor
    if f is None or not math.isfinite(f) or f <= 0:
        if T < 2:
            parts = ["One time step only: there is no change per step to fit"]
        elif not np.isfinite(np.asarray(trace.grad_h if trace.grad_h_last is None else trace.grad_h_last, float)).any():
            parts = ["No decay factor: every ||dL/dh_t|| overflowed, nothing finite to fit"]
        else:
            parts = ["No decay factor: fewer than two finite, non-zero values of ||dL/dh_t|| to fit"]
    else:
        span = horizon_span(T, getattr(trace.config, "tbptt", None))
        n = min(100, span - 1)
        with np.errstate(over="ignore"):
            total = math.exp(min(n * math.log(f), 700.0))
        verdict = "about constant (stable)" if abs(f - 1) <= 0.01 else ("vanishing" if f < 1 else "exploding")
        factor = f"{f:.2f}" if 0.1 <= f < 100 else sci(f)
        parts = [f"x{factor} per step back in time: {verdict}, {sci(total)} after {n} steps"]
        if trace.grad_h_last is not None:
            parts[0] += " (fitted on the last step's loss alone: every step carries a loss)"
        if span < T:
            parts[0] += f"; exactly 0 beyond the truncation horizon, {span} steps back"
    gamma, smax = getattr(trace, "gamma", None), getattr(trace, "sigma_max", None)
    if gamma is not None and smax is not None and math.isfinite(gamma * smax):
        gs = gamma * smax
        if gs < 0.995:
            parts.append(f"Theory: gamma*sigma_max = {gs:.3g} < 1: vanishing guaranteed")
        elif gs > 1.005:
            parts.append(f"Theory: gamma*sigma_max = {gs:.3g} > 1: exploding possible")
        else:
            parts.append(f"Theory: gamma*sigma_max = {gs:.3g}, about 1: the bound stays flat, neither vanishing nor exploding is forced")
    return parts
