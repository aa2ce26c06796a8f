"""The backward pass, played: the gradient leaves the last loss and walks back through the unrolled network.

Plotly frames, so after one server round trip it plays, steps and scrubs in the browser.
Each backward arrow h_t -> h_{t-1} is labelled with its measured factor
‖∂L/∂h_{t−1}‖ / ‖∂L/∂h_t‖ (ratios of Trace.grad_h), and the running product is shown: it
telescopes to ‖∂L/∂h_t‖ / ‖∂L/∂h_L‖. The LSTM adds the cell-state row (its factor, and the
mean forget gate f̄ that scales it); the GRU the share its direct z path carries; IndRNN and
LRU three units' own factors (the slowest, middle and fastest unit by |u_i| or |λ_i|).
Truncation cuts are drawn where the gradient stops. Long runs show the last `window` steps.
Nothing autoplays and transitions are 0 ms; reduced motion plays one frame a step, slowly.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .alt_text import gradient as describe  # the sentence every trace chart carries, one place
from .graph import PHONE_STEPS, flow
from .notes import NOTE_PX
from .theme import COLORS, base_layout, phone_layout, unvalidated_figure

INK = "#1f2933"
FAINT = "#d1d5db"
SUB = 4  # frames per step: the pulse moves a quarter step a frame
# Plotly shows the next frame at the first paint after this delay: 30 ms lands on every second 60 Hz paint, so 30 frames
# a second (33 ms often slipped to the third paint: 20 a second, measured by bench/bench_backward_anim.py).
FRAME_MS = 30
REDUCED_MS = 600  # reduced motion: one frame a step, slow enough to read
WINDOW = 30  # steps drawn at most (the last ones, where the loss sits): ~35 px an arrow at 1280 px, room for its label
ROWS = {"h": 1.0, "c": 2.3}  # units of diagonal cells sit below h, at -0.3, -1.3, -2.3


def _ratio(a, b) -> float:
    with np.errstate(all="ignore"):
        return float(np.float64(a) / np.float64(b)) if b != 0 else float("nan")


def _fmt(v: float) -> str:
    return "—" if not np.isfinite(v) else f"{v:.3g}"


def factors(grad) -> np.ndarray:
    """factors[t] = grad[t-1] / grad[t] (the measured factor of the arrow t -> t-1); factors[0] = nan."""
    g = np.asarray(grad, dtype=np.float64)
    out = np.full(len(g), np.nan)
    with np.errstate(all="ignore"):
        out[1:] = np.where(g[1:] != 0, g[:-1] / np.where(g[1:] != 0, g[1:], 1.0), np.nan)
    return out


def _unit_picks(trace) -> list[int]:
    """The slowest, a middle and the fastest unit by their factor per step (|u_i| or |λ_i|), without repeats."""
    d = np.asarray(trace.unit_decay, dtype=np.float64)
    order = np.argsort(-d, kind="stable")
    return list(dict.fromkeys(int(order[k]) for k in (0, len(order) // 2, len(order) - 1)))


class _Rows:
    """The animated rows: per row, the arrows' labels and exact values as the pulse passes them."""

    def __init__(self, trace, start: int, last: int):
        self.trace, self.start, self.last = trace, start, last
        grad = np.asarray(trace.grad_h, dtype=np.float64)
        self.grad = grad
        self.passes, _ = flow(trace)
        self.rows = [("h", ROWS["h"], grad, factors(grad), COLORS["grad_h"], self._h_extra())]
        if trace.grad_c is not None:
            gc = np.asarray(trace.grad_c, dtype=np.float64)
            f = trace.gates.get("f")
            extra = None if f is None else [f"f̄ {_fmt(float(np.mean(f[t])))}" for t in range(len(gc))]
            self.rows.append(("c", ROWS["c"], gc, factors(gc), COLORS["grad_c"], extra))
        self.units = _unit_picks(trace) if getattr(trace, "unit_decay", None) is not None and trace.grad_h_units is not None else []
        for k, i in enumerate(self.units):
            gu = np.asarray(trace.grad_h_units, dtype=np.float64)[:, i]
            self.rows.append((f"unit {i}", -0.3 - 1.0 * k, gu, factors(gu), INK, None))

    def _h_extra(self):
        """GRU: the share of ‖∂L/∂h_t‖ its direct path carries back (‖z_t ⊙ ∂L/∂h_t‖ / ‖∂L/∂h_t‖)."""
        direct = (getattr(self.trace, "backward", None) or {}).get("direct")
        if direct is None:
            return None
        gate = ((getattr(self.trace, "cell_info", None) or {}).get("direct") or {}).get("factor", "z")
        return [f"{gate}-path {_fmt(_ratio(direct[t], self.grad[t]))}" for t in range(len(self.grad))]


