"""The network unfolded in time, with the measured gradient on every backward edge, and one cell up close."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from .cell_info import signed_gate
from .diagonal_cell import diagonal_cell_diagram
from .notes import NOTE_PX, bottom_note, overflow_note, range_words, sci
from .theme import COLORS, DIVERGING, SEQUENTIAL, base_layout, phone_layout
from .truncation import blocks

ZERO = "#cbd5e1"  # faint grey: no gradient crosses this edge
EDGE = "#9ca3af"  # forward edges
INK = "#1f2933"
MIN_W, MAX_W = 1.0, 9.0  # arrow widths of the smallest and the largest gradient on screen
PHONE_STEPS = 12  # steps a phone-sized chart shows: ~25 px each, where 40 made a smear
HEIGHT = 540  # four rows of nodes and arrows, each tall enough to read from the back of a room
ROW = {"x": 0.0, "h": 1.0, "back": 1.45, "y": 2.2}  # heights of the rows; backward arrows run above h


def flow(trace):
    """passes[t]: some loss's gradient goes on from h_t to h_{t-1}; cuts: steps it reaches but stops at."""
    T = len(trace.grad_h)
    reached, passes = np.zeros(T, bool), np.zeros(T, bool)
    losses = np.asarray(trace.loss_steps, dtype=int)
    for end, lo, first in blocks(trace):
        mine = losses[(losses >= first) & (losses <= end)]
        if mine.size:
            reached[lo : mine.max() + 1] = True
            passes[lo + 1 : mine.max() + 1] = True
    return passes, [t for t in range(1, T) if reached[t] and not passes[t]]


def _scale(g: np.ndarray):
    """Position 0..1 of each gradient on a log scale over the finite positive values, and that log10 range."""
    good = np.isfinite(g) & (g > 0)
    if not good.any():
        return np.zeros_like(g), (0.0, 1.0)
    lg = np.log10(np.where(good, g, 1.0))
    lo, hi = float(lg[good].min()), float(lg[good].max())
    if hi <= lo:
        return np.where(good, 0.5, 0.0), (lo - 0.5, lo + 0.5)
    return np.where(good, (lg - lo) / (hi - lo), 0.0), (lo, hi)


def _exact(v) -> str:
    return str(v)  # a numpy scalar prints its shortest exact repr for its own dtype


def _seg(x0, x1, y0, y1, line: dict, name: str) -> dict:
    return dict(type="line", x0=x0, x1=x1, y0=y0, y1=y1, line=line, name=name)


def _edge(passing: bool, g: float, frac: float, color: str):
    """(colour, width, dash) of the backward arrow h_t -> h_{t-1}."""
    if not passing:
        return ZERO, MIN_W, "dash"
    if not np.isfinite(g):
        return COLORS["overflow"], MAX_W, "solid"
    if g == 0:
        return ZERO, MIN_W, "dash"
    return color, MIN_W + (MAX_W - MIN_W) * frac, "solid"


