"""Marks every per-step chart shares: truncation block ends, where values overflowed or underflowed, and zeros a log axis cannot show."""

from __future__ import annotations

import numpy as np

from .notes import dtype_floors, dtype_max, note_annotation, overflow_short, two, vline_shape, wrap_text
from .theme import COLORS
from .truncation import block_ends

MAX_LINES = 100  # truncation block ends drawn as lines; more would only paint the chart pink
OVERFLOW_LINE = "overflow line"  # the name of the label beside a red line where values turned non-finite


def truncation_marks(trace, T: int) -> tuple[list, list]:
    """Dashed lines where truncated-BPTT blocks end (as in engine.bptt.truncation_blocks), plus a label."""
    tbptt = getattr(trace.config, "tbptt", None)
    if not tbptt:
        return [], []
    k1, k2 = tbptt
    ends = block_ends(trace)
    label = f"truncated BPTT: detach every {k1} steps" if k1 == k2 else f"TBPTT({k1}, {k2}): every {k1} steps, back {k2} steps"
    if len(ends) > MAX_LINES:
        label += f" ({len(ends)} block ends, too many to draw)"
        ends = []
    shapes = [vline_shape(e + 0.5, COLORS["truncation"], dash="dash") for e in ends]
    return shapes, [note_annotation(label, x=0.01, y=0.01, anchor="left", yanchor="bottom", color=COLORS["truncation"])]


def overflow_marks(trace, xref: str = "x") -> tuple[list, list]:
    """Red lines at the first non-finite steps, and where it overflowed in one short sentence above the plot.

    The engine's whole message (where and why) is the page's to say, once per view (ui/page/views.py).
    """
    message = overflow_short(trace)
    if message is None:
        return [], []
    red = COLORS["overflow"]
    shapes, notes = [], [note_annotation("<b>" + wrap_text(message) + "</b>", 0.0, 1.0, "left", "bottom", red, border=True)]
    # Short and level, on the side that is non-finite (nothing drawn there): a label along the line ran over the x ticks.
    lines = (
        (trace.overflow_step, "hₜ non-finite →", "left", 0.6),
        (trace.overflow_grad_step, "← gradient non-finite", "right", 0.4),
    )
    for step, label, side, y in lines:
        if step is not None:
            shapes.append(vline_shape(step, red, width=2, xref=xref))
            notes.append(note_annotation(label, step, y, side, "middle", red, xref=xref, name=OVERFLOW_LINE))
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
        text = "the term at t = 0 is 0 (h₋₁ = 0), not drawn on the log axis"
    else:
        text = f"{what} is exactly 0 at {len(zeros)} of {len(v)} steps (underflow or no path to a loss), not drawn on the log axis"
    y, yanchor = (0.99, "top") if top else (0.08, "bottom")
    return [note_annotation(text, x=0.01, y=y, anchor="left", yanchor=yanchor, color=COLORS["truncation"])]


def hline_shape(y: float, color: str, dash: str = "dot", width: float = 1.5) -> dict:
    """A horizontal line across the plot at data coordinate y (a log axis takes the value itself)."""
    return dict(type="line", x0=0, x1=1, y0=y, y1=y, xref="paper", yref="y", line=dict(color=color, dash=dash, width=width), layer="below")


def dtype_limits(trace, values) -> tuple[list, list, list]:
    """(shapes, notes, levels): the precision's edges the measured values reach, drawn as lines and said in words.

    Overflow: the largest number (the curve stops there). Underflow: the smallest normal number
    (below it fewer digits remain) and the smallest subnormal one (under it only 0): a curve that
    flattens there has run out of range, it has not stopped vanishing. `levels` are the lines'
    heights, for the axis range.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    with np.errstate(invalid="ignore"):
        v = v[np.isfinite(v)]
    dtype = str(getattr(trace.config, "dtype", "float32"))
    tiny, least = dtype_floors(trace)
    top = dtype_max(trace)
    shapes, notes, levels = [], [], []
    overflowed = getattr(trace, "overflow_grad_step", None) is not None or getattr(trace, "overflow_step", None) is not None
    if overflowed or (v.size and v.max() > top / 1e3):
        shapes.append(hline_shape(top, COLORS["overflow"]))
        label = f"{dtype}'s largest number {two(top)}"
        if overflowed:  # under the line at its left end: an overflow's non-finite side, no curve drawn there, the top margin clear
            notes.append(_level_note(label, top, "top", COLORS["overflow"], x=0.0, anchor="left"))
        else:  # a finite curve near the ceiling is high at the left (it grows back in time): the label at the right end
            notes.append(_level_note(label, top, "bottom", COLORS["overflow"]))
        levels.append(top)
    pos = v[v > 0]
    if pos.size and pos.min() < tiny:
        low = pos < tiny
        shapes += [hline_shape(tiny, COLORS["truncation"]), hline_shape(least, COLORS["truncation"], dash="dash")]
        notes.append(_level_note(f"{dtype}: smallest normal number {two(tiny)}", tiny, "bottom", COLORS["truncation"]))
        notes.append(_level_note(f"{dtype}: smallest number {two(least)}", least, "top", COLORS["truncation"]))
        levels += [tiny, least]
        words = (
            f"{dtype} underflow: {int(low.sum())} values lie below {two(tiny)}, where {dtype} keeps fewer digits; nothing under "
            f"{two(least)} can be held (a batch mean of such values and zeros sits lower). Where the curve flattens there, "
            f"{dtype} has run out of range: the gradient has not stopped vanishing, it is smaller still."
        )
        if dtype == "float32":
            words += " float64 reaches down to 5e-324."
        notes.append(note_annotation(wrap_text(words, 110), 0.0, 1.0, "left", "bottom", COLORS["truncation"], border=True))
    return shapes, notes, levels


def _level_note(text: str, y: float, yanchor: str, color: str, x: float = 1.0, anchor: str = "right") -> dict:
    """A label at one end of a horizontal line on a log y axis (annotations take log10 there, shapes the value)."""
    return note_annotation(text, x, float(np.log10(y)), anchor, yanchor, color, yref="y")