def shown_steps(trace, window: int = WINDOW) -> tuple[int, int]:
    """(first, last) step the animation draws: the last `window` steps up to the last loss (its text alternative's span)."""
    last = int(max(trace.loss_steps))
    return max(0, last + 1 - max(int(window), 2)), last


def backward_animation(trace, window: int = WINDOW, reduced_motion: bool = False) -> go.Figure:
    """The unrolled graph with the gradient travelling back from the last loss, one frame per 1/SUB step.

    Every label and coloured node is drawn once; a white cover left of the pulse hides what the
    gradient has not reached, so a frame is only the cover, the pulses and the running product
    (a few points): light to send and quick to play, and any frame can be jumped to.
    """
    start, last = shown_steps(trace, window)
    sub = 1 if reduced_motion else SUB
    rows = _Rows(trace, start, last)
    steps = np.arange(start, last + 1)
    arrows = steps[1:]
    cuts = set(flow(trace)[1])
    fig = go.Figure()
    nodes, labels = dict(x=[], y=[], color=[], customdata=[]), {}
    for name, y, g, fac, color, extra in rows.rows:  # what the gradient reveals: coloured nodes, labelled arrows
        for t in steps:
            if g[t] > 0 or not np.isfinite(g[t]):  # reached (an overflow in its own colour); an exact 0 stays unmarked
                nodes["x"].append(int(t))
                nodes["y"].append(y)
                nodes["color"].append(color if np.isfinite(g[t]) else COLORS["overflow"])
                nodes["customdata"].append([name, name.split()[0], _exact(g[t])])
        unit = name.startswith("unit")
        label = labels.setdefault("unit factors" if unit else f"{name} factors", dict(x=[], y=[], text=[], customdata=[]))
        for t in arrows:
            stopped = not rows.passes[t] and name in ("h", "c")  # truncation: "cut" where it stops, nothing beyond
            text = ("cut" if t in cuts else "") if stopped else f"×{_fmt(fac[t])}" + (f"<br>{extra[t]}" if extra is not None else "")
            label["x"].append(t - 0.12)  # right-aligned over the arrow t -> t-1: the moving cover wipes it in as the pulse crosses it
            label["y"].append(y + (0.28 if (last - t) % 2 else 0.58))  # staggered: neighbours' labels never touch
            label["text"].append(text)
            label["customdata"].append([int(t), float(fac[t])] + ([int(name.split()[1])] if unit else []))
    # One trace for every row's nodes and one for the units' labels: Plotly restyles the whole figure's defaults on every
    # animation frame, so each trace costs every frame (the LRU's four rows as 8 traces played at 12-27 frames/s under load).
    hover = "%{customdata[0]}<sub>%{x}</sub>: ‖∂L/∂%{customdata[1]}‖ = %{customdata[2]}<extra></extra>"
    marker = dict(size=15, color=nodes.pop("color"))
    fig.add_trace(go.Scatter(**nodes, mode="markers", marker=marker, hovertemplate=hover, name="reached"))
    for name, label in labels.items():
        font = dict(size=11, color=INK)
        fig.add_trace(go.Scatter(**label, mode="text", textposition="middle left", textfont=font, name=name, hoverinfo="skip"))
    top, bottom = max(r[1] for r in rows.rows) + 1.35, min(r[1] for r in rows.rows) - 0.45
    cover = dict(type="scatter", mode="lines", fill="toself", fillcolor="#ffffff", line=dict(width=0), hoverinfo="skip", name="not reached")
    fig.add_trace(go.Scatter(**{k: v for k, v in cover.items() if k != "type"}))
    cover_index = len(fig.data) - 1
    first = len(fig.data)
    pulse = dict(size=12, symbol="triangle-left", color=COLORS["loss"])
    fig.add_trace(
        go.Scatter(x=[last] * len(rows.rows), y=[r[1] for r in rows.rows], mode="markers", marker=pulse, name="pulse", hoverinfo="skip")
    )
    font = dict(size=NOTE_PX, color=INK)
    fig.add_trace(  # in every frame, right-aligned at the loss's step: on screen however few steps a phone shows
        go.Scatter(
            cliponaxis=False, x=[], y=[], mode="text", textfont=font, textposition="middle left", name="running product", hoverinfo="skip"
        )
    )
    frames = [_frame(rows, k, sub, [cover_index, first, first + 1], (bottom, top)) for k in range((last - start) * sub + 1)]
    go.Frame(frames[0])  # validate one frame's attributes; the rest share its shape
    for i, d in zip(frames[0]["traces"], frames[0]["data"], strict=True):
        fig.data[i].update(x=d["x"], y=d["y"], text=d.get("text"), customdata=d.get("customdata"))
    steps = _layout(fig, trace, rows, start, last, frames, sub, reduced_motion)
    spec = fig.to_plotly_json()
    spec["layout"]["sliders"][0].update(steps=steps, active=len(steps) - 1)  # validated on two steps: all share their shape
    return unvalidated_figure({**spec, "frames": frames})


