"""The trust badge: the engine's hand-written BPTT checked against torch autograd of the same cell, on a sub-batch.

What is checked is the engine's code, in float64, whatever precision the run on screen
uses: a float32 run is the same code with rounder numbers, and float32 itself is not exact
(a saturated tanh rounds to 1, so its slope is exactly 0): checking a float32 run against a
float64 truth would flag float32, not the engine, and in the same float32 both sides sit on
rounding noise there. The engine's dL_b/dh_t comes from each cell's `step_back` and the sweep
in bptt.py; the reference differentiates the cell's own forward `step` with autograd, in float64, on the
same weights and the first `sub_batch` sequences of the shown run's batch (sequences are
independent, so their gradients are those of the full batch). dL/dh_t is read as the
gradient of a zero perturbation added to h_t. Truncated BPTT is followed block by block:
each block is unrolled again from the (history-free) state before its lowest step, its
losses differentiated, and a step's gradient is the sum over the blocks that reach it, as
the truncated algorithm adds them. One small graph per block keeps the cost linear in T.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .bptt import loss_and_grad
from .clipping import safe_norm
from .config import Config
from .model import Model
from .tasks import Batch

TOLERANCE = {"float32": 1e-3, "float64": 1e-9}  # largest relative error that counts as agreement
TINY = {"float32": 1e-34, "float64": 1e-303}  # below this a gradient is compared in absolute terms (underflow)
WORK = 8  # truncated BPTT with overlapping blocks: at most WORK * T block steps are recomputed (the latest steps)


@dataclass(frozen=True)
class Verdict:
    """Outcome of one check: the largest relative error, whether it is within tolerance, and a sentence for the page."""

    max_rel_error: float
    ok: bool
    text: str


def sub_batch_of(batch: Batch, nb: int) -> Batch:
    """The first nb sequences of a batch (same inputs, targets and loss steps)."""
    return Batch(batch.x[:, :nb], batch.target[:, :nb], batch.loss_steps, batch.kind)


def chosen_blocks(cfg: Config) -> tuple[list, int]:
    """The truncation blocks to recompute (latest first, within the work cap) and the first step they fully cover."""
    blocks = cfg.truncation_blocks()
    chosen, work = [], 0
    for block in blocks:
        n = block[0] - block[1] + 1
        if chosen and work + n > WORK * cfg.seq_len:
            break
        chosen.append(block)
        work += n
    first_step = 0 if len(chosen) == len(blocks) else blocks[len(chosen)][0] + 1
    return chosen, first_step


def autograd_dh(model: Model, batch: Batch, blocks) -> torch.Tensor:
    """(T, B, S) float64 dL_b/dh_t by torch autograd through the cell's forward `step`, one graph per truncation block."""
    cell, cfg = model.cell, model.cfg
    P = {k: v.detach().cpu().double() for k, v in model.params.items()}
    x, target = (a.detach().cpu().double() for a in model.inputs(batch))
    T, B, _ = x.shape
    xp = cell.project(P, x)
    S = cell.state_size(cfg.hidden_size)
    states = [tuple(x.new_zeros((B, S)) for _ in cell.state_names)]  # states[t]: the state before step t (no graph)
    for t in range(max(lo for _, lo, _ in blocks)):  # full BPTT starts at 0: nothing to run ahead
        states.append(cell.step(P, xp[t], states[-1]).state)
    steps = np.asarray(batch.loss_steps)
    dh = x.new_zeros((T, B, S))
    for end, lo, first in blocks:
        mine = (steps >= first) & (steps <= end)
        if not mine.any():
            continue
        state, probes, hs = states[lo], [], []  # the block starts from a state with no history: its cut
        for t in range(lo, end + 1):
            state = cell.step(P, xp[t], state).state
            probe = x.new_zeros((B, S), requires_grad=True)  # d loss / d probe = dL/dh_t through every later path
            state = (state[0] + probe, *state[1:])
            probes.append(probe)
            hs.append(state[0])
        feats = cell.features(P, torch.stack(hs), x[lo : end + 1])
        y = feats[torch.as_tensor(steps[mine] - lo)] @ P["head_weight"].T + P["head_bias"]
        step_loss = loss_and_grad(batch.kind, y, target[torch.as_tensor(mine)], per_step=True)[0]  # (block's loss steps, B)
        loss = step_loss.sum() / len(steps)  # sum over sequences of this block's part of L_b (the mean over all loss steps)
        grads = torch.autograd.grad(loss, probes, allow_unused=True)
        for t, g in zip(range(lo, end + 1), grads):
            if g is not None:
                dh[t] += g
    return dh


def verify(cfg: Config, sub_batch: int = 4) -> Verdict:
    """Recompute dL_b/dh_t of the first sub_batch sequences with autograd and compare with the engine's, per time step."""
    cfg = cfg.replace(dtype="float64")  # the code is checked, in the precision that can tell (see the module docstring)
    model = Model(cfg)
    nb = max(1, min(int(sub_batch), cfg.batch_size))
    batch = sub_batch_of(model.batch(0), nb)
    with torch.no_grad():
        mine = model.forward_backward(batch).dh.detach().cpu().double()
    blocks, first_step = chosen_blocks(cfg)
    ref = autograd_dh(model, batch, blocks)
    return compare(cfg, mine[first_step:], ref[first_step:], first_step, nb)


def compare(cfg: Config, mine: torch.Tensor, ref: torch.Tensor, first_step: int, nb: int) -> Verdict:
    """Relative error ||engine - autograd|| / ||autograd|| per (step, sequence); values beyond the run's dtype are not compared."""
    limit = float(np.finfo(cfg.dtype).max)
    with np.errstate(all="ignore"):
        # scaled norms: torch's vector_norm squares, so below ~1e-154 both norms were 0 (a tiny gradient passed unchecked)
        # and above ~1e154 the reference was inf (a float64 value skipped as "beyond float64's range")
        r = safe_norm(ref.numpy(), axis=-1)
        diff = safe_norm((mine - ref).numpy(), axis=-1)
        finite = np.isfinite(mine.numpy()).all(axis=-1)
    comparable = finite & np.isfinite(r) & (r <= limit)
    skipped = int((~comparable).sum())
    where = f"{nb} sequence{'s' if nb > 1 else ''}" + (f", time steps {first_step}-{cfg.seq_len - 1}" if first_step else "")
    if not comparable.any():
        text = f"not checked against autograd: every gradient value overflowed {cfg.dtype} ({where})"
        return Verdict(math.nan, False, text)
    rel = np.where(comparable, diff / np.maximum(r, TINY[cfg.dtype]), 0.0)
    worst = float(rel.max())
    tol = TOLERANCE[cfg.dtype]
    skip = f"; {skipped} values beyond {cfg.dtype}'s range not compared" if skipped else ""
    if worst <= tol:
        return Verdict(worst, True, f"checked against autograd in float64: max rel. error {worst:.1g} ({where}){skip}")
    t = first_step + int(np.unravel_index(np.argmax(rel), rel.shape)[0])
    text = (
        f"⚠ the engine's gradient disagrees with torch autograd: max rel. error {worst:.2g} at time step {t} "
        f"(tolerance {tol:g} for {cfg.dtype}; {where}){skip}"
    )
    return Verdict(worst, False, text)