def unrolled_graph(trace, max_steps: int = 40) -> go.Figure:
    """x_t, h_t, y_t unfolded in time; backward arrows h_t -> h_{t-1} coloured and sized by ||dL/dh_t||."""
    grad = np.asarray(trace.grad_h)
    T = len(grad)
    start = max(0, T - max(int(max_steps), 1))
    steps = np.arange(start, T)
    g = grad[steps].astype(np.float64)
    passes, cuts = flow(trace)
    cuts = [c for c in cuts if c >= start]
    frac, rng = _scale(g)
    colors = sample_colorscale(SEQUENTIAL, list(frac))
    losses = set(int(s) for s in trace.loss_steps)
    fig = go.Figure()
    seg = [((t, ROW["x"] + 0.15), (t, ROW["h"] - 0.15)) for t in steps]  # forward: x_t -> h_t
    seg += [((t - 0.8, ROW["h"]), (t - 0.2, ROW["h"])) for t in steps if t > 0]  # h_{t-1} -> h_t
    seg += [((t, ROW["h"] + 0.15), (t, ROW["y"] - 0.15)) for t in steps if t in losses]  # h_t -> y_t
    xs = [v for a, b in seg for v in (a[0], b[0], None)]
    ys = [v for a, b in seg for v in (a[1], b[1], None)]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=EDGE, width=1.2), name="forward", hoverinfo="skip"))
    back = [i for i, t in enumerate(steps) if t > 0]
    styles = [_edge(bool(passes[steps[i]]), g[i], frac[i], colors[i]) for i in back]
    y = ROW["back"]
    shapes = [  # one line per backward edge h_t -> h_{t-1}: at most max_steps of them
        _seg(steps[i] - 0.2, steps[i] - 0.75, y, y, dict(color=c, width=w, dash=d), f"backward t={steps[i]}")
        for i, (c, w, d) in zip(back, styles, strict=True)
    ]
    if back:
        fig.add_trace(
            go.Scatter(
                x=[steps[i] - 0.8 for i in back],
                y=[y] * len(back),
                mode="markers",
                name="backward (BPTT)",
                marker=dict(symbol="triangle-left", size=11, color=[s[0] for s in styles]),
                customdata=[[int(steps[i]), int(steps[i]) - 1, _exact(grad[steps[i]])] for i in back],
                hovertemplate="h<sub>%{customdata[0]}</sub>→h<sub>%{customdata[1]}</sub><br>‖∂L/∂hₜ‖ = %{customdata[2]}<extra></extra>",
            )
        )
    window = f"<br>steps {start}–{T - 1}" if start > 0 else ""
    _nodes(fig, steps, g, grad, rng, losses, f"log₁₀ ‖∂L/∂hₜ‖{window}")
    if start > 0:
        more = dict(name="earlier steps", hovertext=[f"{start} earlier steps not drawn"], hoverinfo="text", textfont=dict(size=26))
        fig.add_trace(go.Scatter(x=[start - 1], y=[ROW["h"]], mode="text", text=["…"], **more))
    line = dict(color=COLORS["truncation"], width=2, dash="dash")
    shapes += [_seg(t - 0.5, t - 0.5, -0.4, ROW["y"] + 0.3, line, f"truncation t={t}") for t in cuts]
    # Row labels sit in the left margin, clear of the first arrow whatever the number of steps.
    label = dict(xref="paper", x=0, xanchor="right", xshift=-10, showarrow=False, font=dict(size=15))
    rows = [(ROW[k], f"{k}<sub>t</sub>") for k in ("x", "h", "y")] + [(y, "← ∂L/∂h<sub>t</sub>")]
    notes = [dict(label, y=row, text=text) for row, text in rows]
    if cuts:
        font = dict(color=COLORS["truncation"], size=NOTE_PX)
        text = "truncation: gradient stops here"
        notes.append(dict(x=max(cuts) - 0.5, y=ROW["y"] + 0.3, text=text, showarrow=False, yanchor="bottom", xanchor="right", font=font))
    title = "Unrolled network: BPTT carries ‖∂L/∂hₜ‖ backwards"
    sub = "arrow colour and width: ‖∂L/∂hₜ‖; grey dashed: no gradient crosses"
    if getattr(trace, "unit_decay", None) is not None and "h" not in trace.saturation:
        sub += "; complex hₜ: the norm over its real and imaginary parts"
    wide = sub
    if start > 0:
        wide += f"; showing the last {T - start} of {T} steps (where the loss sits)"
    base_layout(fig, f"{title}<br><sup>{wide}</sup>", height=HEIGHT)
    fig.update_layout(shapes=shapes, annotations=notes, showlegend=False, margin=dict(l=110, t=90))
    overflow_note(fig, trace, prefix="")
    words = range_words(trace, g, "‖∂L/∂hₜ‖ on screen")
    if words and "exceed" in words:  # non-finite ones are red nodes and the overflow message already says why
        bottom_note(fig, words)
    if start > 0:
        bottom_note(fig, window_words(grad, start), color=INK)
    fig.update_xaxes(range=[start - (1.6 if start > 0 else 0.6), T - 0.3], title_text="time step t", showgrid=False, zeroline=False)
    fig.update_yaxes(range=[-0.5, ROW["y"] + 0.8], visible=False)
    if T - start > PHONE_STEPS:  # a phone draws fewer steps, each wide enough to tell apart (the rest lie beyond the axis)
        phone = sub + f"; showing the last {PHONE_STEPS} of {T} steps (where the loss sits)"
        patch = {"layout.xaxis.range": [T - PHONE_STEPS - 0.6, T - 0.3], "layout.title.text": f"<b>{title}<br><sup>{phone}</sup></b>"}
        if start > 0:  # the window note, last of the notes: what a phone shows of the window
            patch[f"layout.annotations[{len(fig.layout.annotations) - 1}].text"] = window_words(grad, start, PHONE_STEPS)
        phone_layout(fig, patch)
    return fig