def _exact(v) -> str:
    return repr(float(v))


def _frame(rows: _Rows, k: int, sub: int, traces: list, span: tuple) -> dict:
    """Frame k: the pulse at step last - k/sub; the cover hides every step left of it; the running product so far."""
    pos = rows.last - k / sub
    edge = pos - 0.25  # the node the pulse sits on is already shown
    lo, hi = span
    left = rows.start - 0.8
    cover = dict(x=[left, edge, edge, left, left], y=[lo, lo, hi - 0.3, hi - 0.3, lo]) if edge > left else dict(x=[], y=[])
    t_now = int(np.ceil(pos))
    prod = _ratio(rows.grad[t_now], rows.grad[rows.last])
    words = f"running product ‖∂L/∂h<sub>{t_now}</sub>‖ / ‖∂L/∂h<sub>{rows.last}</sub>‖ = {_fmt(prod)} after {rows.last - t_now} steps"
    pulses = dict(x=[pos] * len(rows.rows), y=[r[1] for r in rows.rows])
    product = dict(x=[rows.last + 0.4], y=[hi - 0.05], text=[words], customdata=[[t_now, prod]])  # right-aligned at the loss
    return dict(
        name=str(k), traces=traces, data=[dict(type="scatter", **cover), dict(type="scatter", **pulses), dict(type="scatter", **product)]
    )


