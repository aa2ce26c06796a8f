"""Connectivity: conn[t][k] = ||d loss_t / d x_k|| (and / d h_k) for all k <= t, in one backward.

All rows' cotangents travel backwards together as one (R, B, H) array through the same
tape: at step k only the rows t >= k are alive, so the work is a batched matmul per step
instead of T separate backward passes. The LSTM has its own many-rows step (LSTMRows:
batch-major buffers, half the multiply-adds); RNN and GRU use their backward_step.
loss_t is the task's loss at step t alone; for a many-to-one task it is the loss the
network would have if asked for the answer at step t.
"""

from __future__ import annotations

import numpy as np
import torch

from .bptt import loss_and_grad


def connectivity(cell, ops, P, tape, X, row_targets, kind: str, rows=None, max_batch: int | None = None):
    """-> (conn_x (R, T), conn_h (R, T), rows (R,)), batch means of per-sequence norms."""
    T, B, _ = X.shape
    rows = np.arange(T) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    if rows.size and (rows[0] < 0 or rows[-1] >= T):
        raise ValueError(f"conn_rows: rows are loss steps t in 0..{T - 1}; got {rows[(rows < 0) | (rows >= T)].tolist()}")
    nb = B if max_batch is None else min(B, max_batch)
    if nb < B:
        tape = tape.subset(nb)
        row_targets = row_targets[:, :nb]
    H = P["weight_hh"].shape[1]
    R = len(rows)
    y = tape.hs[1:] @ P["head_weight"].T + P["head_bias"]  # (T, nb, O)
    _, dy = loss_and_grad(ops, kind, y, row_targets, per_step=True)
    local = dy @ P["head_weight"]  # (T, nb, H): d loss_t / d h_t
    if cell.rows is not None:
        conn_x, conn_h = _rows_sweep(cell.rows(ops, P, tape), ops, local, rows)
        return conn_x, conn_h, rows
    D = ops.zeros((R, nb, H))
    Dc = ops.zeros((R, nb, H)) if tape.cs is not None else None
    conn_x, conn_h = np.zeros((R, T)), np.zeros((R, T))
    w_ih = P["weight_ih"]
    for k, alive, new in _steps(rows, T):
        if new is not None:
            D[new] = local[k]
        dh = D[alive:]
        dc = Dc[alive:] if Dc is not None else None
        dax, _, dh_prev, dc_prev, _ = cell.backward_step(ops, P, tape, k, dh, dc)
        conn_h[alive:, k] = _mean_norm(ops, dh)
        conn_x[alive:, k] = _mean_norm(ops, ops.mm(dax, w_ih))
        D[alive:] = dh_prev
        if Dc is not None:
            Dc[alive:] = dc_prev
    return conn_x, conn_h, rows


def _steps(rows, T):
    """(k, alive, new) for k = T-1 .. 0 once some row is alive: rows[alive:] (rows sorted) are
    the rows t >= k, and new is the index of the row t = k, whose cotangent starts here, or None."""
    alive = len(rows)
    for k in range(T - 1, -1, -1):
        new = None
        while alive > 0 and rows[alive - 1] >= k:
            alive -= 1
            if rows[alive] == k:
                new = alive
        if alive < len(rows):
            yield k, alive, new


def _rows_sweep(rows_step, ops, local, rows):
    """The same sweep with a cell's many-rows step (LSTMRows), on batch-major (B, R, H) torch buffers."""
    T, nb, H = local.shape
    R = len(rows)
    loc = ops.tensor(local)
    D = torch.zeros((nb, R, H), dtype=loc.dtype, device=loc.device)
    Dc = torch.zeros((nb, R, H), dtype=loc.dtype, device=loc.device)
    conn_x, conn_h = np.zeros((R, T)), np.zeros((R, T))
    for k, alive, new in _steps(rows, T):
        if new is not None:
            D[:, new] = loc[k]
        conn_h[alive:, k] = _mean_norm_tensor(D[:, alive:])
        conn_x[alive:, k] = _mean_norm(ops, rows_step.step(k, D[:, alive:], Dc[:, alive:]).swapaxes(0, 1))
    return conn_x, conn_h


def _mean_norm_tensor(a: torch.Tensor) -> np.ndarray:
    """_mean_norm for a batch-major (B, R, n) torch tensor: squares summed in float64 (see there)."""
    return torch.linalg.vector_norm(a, dim=-1, dtype=torch.float64).mean(0).cpu().numpy()


def _mean_norm(ops, a) -> np.ndarray:
    """Batch mean of per-sequence L2 norms, (R, B, n) -> (R,), squares summed in float64.

    float32 squares would underflow to 0 below ~1e-19 and overflow above ~1e19: vanishing
    and exploding gradients are exactly what this matrix shows.
    """
    a = ops.to_numpy(a)
    with np.errstate(all="ignore"):
        return np.sqrt(np.einsum("rbi,rbi->rb", a, a, dtype=np.float64)).mean(-1)