def window_words(grad, start: int, shown: int | None = None) -> str:
    """A long run drawn in part: which steps are shown, and that the colours span those steps only, with the whole range.

    shown: a phone's narrower view, the last `shown` steps of the window that sets the colours.
    """
    g = np.asarray(grad, dtype=np.float64)
    T = len(g)
    first = start if shown is None else T - shown
    span = "these steps only" if shown is None else f"steps {start}–{T - 1}"

    def extent(v, offset):
        ok = np.nonzero(np.isfinite(v) & (v > 0))[0]
        if not ok.size:
            return "no finite, non-zero value"
        lo, hi = ok[np.argmin(v[ok])], ok[np.argmax(v[ok])]
        return f"{sci(float(v[lo]))} (t = {lo + offset}) to {sci(float(v[hi]))} (t = {hi + offset})"

    return (
        f"Shown: steps {first}–{T - 1}, the last {T - first} of {T}. Colours and widths span {span}: "
        f"‖∂L/∂hₜ‖ from {extent(g[start:], start)}; over all {T} steps it runs from {extent(g, 0)}. "
        "The Gradient flow tab draws every step."
    )


def _nodes(fig, steps, g, grad, rng, losses, bar_title="log₁₀ ‖∂L/∂hₜ‖"):
    """x, h and y nodes; the h nodes carry the colour bar and the exact gradient on hover."""
    marker = dict(size=12, color="#e5e7eb", line=dict(color=EDGE, width=1))
    hover = "x<sub>%{x}</sub> (input)<extra></extra>"
    fig.add_trace(go.Scatter(x=steps, y=[ROW["x"]] * len(steps), mode="markers", name="input xₜ", marker=marker, hovertemplate=hover))
    ys = [t for t in steps if t in losses]
    marker = dict(size=13, symbol="square", color=COLORS["loss"])
    hover = "y<sub>%{x}</sub>: a loss at step %{x}<extra></extra>"
    fig.add_trace(
        go.Scatter(x=ys, y=[ROW["y"]] * len(ys), mode="markers", name="output yₜ with a loss", marker=marker, hovertemplate=hover)
    )
    finite = np.isfinite(g)
    pos = finite & (g > 0)
    bar = dict(colorscale=SEQUENTIAL, cmin=rng[0], cmax=rng[1], colorbar=dict(title=dict(text=bar_title), len=0.8))
    groups = [
        ("hₜ: ‖∂L/∂hₜ‖", pos, dict(color=np.log10(np.where(pos, g, 1.0))[pos], showscale=bool(pos.any()), **bar)),
        ("hₜ: zero gradient", finite & ~pos, dict(color=ZERO)),
        ("hₜ: non-finite gradient (overflow)", ~finite, dict(color=COLORS["overflow"])),
    ]
    for k, (name, mask, marker) in enumerate(groups):
        if k and not mask.any():
            continue
        idx = np.nonzero(mask)[0]
        fig.add_trace(
            go.Scatter(
                x=steps[idx],
                y=[ROW["h"]] * len(idx),
                mode="markers",
                name=name,
                marker=dict(size=18, line=dict(color=INK, width=1), **marker),
                customdata=[[int(steps[i]), _exact(grad[steps[i]])] for i in idx],
                hovertemplate="h<sub>%{customdata[0]}</sub><br>t = %{customdata[0]}<br>‖∂L/∂hₜ‖ = %{customdata[1]}<extra></extra>",
            )
        )


