"""The trust badge: the engine's hand-written BPTT checked against torch autograd of the same cell, on a sub-batch.

What is checked is the engine's code, in float64, whatever precision the run on screen
uses: a float32 run is the same code with rounder numbers, and float32 itself is not exact
(a saturated tanh rounds to 1, so its slope is exactly 0): checking a float32 run against a
float64 truth would flag float32, not the engine, and in the same float32 both sides sit on
rounding noise there. The engine's dL_b/dh_t comes from each cell's `step_back` and the sweep
in bptt.py; the reference differentiates the cell's `equations` (the step written straight from its
equations, independent of the fast `step` and the output map) with autograd, in float64, on the
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
    """(T, B, S) float64 dL_b/dh_t by torch autograd through the cell's `equations`, one graph per truncation block."""
    with torch.no_grad():
        tape = model.forward_backward(batch).tape
    return autograd_grads(model, batch, blocks, tape)[0]


def autograd_grads(model: Model, batch: Batch, blocks, tape) -> tuple[torch.Tensor, dict]:
    """(dL_b/dh_t (T, B, S), gradient of sum_b L_b for every parameter) by torch autograd of the cell's `equations`, float64.

    Each step's state takes the value of the engine's (tape) and the derivative of `equations`:
    the Jacobians are the equations', evaluated where the engine was, so rounding differences
    between two ways of writing the same step cannot grow along a chaotic run (scale 4.4).
    """
    cell, cfg = model.cell, model.cfg
    P = {k: v.detach().cpu().double().requires_grad_(True) for k, v in model.params.items()}
    x, target = (a.detach().cpu().double() for a in model.inputs(batch))
    T, B, _ = x.shape
    S = cell.state_size(cfg.hidden_size)
    kept = [tape.hs.detach().cpu().double()] + ([tape.cs.detach().cpu().double()] if tape.cs is not None else [])
    steps = np.asarray(batch.loss_steps)
    dh = x.new_zeros((T, B, S))
    grads = {k: torch.zeros_like(v) for k, v in P.items()}
    names = list(P)
    for end, lo, first in blocks:
        mine = (steps >= first) & (steps <= end)
        if not mine.any():
            continue
        state, probes, feats = tuple(k[lo] for k in kept), [], []  # the block starts from a state with no history: its cut
        for t in range(lo, end + 1):
            state = tuple(s + (k[t + 1] - s).detach() for s, k in zip(cell.equations(P, x[t], state), kept))  # engine's value
            probe = x.new_zeros((B, S), requires_grad=True)  # d loss / d probe = dL/dh_t through every later path
            state = (state[0] + probe, *state[1:])
            probes.append(probe)
            feats.append(cell.equation_output(P, state[0], x[t]))
        y = torch.stack(feats)[torch.as_tensor(steps[mine] - lo)] @ P["head_weight"].T + P["head_bias"]
        step_loss = loss_and_grad(batch.kind, y, target[torch.as_tensor(mine)], per_step=True)[0]  # (block's loss steps, B)
        loss = step_loss.sum() / len(steps)  # sum over sequences of this block's part of L_b (the mean over all loss steps)
        found = torch.autograd.grad(loss, probes + [P[k] for k in names], allow_unused=True)
        for t, g in zip(range(lo, end + 1), found):
            if g is not None:
                dh[t] += g
        for k, g in zip(names, found[len(probes) :]):
            if g is not None:
                grads[k] += g
    return dh, grads


def verify(cfg: Config, sub_batch: int = 4, data=None) -> Verdict:
    """Recompute dL_b/dh_t of the first sub_batch sequences with autograd and compare with the engine's, per time step.

    data: the series or text of task 'series' or 'text' (engine/data.py), as run() takes it.
    """
    cfg = cfg.replace(dtype="float64")  # the code is checked, in the precision that can tell (see the module docstring)
    model = Model(cfg, data)
    nb = max(1, min(int(sub_batch), cfg.batch_size))
    batch = sub_batch_of(model.batch(0), nb)
    with torch.no_grad():
        p = model.forward_backward(batch)
    mine = p.dh.detach().cpu().double()
    blocks, first_step = chosen_blocks(cfg)
    ref, ref_grads = autograd_grads(model, batch, blocks, p.tape)
    # The work cap may leave out early blocks (first_step > 0): their share of the parameter gradients is then missing.
    params = {} if first_step else param_errors({k: g.detach().cpu().double() for k, g in p.grads.items()}, ref_grads, nb)
    return compare(cfg, mine[first_step:], ref[first_step:], first_step, nb, params)


def param_errors(mine: dict, ref: dict, nb: int) -> dict:
    """||engine - autograd|| / ||autograd|| for every parameter whose gradients are finite on both sides (ref: of sum_b L_b)."""
    errors = {}
    with np.errstate(all="ignore"):
        for name, r in ref.items():
            a, b = mine[name].numpy().ravel(), r.numpy().ravel() / nb
            if np.isfinite(a).all() and np.isfinite(b).all():
                errors[name] = float(safe_norm(a - b) / max(safe_norm(b), TINY["float64"]))
    return errors


def compare(cfg: Config, mine: torch.Tensor, ref: torch.Tensor, first_step: int, nb: int, params: dict | None = None) -> Verdict:
    """Relative error ||engine - autograd|| / ||autograd|| per (step, sequence), and per parameter (params: name -> error).

    Values beyond the run's dtype are not compared.
    """
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
    params = params or {}
    worst_param = max(params, key=params.get) if params else None
    worst = max(float(rel.max()), params.get(worst_param, 0.0))
    tol = TOLERANCE[cfg.dtype]
    what = f"; ∂L/∂h and {len(params)} parameter gradients" if params else ""
    skip = f"; {skipped} values beyond {cfg.dtype}'s range not compared" if skipped else ""
    if worst <= tol:
        return Verdict(worst, True, f"checked against autograd in float64: max rel. error {worst:.1g} ({where}{what}){skip}")
    if worst_param is not None and params[worst_param] == worst:
        at = f"in ∂L/∂{worst_param}"
    else:
        at = f"at time step {first_step + int(np.unravel_index(np.argmax(rel), rel.shape)[0])}"
    text = (
        f"⚠ the engine's gradient disagrees with torch autograd: max rel. error {worst:.2g} {at} "
        f"(tolerance {tol:g} for {cfg.dtype}; {where}{what}){skip}"
    )
    return Verdict(worst, False, text)
