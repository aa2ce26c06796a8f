"""The one unroll loop and backward sweep of (truncated) backpropagation through time, for every cell.

The loss of sequence b is L_b (mean over its loss steps); the batch loss is L = mean_b L_b.
The backward carries d(sum_b L_b)/dh_t, so each sequence's slice is the per-sequence
gradient dL_b/dh_t the design asks for; weight gradients are divided by B at the end and
come from large GEMMs over all steps (cell.param_grads), not from per-step updates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Pass:
    """Raw result of one forward + backward pass (torch tensors)."""

    tape: object
    feats: torch.Tensor  # (T, B, H) what the task head reads at every step (h, or the LRU's output y)
    loss_seq: torch.Tensor  # (B,) per-sequence losses
    grads: dict  # parameter name -> gradient of the batch-mean loss
    dh: torch.Tensor  # (T, B, S) what BPTT propagated to h_t, per sequence
    dc: torch.Tensor | None  # (T, B, H) the total dL/dc_t of the LSTM cell state, else None
    dah: torch.Tensor  # (T, B, P) gradient of the recurrent pre-activations, per sequence
    local: torch.Tensor  # (T, B, S) gradient each step's own loss puts on h_t
    dh_last: torch.Tensor | None  # (T, B, S) BPTT of the last step's loss alone (many-to-many tasks), else None


def loss_and_grad(kind: str, y, target, per_step: bool):
    """Per-sequence loss (B,) and d loss / d y for predictions y (L, B, O).

    per_step=False: L_b is the mean over the L steps; True: one loss per step, (L, B).
    """
    L, _, O = y.shape
    if kind == "mse":
        diff = y - target
        step_loss = (diff * diff).sum(-1) / O  # (L, B)
        dy = diff * (2.0 / O)
    else:
        z = y - y.amax(-1, keepdim=True)
        ez = z.exp()
        s = ez.sum(-1, keepdim=True)
        step_loss = -(target * (z - s.log())).sum(-1)
        dy = ez / s - target
    if per_step:
        return step_loss, dy
    return step_loss.sum(0) / L, dy / L


@dataclass
class Sums:
    """(T, ...) sums of what the sweep visits at each step; None: not asked for."""

    dh: torch.Tensor  # total dL/dh_t
    dinner: torch.Tensor | None = None  # LSTM: total dL/dc_t
    dx: torch.Tensor | None = None  # gradient of the input term
    dh_pre: torch.Tensor | None = None  # gradient of the recurrent term, where it differs from dx (GRU)


def walk(cell, P, caches, hi: int, lo: int, enter):
    """The one backward loop every sweep runs (bptt, phase, connectivity): from step hi down to lo, yields (t, dstate_t, back).

    enter(t, carried) returns the state gradient at t: what flows in from t+1 (carried; None when
    nothing does) together with what enters at t (a loss, a connectivity row), or None while
    nothing flows. At lo nothing flows further back, so the cell skips dL/d state_{t-1} (its GEMM).
    """
    carried = None
    for t in range(hi, lo - 1, -1):
        dstate = enter(t, carried)
        if dstate is None:
            carried = None
            continue
        back = cell.step_back(P, caches[t], dstate, t > lo)
        yield t, dstate, back
        carried = back.dstate


def visits_once(blocks, T: int) -> bool:
    """True when no two truncation blocks reach a common step: full BPTT, TBPTT with k2 <= k1 (each step visited at most once)."""
    spans = sorted((lo, min(end, T - 1)) for end, lo, _first in blocks)
    return all(prev[1] < nxt[0] for prev, nxt in zip(spans, spans[1:]))


def sweep(cell, P, tape, inject: dict, blocks, pre: bool = True) -> Sums:
    """BPTT over the truncation blocks, adding inject[t] (dL/dh_t of step t's own loss) at its step; every visit adds into Sums.

    Blocks come from Config.truncation_blocks() (full BPTT is one block). With k2 > k1 blocks
    overlap and a step is visited more than once: adding up is then exactly the truncated
    algorithm. A cell may bring an in-place sweep (cell.fast_sweep) for the blocks that visit each
    step once; it must equal this loop (tests/test_lstm_sweep.py).
    """
    T = len(tape.caches)
    zeros = tape.hs.new_zeros
    shape = tape.hs[1:].shape
    width = tape.xp.shape[-1]
    sums = Sums(dh=zeros(shape))
    if pre:
        sums.dinner = zeros(tape.cs[1:].shape) if tape.cs is not None else None
        sums.dx = zeros(shape[:-1] + (width,))
        sums.dh_pre = None if cell.split_pre is False else zeros(shape[:-1] + (width,))
    if cell.fast_sweep is not None and tape.hs.dim() == 3 and visits_once(blocks, T):  # one weight set, not phase's S: in place
        cell.fast_sweep(P, tape.caches, inject, blocks, sums.dh, sums.dinner if pre else None, sums.dx if pre else None)
        return sums
    # Row views made once (indexing a tensor costs microseconds; the loop asks for several rows a step).
    dh_rows = sums.dh.unbind(0)
    inner_rows = sums.dinner.unbind(0) if sums.dinner is not None else None
    dx_rows = sums.dx.unbind(0) if pre else None
    dhp_rows = sums.dh_pre.unbind(0) if pre and sums.dh_pre is not None else None
    rest = cell.state_names[1:]
    for end, lo, first in blocks:

        def enter(t, carried, first=first):
            g = inject.get(t) if t >= first else None
            if g is None:
                return carried
            return (g, *(torch.zeros_like(g) for _ in rest)) if carried is None else (carried[0] + g, *carried[1:])

        for t, dstate, back in walk(cell, P, tape.caches, min(end, T - 1), lo, enter):
            dh_rows[t].add_(dstate[0])
            if inner_rows is not None:
                inner_rows[t].add_(back.dinner)
            if pre:
                dx_rows[t].add_(back.dpre.x)
                if dhp_rows is not None:
                    dhp_rows[t].add_(back.dpre.h)
    return sums


def forward_backward(cell, P, X, target, loss_steps: np.ndarray, kind: str, blocks, every_step: bool) -> Pass:
    """One pass: unroll, loss, BPTT (full or truncated), parameter gradients."""
    T, B, _ = X.shape
    tape = cell.unroll(P, X)
    feats = cell.features(P, tape.hs[1:], X)  # (T, B, H)
    steps = torch.as_tensor(loss_steps, device=X.device)
    y = feats[steps] @ P["head_weight"].T + P["head_bias"]
    loss_seq, dy = loss_and_grad(kind, y, target, per_step=False)
    dstate_l, out_grads = cell.features_back(P, dy @ P["head_weight"], tape.hs[1:], X, steps)
    local = X.new_zeros(tape.hs[1:].shape)
    local[steps] = dstate_l
    sums = sweep(cell, P, tape, {int(s): local[s] for s in loss_steps}, blocks)
    dh_pre = sums.dx if sums.dh_pre is None else sums.dh_pre

    dh_last = None
    if every_step and T > 1:
        only_last = {T - 1: local[T - 1] * len(loss_steps)}  # undo the 1/L of the mean: one step's own loss
        dh_last = sweep(cell, P, tape, only_last, blocks[:1], pre=False).dh

    grads = cell.param_grads(P, X, tape, sums.dx, dh_pre)
    grads.update(out_grads)
    feats_l = feats[steps]
    grads["head_weight"] = dy.reshape(-1, dy.shape[-1]).T @ feats_l.reshape(-1, feats_l.shape[-1])
    grads["head_bias"] = dy.sum((0, 1))
    grads = {k: g / B for k, g in grads.items()}
    return Pass(tape, feats, loss_seq, grads, sums.dh, sums.dinner, dh_pre, local, dh_last)
