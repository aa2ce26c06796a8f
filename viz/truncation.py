"""Truncated-BPTT blocks for the views, read from the trace (Config.truncation_blocks() is the one rule).

The engine records the blocks it used in `trace.blocks`; viz reads that record and never
restates the rule, so the charts cannot disagree with what the engine computed.
"""

from __future__ import annotations

import numpy as np


def blocks(trace) -> list[tuple[int, int, int]]:
    """[(end, lowest step reached, first loss step)], last block first; one block over all steps without truncation."""
    recorded = getattr(trace, "blocks", None)
    if recorded is None:
        return [(len(trace.grad_h) - 1, 0, 0)]
    return [tuple(int(v) for v in row) for row in np.asarray(recorded).reshape(-1, 3)]


def horizon_span(trace) -> int:
    """How many steps the last loss's gradient reaches back: T, or less under truncated BPTT."""
    return len(trace.grad_h) - blocks(trace)[0][1]


def block_ends(trace) -> list[int]:
    """Steps after which the state is cut (every block end but the sequence's last step), in time order."""
    T = len(trace.grad_h)
    return [end for end, _, _ in reversed(blocks(trace)) if end < T - 1]