def _layout(fig, trace, rows, start, last, frames, sub, reduced):
    ms = REDUCED_MS if reduced else FRAME_MS
    play = dict(frame=dict(duration=ms, redraw=False), transition=dict(duration=0), fromcurrent=True, mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    buttons = [dict(label="▶ Play", method="animate", args=[None, play]), dict(label="❚❚ Pause", method="animate", args=[[None], pause])]
    slider_steps = [  # left to right in time, as the axis above it: the last frame (the earliest step) first
        dict(method="animate", label=str(int(np.ceil(last - k / sub))) if k % (sub * 5) == 0 else "", args=[[f["name"]], pause])
        for k, f in reversed(list(enumerate(frames)))
    ]
    ys = [r[1] for r in rows.rows]
    label = dict(xref="paper", x=0, xanchor="right", xshift=-8, showarrow=False, font=dict(size=13))
    names = [dict(label, y=y, text=_row_name(trace, n)) for n, y, *_ in rows.rows]
    _, cuts = flow(trace)
    line = dict(color=COLORS["truncation"], width=2, dash="dash")
    shapes = [
        dict(type="line", x0=t - 0.5, x1=t - 0.5, y0=min(ys) - 0.4, y1=max(ys) + 0.5, line=line, layer="above") for t in cuts if t > start
    ]
    shapes += network_shapes(rows, start, last)
    window = f"; the last {last + 1 - start} of {last + 1} steps up to the last loss" if start > 0 else ""
    pace = "one frame a step (reduced motion)" if reduced else f"{sub} frames a step, up to 30 frames/s"
    sub_title = f"arrow label: its factor ‖∂L/∂h<sub>t−1</sub>‖/‖∂L/∂h<sub>t</sub>‖{window}; {pace}"
    base_layout(fig, f"The backward pass, step by step<br><sup>{sub_title}</sup>", height=max(340, 250 + 90 * len(rows.rows)))
    fig.update_layout(
        shapes=shapes,
        annotations=names,
        showlegend=False,
        hovermode="closest",
        margin=dict(l=150, t=90, b=150),
        plot_bgcolor="#ffffff",  # the cover's colour: what it hides must vanish, not show as a lighter patch
        updatemenus=[dict(type="buttons", direction="left", x=0, y=-0.2, xanchor="left", yanchor="top", showactive=False, buttons=buttons)],
        sliders=[
            dict(
                active=1,  # the right end (frame 0) once every step is in: set with them
                steps=slider_steps[:2],
                x=0.25,
                len=0.75,
                y=-0.16,
                yanchor="top",
                currentvalue=dict(visible=False),  # the running product names the step
                transition=dict(duration=0),
                ticklen=2,
            )
        ],
        meta=dict(
            alt=describe(trace, start, last),
            frames=len(frames),
            reduced_play_ms=REDUCED_MS // sub,  # ui/page/plotly_chart.js plays at this pace under prefers-reduced-motion
        ),
    )
    fig.update_xaxes(range=[start - 0.8, last + 0.5], title_text="time step t", showgrid=False, zeroline=False)
    fig.update_yaxes(range=[min(ys) - 0.6, max(ys) + 1.5], visible=False)
    phone_layout(fig, _phone_patch(start, last, len(fig.data) - 1))
    return slider_steps


def _phone_patch(start: int, last: int, product: int) -> dict:
    """A phone's layout (ui/page/plotly_fit.js, below NARROW_PX): the last PHONE_STEPS steps, each wide enough for its
    label, the row names in a narrower margin, Play/Pause above a full-width slider, the running product in smaller type."""
    patch = {
        "layout.margin.l": 64,
        "layout.margin.r": 8,
        "layout.margin.b": 170,
        "layout.xaxis.title.text": "",  # the tick labels name the steps; the buttons take the title's place
        "layout.updatemenus[0].y": -0.12,
        "layout.sliders[0].x": 0,
        "layout.sliders[0].len": 1,
        "layout.sliders[0].y": -0.34,
        f"data[{product}].textfont.size": 10,
    }
    if last - start + 1 > PHONE_STEPS:
        patch["layout.xaxis.range"] = [last - PHONE_STEPS + 0.2, last + 0.5]
    return patch


def network_shapes(rows, start: int, last: int) -> list:
    """Every row's nodes (rings) and forward arrows as one path shape, drawn above the traces so the cover never hides them.

    One shape for all rows: Plotly goes over every shape on every animation frame (60 a row halved the frame rate;
    one a row still cost the LRU's four rows a shape each a frame).
    """
    k = 0.5523  # cubic Bezier handle for a quarter circle
    rx, ry = 0.16, 0.1
    parts = []
    for _name, y, *_ in rows.rows:
        for t in range(start, last + 1):
            a, b, c, d = t + rx, t - rx, y + ry, y - ry
            hx, hy = k * rx, k * ry
            parts.append(
                f"M{a},{y} C{a},{y + hy} {t + hx},{c} {t},{c} C{t - hx},{c} {b},{y + hy} {b},{y}"
                f" C{b},{y - hy} {t - hx},{d} {t},{d} C{t + hx},{d} {a},{y - hy} {a},{y} Z"
            )
            if t > start:
                parts.append(f"M{t - 1 + rx},{y} L{t - rx},{y}")
    return [dict(type="path", path=" ".join(parts), line=dict(color="#6b7280", width=1), layer="above")]


def _row_name(trace, name: str) -> str:
    if name.startswith("unit"):
        i = int(name.split()[1])
        symbol = "λ" if (getattr(trace, "cell_info", None) or {}).get("complex_state") else "u"
        return f"{name}: |{symbol}| = {_fmt(float(trace.unit_decay[i]))}"
    return f"∂L/∂{name}<sub>t</sub>"
