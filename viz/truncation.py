"""Truncated-BPTT blocks for the views: the engine's rule (engine.bptt.truncation_blocks), restated without torch.

viz reads plain records and never imports the engine; a test pins this copy to the engine's.
"""

from __future__ import annotations


def blocks(T: int, tbptt) -> list[tuple[int, int, int]]:
    """[(end, lowest step reached, first loss step)], last block first.

    A block starts every k1 steps; its backprop reaches down to first + k1 - k2 (k1 = k2: detach every k1 steps).
    """
    if not tbptt:
        return [(T - 1, 0, 0)]
    k1, k2 = tbptt
    return [(min(first + k1, T) - 1, max(0, first + k1 - k2), first) for first in range(0, T, k1)][::-1]


def horizon_span(T: int, tbptt) -> int:
    """How many steps the last loss's gradient reaches back: T, or less under truncated BPTT."""
    return T - blocks(T, tbptt)[0][1]


def block_ends(T: int, tbptt) -> list[int]:
    """Steps after which the state is cut (every block end but the sequence's last step), in time order."""
    return [end for end, _, _ in reversed(blocks(T, tbptt)) if end < T - 1] if tbptt else []
