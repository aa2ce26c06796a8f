"""Marks every per-step chart shares: truncation block ends, where values overflowed, and zeros a log axis cannot show."""

from __future__ import annotations

import numpy as np

from .notes import note_annotation, vline_shape, wrap_text
from .theme import COLORS
from .truncation import block_ends

MAX_LINES = 100  # truncation block ends drawn as lines; more would only paint the chart pink


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
    """Red lines at the first non-finite steps and the engine's overflow message above the plot."""
    message = trace.overflow_message() if getattr(trace, "nonfinite", False) else None
    if message is None:
        return [], []
    red = COLORS["overflow"]
    shapes, notes = [], [note_annotation("<b>" + wrap_text(message) + "</b>", 0.0, 1.0, "left", "bottom", red, border=True)]
    lines = (
        (trace.overflow_step, "hₜ non-finite from here on", "left"),
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
        text = "the term at t = 0 is 0 (h₋₁ = 0), not drawn on the log axis"
    else:
        text = f"{what} is exactly 0 at {len(zeros)} of {len(v)} steps (underflow or no path to a loss), not drawn on the log axis"
    y, yanchor = (0.99, "top") if top else (0.08, "bottom")
    return [note_annotation(text, x=0.01, y=y, anchor="left", yanchor=yanchor, color=COLORS["truncation"])]
