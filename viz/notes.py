"""Annotation and layout helpers every chart shares: readable note boxes, stacking, wrapping, and honest range notes."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from .theme import COLORS

INK = "#1f2933"
NOTE_PX = 14  # font size of every note: readable on a projector
LINE_PX = 19  # height of one line of note text, as frame() reserves it
PLOT_PX = 290  # height of frame()'s plot area: 480 px less the margins
DTYPE_MAX = {"float16": 65504.0, "bfloat16": 3.39e38, "float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308}
# The underflow floors: below the smallest normal number a value keeps fewer digits; under the smallest subnormal it is 0.
DTYPE_TINY = {"float32": 1.1754943508222875e-38, "float64": 2.2250738585072014e-308}
DTYPE_SUBNORMAL = {"float32": 1.401298464324817e-45, "float64": 5e-324}
_NOTE = dict(showarrow=False, align="left", bgcolor="rgba(255,255,255,0.85)", borderpad=4)


def note_annotation(text: str, x: float, y: float, anchor="left", yanchor="top", color=INK, border=False, **refs) -> dict:
    """A readable text box, in paper coordinates (0..1) of the plot area unless xref/yref say otherwise."""
    box = dict(bordercolor=color, borderwidth=1) if border else {}
    where = dict(xref="paper", yref="paper", xanchor=anchor, yanchor=yanchor, **box) | refs
    return dict(_NOTE, text=text, x=x, y=y, font=dict(size=NOTE_PX, color=color), **where)


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
    m, e = f"{abs(v):.0e}".split("e")  # formatted, not divided: 10**-324 is 0 and subnormals would divide by it
    return f"{'-' if v < 0 else ''}{m}e{int(e)}"


def two(v: float) -> str:
    """Two significant digits, as a precision's edges are quoted: '3.4e38', '1.2e-38', '4.9e-324'."""
    return f"{v:.2g}".replace("e+", "e").replace("e-0", "e-")


def overflow_note(fig: go.Figure, trace, prefix: str = "Blank = non-finite (overflow). ") -> None:
    """Say in words, under the x axis, why some cells or points are blank, instead of leaving silent gaps."""
    msg = overflow_short(trace)
    if msg:
        bottom_note(fig, prefix + msg)


def overflow_short(trace) -> str | None:
    """Where a run overflowed, in one short sentence every chart can carry; None when nothing did.

    The engine's full message (where, and why) is long: the page says it once per view, above the
    charts, and each chart only says where, so that the same paragraph is not read three times.
    """
    if not getattr(trace, "nonfinite", False):
        return None
    dtype = str(getattr(trace.config, "dtype", "float32"))
    parts = []
    if trace.overflow_step is not None:
        parts.append(f"hₜ non-finite from t = {trace.overflow_step} on")
    if trace.overflow_grad_step is not None:
        parts.append(f"‖∂L/∂hₜ‖ non-finite at t ≤ {trace.overflow_grad_step}")
    if not np.isfinite(trace.loss):
        parts.append("the loss is not finite")
    if not parts:
        parts = list(trace.out_of_range()) or ["the gradient norm is not finite"]
    return f"{dtype} overflow: " + "; ".join(parts) + "; non-finite values are not drawn."


def bottom_note(fig: go.Figure, message: str, color: str = COLORS["overflow"]) -> None:
    """A red message under the x axis; the figure grows by the lines it needs."""
    text = wrap_text(message, 110)
    earlier = [a for a in fig.layout.annotations if a.name == "bottom note"]  # stack below those already there
    below = sum(_height(a.text) for a in earlier)
    place = dict(xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="top", showarrow=False, align="left", name="bottom note")
    fig.add_annotation(text=text, font=dict(color=color, size=NOTE_PX), yshift=-62 - below, **place)
    extra = _height(text)
    fig.update_layout(margin=dict(b=(fig.layout.margin.b or 60) + extra), height=(fig.layout.height or 420) + extra)


def _height(text: str) -> int:
    return LINE_PX * (text.count("<br>") + 1) + 4


def dtype_max(trace) -> float:
    """Largest finite number of the run's precision (trace.config.dtype; float32 when unknown)."""
    return DTYPE_MAX.get(str(getattr(getattr(trace, "config", None), "dtype", "float32")), DTYPE_MAX["float32"])


def dtype_floors(trace) -> tuple[float, float]:
    """(smallest normal, smallest subnormal) number of the run's precision (float32 when unknown)."""
    dtype = str(getattr(getattr(trace, "config", None), "dtype", "float32"))
    return DTYPE_TINY.get(dtype, DTYPE_TINY["float32"]), DTYPE_SUBNORMAL.get(dtype, DTYPE_SUBNORMAL["float32"])


def range_words(trace, values, what: str, nonfinite: bool = True) -> str | None:
    """In words: how many of `values` are non-finite (unless the chart says so already) or beyond the dtype's range."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        return None
    bad = ~np.isfinite(v)
    with np.errstate(invalid="ignore"):
        big = np.isfinite(v) & (np.abs(v) > dtype_max(trace))
    parts = []
    if bad.any() and nonfinite:
        parts.append(f"{int(bad.sum())} of {v.size} values of {what} are non-finite (overflow: infinite or undefined), not drawn")
    if big.any():
        dtype = str(getattr(trace.config, "dtype", "float32"))
        top = float(np.max(np.abs(v[big])))
        parts.append(
            f"{int(big.sum())} of {v.size} values of {what} (up to {sci(top)}) exceed {dtype}'s largest number "
            f"{two(dtype_max(trace))}: the run's own precision cannot hold them (marked red)"
        )
    return "; ".join(parts) + "." if parts else None