# The cell pictures as tables: pointwise ops (x, y, symbol), arrows (x0, y0, x1, y1), gate boxes (name, x) at y = 2,
# labels (x, y, text, anchor) and plain lines (x0, y0, x1, y1). Gate boxes are fed from the input bus at y = 0.7.
DIAGRAMS = {
    "lstm": dict(
        ops=[(2.5, 4.6, "×"), (4.5, 4.6, "+"), (4.5, 3.4, "×"), (7.8, 3.4, "tanh"), (7.8, 2.0, "×")],
        arrows=[(0.75, 4.6, 2.22, 4.6), (2.78, 4.6, 4.22, 4.6), (4.78, 4.6, 9.2, 4.6), (2.5, 2.4, 2.5, 4.32), (3.9, 2.4, 4.3, 3.2)]
        + [(5.1, 2.4, 4.7, 3.2), (4.5, 3.68, 4.5, 4.32), (7.8, 4.6, 7.8, 3.76), (7.8, 3.04, 7.8, 2.28), (7.05, 2.0, 7.52, 2.0)]
        + [(8.08, 2.0, 9.2, 2.0), (1.4, -0.15, 1.4, 0.68)],
        gates=[("f", 2.5), ("i", 3.9), ("g", 5.1), ("o", 6.6)],
        labels=[(0.2, 4.6, "c<sub>t-1</sub>", "left"), (9.8, 4.6, "c<sub>t</sub>", "right"), (9.8, 2.0, "h<sub>t</sub>", "right")]
        + [(0.2, 0.7, "h<sub>t-1</sub>", "left"), (1.4, -0.4, "x<sub>t</sub>", "center")],
        lines=[(0.75, 0.7, 6.6, 0.7)],
    ),
    "gru": dict(
        ops=[(3.0, 4.6, "×"), (6.5, 4.6, "+"), (4.6, 3.4, "1-"), (6.5, 3.4, "×")],
        arrows=[(0.75, 4.6, 2.72, 4.6), (3.28, 4.6, 6.22, 4.6), (6.78, 4.6, 9.2, 4.6), (3.0, 2.4, 3.0, 4.32), (3.0, 3.4, 4.24, 3.4)]
        + [(4.96, 3.4, 6.22, 3.4), (5.45, 2.0, 6.05, 2.0), (6.5, 2.4, 6.5, 3.12), (6.5, 3.68, 6.5, 4.32), (0.9, 4.55, 0.9, 0.75)]
        + [(1.4, -0.15, 1.4, 0.68)],
        gates=[("z", 3.0), ("r", 5.0), ("n", 6.5)],
        labels=[(0.2, 4.6, "h<sub>t-1</sub>", "left"), (9.8, 4.6, "h<sub>t</sub>", "right"), (1.4, -0.4, "x<sub>t</sub>", "center")],
        lines=[(0.9, 0.7, 6.5, 0.7)],
    ),
    "rnn": dict(
        ops=[(3.0, 2.3, "+")],
        arrows=[(0.8, 2.3, 2.72, 2.3), (3.0, 0.0, 3.0, 2.02), (3.28, 2.3, 3.9, 2.3), (6.5, 2.3, 9.2, 2.3)],
        gates=[],
        labels=[(0.2, 2.3, "h<sub>t-1</sub>", "left"), (9.8, 2.3, "h<sub>t</sub>", "right"), (3.0, -0.3, "x<sub>t</sub>", "center")]
        + [(1.7, 2.65, "W<sub>hh</sub> h<sub>t-1</sub>", "center"), (3.45, 1.0, "W<sub>ih</sub> x<sub>t</sub> + b", "left")],
        lines=[],
    ),
}


def _generic(cell: str) -> dict:
    """The RNN picture with the recurrence named neutrally, for cells that have no drawing of their own."""
    spec = dict(DIAGRAMS["rnn"])
    spec["labels"] = [lab if "W<sub>hh</sub>" not in lab[2] else (*lab[:2], f"{cell} recurrence", lab[3]) for lab in spec["labels"]]
    return spec


def _text(x, y, text, size=14, color=INK, anchor="center") -> dict:
    return dict(x=x, y=y, text=text, showarrow=False, xanchor=anchor, font=dict(size=size, color=color))


def _fill(value: float, tanh: bool):
    """Box colour from the theme's colour scales, and black or white text that stays readable on it."""
    if not np.isfinite(value):
        return COLORS["overflow"], "#ffffff"
    color = sample_colorscale(DIVERGING if tanh else SEQUENTIAL, [float(np.clip((value + 1) / 2 if tanh else value, 0, 1))])[0]
    r, g, b = (float(c) for c in color[color.index("(") + 1 : -1].split(","))
    return color, INK if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


def _mean_at(values, step: int) -> float:
    with np.errstate(all="ignore"):
        row = np.asarray(values[step], dtype=np.float64)
        return float(row.mean()) if row.size else float("nan")


