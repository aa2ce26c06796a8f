"""Connectivity: conn[t][k] = ||d loss_t / d x_k|| (and / d h_k) for k <= t, in one backward.

All rows' cotangents travel backwards together as one (R, B, S) tensor through the same
caches: at step k only the rows still alive are carried, so the work is a batched matmul per
step instead of T separate backward passes. The rows go through the one backward loop
(bptt.walk) and the cell's step_back; a cell may offer a faster many-rows step (`cell.rows`,
the LSTM's, tested equal). loss_t is the task's loss at
step t alone; for a many-to-one task it is the loss the network would have if asked for the
answer at step t. Given truncation blocks (the `horizon`), row t stops at its block's lowest
step: what the truncated training gradient carries, exactly zero beyond it.
"""

from __future__ import annotations

import numpy as np
import torch

from . import cancel
from .bptt import loss_and_grad, walk


def connectivity(cell, P, tape, X, row_targets, kind: str, rows=None, max_batch: int | None = None, horizon=None):
    """-> (conn_x (R, T), conn_h (R, T), rows (R,)), batch means of per-sequence norms.

    Asks engine.cancel.check() once per step back: the caller's stop signal ends it with Cancelled.
    """
    T, B, _ = X.shape
    rows = np.arange(T) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    if rows.size and (rows[0] < 0 or rows[-1] >= T):
        raise ValueError(f"conn_rows: rows are loss steps t in 0..{T - 1}; got {rows[(rows < 0) | (rows >= T)].tolist()}")
    nb = B if max_batch is None else min(B, max_batch)
    if nb < B:
        tape = tape.subset(nb)
        row_targets, X = row_targets[:, :nb], X[:, :nb]
    lowest = _lowest_steps(rows, horizon)
    feats = cell.features(P, tape.hs[1:], X)
    y = feats @ P["head_weight"].T + P["head_bias"]  # (T, nb, O)
    _, dy = loss_and_grad(kind, y, row_targets, per_step=True)
    dfeat = dy @ P["head_weight"]  # (T, nb, H): d loss_t / d feature_t
    local, _ = cell.features_back(P, dfeat, tape.hs[1:], X, torch.arange(T, device=X.device))
    direct = cell.direct_input(P, dfeat)  # d loss_t / d x_t that bypasses the state (LRU's D), or None
    R, S = len(rows), local.shape[-1]
    conn_x, conn_h = np.zeros((R, T)), np.zeros((R, T))
    if cell.rows is not None:
        fast = cell.rows(P, tape)
        D, Dc = local.new_zeros((nb, R, S)), local.new_zeros((nb, R, S))
        for k, a, b, new in _steps(rows, lowest, T):
            cancel.check()
            if new is not None:
                D[:, new] = local[k]
            conn_h[a:b, k] = _mean_norm(D[:, a:b].transpose(0, 1))
            conn_x[a:b, k] = _mean_norm(fast.step(k, D[:, a:b], Dc[:, a:b]).transpose(0, 1))
        return conn_x, conn_h, rows
    alive = {k: (a, b, new) for k, a, b, new in _steps(rows, lowest, T)}
    span = [0]  # the first row the carried gradient holds (rows a..b-1 are carried, in order)

    def enter(k, carried):
        """The rows alive at k: those carried from k+1 whose horizon reaches k, and row t = k, which starts here."""
        if k not in alive:
            return None
        cancel.check()
        a, b, new = alive[k]
        keep = None if carried is None else tuple(c[: b - span[0]] for c in carried)
        if new is not None:
            start = (local[k].unsqueeze(0), *(local.new_zeros((1, nb, S)) for _ in cell.state_names[1:]))
            keep = start if keep is None else tuple(torch.cat(pair) for pair in zip(start, keep))
        span[0] = a
        return keep

    for k, dstate, back in walk(cell, P, tape.caches, T - 1, 0, enter):  # the one backward loop (engine/bptt.py)
        a, b, new = alive[k]
        dx = cell.project_back(P, back.dpre.x)
        if new is not None and direct is not None:
            dx[0] += direct[k]  # the new row comes first
        conn_h[a:b, k] = _mean_norm(dstate[0])
        conn_x[a:b, k] = _mean_norm(dx)
    return conn_x, conn_h, rows


def _lowest_steps(rows, blocks) -> np.ndarray:
    """For each row t, the lowest step its gradient reaches: 0 for full BPTT, else that of t's truncation block."""
    if blocks is None:
        return np.zeros(len(rows), dtype=np.int64)
    # blocks come last first: t belongs to the first one whose first loss step is <= t
    return np.array([next(lo for _, lo, first in blocks if t >= first) for t in rows], dtype=np.int64)


def _steps(rows, lowest, T):
    """(k, a, b, new) for k = T-1 .. 0 while some row is alive.

    rows[a:b] (sorted) are the rows with t >= k whose horizon reaches k: a contiguous run,
    since the horizon grows with t. new is the index of the row t = k, which starts here, or None.
    """
    for k in range(T - 1, -1, -1):
        a = int(np.searchsorted(rows, k, side="left"))
        b = int(np.searchsorted(lowest, k, side="right"))
        if a < b:
            yield k, a, b, (a if rows[a] == k else None)


def _mean_norm(a: torch.Tensor) -> np.ndarray:
    """Batch mean of per-sequence L2 norms, (R, B, n) -> (R,), squares summed in float64.

    float32 squares would underflow to 0 below ~1e-19 and overflow above ~1e19: vanishing
    and exploding gradients are exactly what this matrix shows. float64 values are scaled by
    their largest magnitude first, for the same reason one range further out (~1e-154, ~1e154).
    """
    if a.dtype != torch.float64:  # a float32 value squared always fits float64
        return torch.linalg.vector_norm(a, dim=-1, dtype=torch.float64).mean(-1).cpu().numpy()
    m = a.abs().amax(-1, keepdim=True)  # NaN if any element is
    ok = torch.isfinite(m) & (m > 0)
    scale = torch.where(ok, m, torch.ones_like(m))
    n = torch.where(ok, torch.linalg.vector_norm(a / scale, dim=-1, keepdim=True) * scale, m)  # inf / NaN stay as they are
    return n.squeeze(-1).mean(-1).cpu().numpy()