def cell_diagram(trace, step) -> go.Figure:
    """One cell at time step `step`: gates coloured by their mean value there, and the gradient measured there."""
    T = len(trace.grad_h)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step < T:
        raise ValueError(f"step must be an integer from 0 to {T - 1} (got {step!r})")
    step, cell = int(step), trace.config.cell
    if getattr(trace, "unit_decay", None) is not None:  # a diagonal cell: its own picture and each unit's factor
        return diagonal_cell_diagram(trace, step)
    spec = DIAGRAMS.get(cell) or _generic(cell)  # a cell without a drawing of its own: the plain recurrence
    shapes = [_seg(x0, x1, y0, y1, dict(color=EDGE, width=2), "input bus") for x0, y0, x1, y1 in spec["lines"]]
    arrow = dict(xref="x", yref="y", axref="x", ayref="y", text="", arrowhead=2, arrowwidth=2, arrowcolor=EDGE)
    notes = [dict(x=x1, y=y1, ax=x0, ay=y0, **arrow) for x0, y0, x1, y1 in spec["arrows"] + [(x, 0.7, x, 1.6) for _, x in spec["gates"]]]
    for x, y, symbol in spec["ops"]:
        r = 0.28 if len(symbol) == 1 else 0.36
        shapes.append(dict(type="circle", x0=x - r, x1=x + r, y0=y - r, y1=y + r, line=dict(color="#52606d"), fillcolor="#ffffff"))
        notes.append(_text(x, y, symbol, size=16 if len(symbol) == 1 else NOTE_PX))
    notes += [_text(x, y, text, anchor=anchor) for x, y, text, anchor in spec["labels"]]
    boxes = []  # (x, y, half width, half height, text, fill, ink, name)
    for name, x in spec["gates"]:
        value = _mean_at(trace.gates[name], step)
        boxes.append((x, 2.0, 0.45, 0.4, f"<b>{name}</b><br>{value:.3f}", *_fill(value, signed_gate(trace, name)), f"gate {name}"))
    plain = not spec["gates"]
    if plain:
        act = trace.config.activation if cell == "rnn" else cell
        flat = trace.saturation.get("h")
        share = float(np.asarray(flat)[step]) * 100 if flat is not None else None
        word = {"relu": "dead", "linear": "flat"}.get(act, "saturated")
        fill = "#f1f5f9" if share is None or np.isfinite(share) else COLORS["overflow"]
        text = f"<b>{act}</b>" + (f"<br>{word}: {share:.0f} % of units" if share is not None else "")
        boxes.append((5.2, 2.3, 1.3, 0.6, text, fill, INK, f"activation {act}"))
    for x, y, w, h, text, fill, ink, name in boxes:
        shapes.append(dict(type="rect", x0=x - w, x1=x + w, y0=y - h, y1=y + h, line=dict(color=INK), fillcolor=fill, name=name))
        notes.append(_text(x, y, text, color=ink))
    if trace.grad_c is not None:
        dc = f"‖∂L/∂c<sub>t</sub>‖ = {float(np.asarray(trace.grad_c)[step]):.4g}"
        notes.append(_text(9.8, 5.15, dc, NOTE_PX, COLORS["grad_c"], "right"))
    dh = f"‖∂L/∂h<sub>t</sub>‖ = {float(np.asarray(trace.grad_h)[step]):.4g}"
    notes.append(_text(9.8, 1.75 if plain else 1.45, dh, NOTE_PX, COLORS["grad_h"], "right"))
    if step in set(int(s) for s in trace.loss_steps):
        notes.append(_text(9.8, 3.0 if plain else 5.6, "a loss sits at this step", NOTE_PX, COLORS["loss"], "right"))
    plain_sub = "share of units with φ′(a) < 0.1: little gradient passes" if "h" in trace.saturation else "a cell without gates"
    sub = plain_sub if plain else "box colour and number: gate value, mean over batch and units"
    fig = base_layout(go.Figure(), f"{cell.upper()} cell at time step t = {step}<br><sup>{sub}</sup>", height=440)
    fig.update_layout(shapes=shapes, annotations=notes, showlegend=False, margin=dict(l=20, r=20, t=80, b=20))
    fig.update_xaxes(range=[-0.1, 10.1], visible=False)
    fig.update_yaxes(range=[-0.7, 4.0 if plain else 5.9], visible=False)
    overflow_note(fig, trace, prefix="")
    return fig
