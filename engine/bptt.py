"""Forward unroll and (truncated) backpropagation through time with a hand-written backward.

The loss of sequence b is L_b (mean over its loss steps); the batch loss is L = mean_b L_b.
The backward carries d(sum_b L_b)/dh_t, so each sequence's slice is the per-sequence
gradient dL_b/dh_t the design asks for; weight gradients are divided by B at the end.
Weight gradients come from one large matmul over all steps, not from per-step updates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import LAST_STEP, NO_OUT, StepOut


@dataclass
class Pass:
    """Raw result of one forward + backward pass (backend arrays)."""

    tape: object
    loss_seq: object  # (B,) per-sequence losses
    grads: dict  # parameter name -> gradient of the batch-mean loss
    dh: object  # (T, B, H) what BPTT propagated to h_t, per sequence
    dc: object  # (T, B, H) the same for the LSTM cell state, else None
    dah: object  # (T, B, G*H) gradient of the recurrent pre-activations, per sequence
    local: object  # (T, B, H) gradient each step's own loss puts on h_t
    dh_last: object  # (T, B, H) BPTT of the last step's loss alone (many-to-many tasks), else None


def loss_and_grad(ops, kind: str, y, target, per_step: bool):
    """Per-sequence loss (B,) and d loss / d y for predictions y (L, B, O).

    per_step=False: L_b is the mean over the L steps; True: one loss per step, (L, B).
    """
    L, _, O = y.shape
    if kind == "mse":
        diff = y - target
        step_loss = (diff * diff).sum(-1) / O  # (L, B)
        dy = diff * (2.0 / O)
    else:
        z = y - ops.amax(y, -1)
        ez = ops.exp(z)
        s = ez.sum(-1)[..., None]
        logp = z - ops.log(s)
        step_loss = -(target * logp).sum(-1)
        dy = ez / s - target
    if per_step:
        return step_loss, dy
    return step_loss.sum(0) / L, dy / L


def truncation_blocks(T: int, tbptt):
    """[(end, lowest step reached, first loss step of the block)], last block first.

    TBPTT(k1, k2): after every k1 forward steps the losses of those steps are
    backpropagated to k2 steps before the block's (full-length) end, i.e. down to
    first + k1 - k2; a final partial block reaches just as far back as a full one would,
    so k1 = k2 = K is exactly "detach the state every K steps". Full BPTT is one block.
    """
    if tbptt is None:
        return [(T - 1, 0, 0)]
    k1, k2 = tbptt
    return [(min(first + k1, T) - 1, max(0, first + k1 - k2), first) for first in range(0, T, k1)][::-1]


@dataclass
class Into:
    """(T, ...) arrays a sweep sums its per-step results into; None: not wanted."""

    dh: object  # total dL/dh_t
    dct: object = None  # LSTM: total dL/dc_t
    dax: object = None  # gradient of the x-projection
    dah: object = None  # gradient of the h-projection, where it differs from dax (GRU)

    def __post_init__(self):
        # Row views made once (a C loop), not indexed per step: the sweep asks for four rows a step.
        self._rows = [[None] * len(self.dh) if a is None else list(a) for a in (self.dax, self.dah, self.dct, self.dh)]

    def rows(self, t: int, with_prev: bool) -> StepOut:
        """Step t's rows, for a step visited once: the cell writes its results in place (dL/dh_{t-1} too)."""
        dax, dah, dct, dh = self._rows
        return StepOut(dax[t], dah[t], dct[t], dh[t - 1] if with_prev else None, with_prev)

    def add(self, t, dh, dct, dax, dah):
        for acc, value in ((self.dh, dh), (self.dct, dct), (self.dax, dax), (self.dah, dah)):
            if acc is not None:
                acc[t] += value


def sweep(cell, ops, P, tape, inj, loss_set, blocks, into: Into):
    """Run BPTT over the blocks, injecting inj[t] at the steps in loss_set, summing the results into `into`.

    When no two blocks share a step (full BPTT, TBPTT with k2 <= k1), every step is visited
    once, so the cell writes straight into the rows of `into`: no per-step temporaries or
    copies (~3 % of an LSTM run() at T=200, H=128, measured against adding them up). With
    k2 > k1 the visits are added up. At the lowest step of a block nothing flows further
    back, so the cell skips dL/dh_{t-1} (its GEMM).
    """
    in_place = all(lo > next_end for (_, lo, _), (next_end, _, _) in zip(blocks, blocks[1:]))
    for end, lo, first_loss in blocks:
        dh, dc = None, None
        for t in range(end, lo - 1, -1):
            g = inj[t] if (t >= first_loss and t in loss_set) else None
            if in_place:  # dh, if any, already sits in into.dh[t] (the step above wrote it there)
                if g is not None:
                    if dh is None:
                        into.dh[t] = g
                    else:
                        into.dh[t] += g
                dh = None if dh is None and g is None else into.dh[t]
            else:
                dh = g if dh is None else (dh if g is None else dh + g)
            if dh is None:
                continue
            out = into.rows(t, t > lo) if in_place else (NO_OUT if t > lo else LAST_STEP)
            dax, dah, dh_prev, dc_prev, dct = cell.backward_step(ops, P, tape, t, dh, dc, out)
            if not in_place:
                into.add(t, dh, dct, dax, None if dah is dax else dah)
            dh, dc = dh_prev, dc_prev


def forward_backward(cell, ops, P, X, target, loss_steps, kind: str, tbptt, every_step: bool) -> Pass:
    """One pass: unroll, loss, BPTT (full or truncated), parameter gradients."""
    T, B, _ = X.shape
    H = P["weight_hh"].shape[1]
    GH = P["weight_hh"].shape[0]
    tape = cell.forward(ops, P, X)
    hs = tape.hs
    h_loss = ops.take_rows(hs, loss_steps + 1)  # (L, B, H)
    y = h_loss @ P["head_weight"].T + P["head_bias"]
    loss_seq, dy = loss_and_grad(ops, kind, y, target, per_step=False)
    local = ops.zeros((T, B, H))
    local[loss_steps] = dy @ P["head_weight"]

    shared = not cell.split_projection  # RNN/LSTM: one pre-activation feeds both weight matrices
    into = Into(
        dh=ops.zeros((T, B, H)),
        dct=ops.zeros((T, B, H)) if tape.cs is not None else None,
        dax=ops.zeros((T, B, GH)),
        dah=None if shared else ops.zeros((T, B, GH)),
    )
    blocks = truncation_blocks(T, tbptt)
    loss_set = set(int(s) for s in ops.to_numpy(loss_steps))
    sweep(cell, ops, P, tape, local, loss_set, blocks, into)
    dAx = into.dax
    dAh = dAx if shared else into.dah

    dh_last = None
    if every_step and T > 1:
        dh_last = ops.zeros((T, B, H))
        only_last = {T - 1: local[T - 1] * len(loss_steps)}  # undo the 1/L of the mean: one step's own loss
        sweep(cell, ops, P, tape, only_last, set(only_last), blocks[:1], Into(dh=dh_last))

    n = float(B)
    grads = {
        "weight_ih": ops.mm(dAx.reshape(T * B, GH).T, X.reshape(T * B, -1)) / n,
        "weight_hh": ops.mm(dAh.reshape(T * B, GH).T, hs[:-1].reshape(T * B, H)) / n,
        "bias_ih": dAx.reshape(T * B, GH).sum(0) / n,
        "bias_hh": dAh.reshape(T * B, GH).sum(0) / n,
        "head_weight": (dy.reshape(-1, dy.shape[-1]).T @ h_loss.reshape(-1, H)) / n,
        "head_bias": dy.sum((0, 1)) / n,
    }
    return Pass(tape, loss_seq, grads, into.dh, into.dct, dAh, local, dh_last)


# Per-step factors whose largest magnitude lies in this range (or is 0) are squared as they
# are: their products neither underflow nor overflow in the array's precision. Others are
# divided by that magnitude first.
SAFE_MAGNITUDE = {4: (1e-12, 1e12), 8: (1e-100, 1e100)}  # by itemsize: float32, float64


def contrib_norms(dah, hprev, batch_size: int) -> np.ndarray:
    """||sum_b dah[t, b] outer hprev[t, b]||_F / B for every t: step t's term of dL/dW_hh (numpy in, float64 out).

    Uses the B x B Gram matrices (||A^T H||_F^2 = <A A^T, H H^T>, summed in float64) when
    that is cheaper. Steps with vanishing (or huge) factors are rescaled by their largest
    magnitude, so their squares keep full relative precision; a step with a non-finite
    value gives a non-finite result.
    """
    a, h = np.asarray(dah), np.asarray(hprev)
    T, B, GH = a.shape
    H = h.shape[-1]
    with np.errstate(all="ignore"):
        sa, sh = _step_scales(a), _step_scales(h)
        if B * (GH + H) <= GH * H:
            sq = np.einsum("tij,tij->t", _scaled_gram(a, sa), _scaled_gram(h, sh), dtype=np.float64)
        else:
            at, ht = (x / s[:, None, None].astype(x.dtype) for x, s in ((a, sa), (h, sh)))
            sq = np.array([np.square(at[t].T @ ht[t]).sum(dtype=np.float64) for t in range(T)])
        # A non-finite factor makes its Gram diagonal inf or NaN, and so the result.
        return np.sqrt(np.clip(sq, 0, None)) * sa * sh / batch_size


def _scaled_gram(x: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """(x[t] / scales[t]) (x[t] / scales[t])^T for every t, dividing only the runs of steps whose scale is not 1."""
    T, B, _ = x.shape
    out = np.empty((T, B, B), dtype=x.dtype)
    rescale = scales != 1
    bounds = [0, *(np.flatnonzero(np.diff(rescale)) + 1), T]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        part = x[lo:hi] / scales[lo:hi, None, None].astype(x.dtype) if rescale[lo] else x[lo:hi]
        np.matmul(part, part.swapaxes(1, 2), out=out[lo:hi])
    return out


def _step_scales(x: np.ndarray) -> np.ndarray:
    """Per step: 1 where x[t] can be squared as it is, else its largest magnitude (float64)."""
    m = np.maximum(x.max(axis=(1, 2)), -x.min(axis=(1, 2))).astype(np.float64)
    lo, hi = SAFE_MAGNITUDE[x.dtype.itemsize]
    return np.where((m == 0) | ((m >= lo) & (m <= hi)) | ~np.isfinite(m), 1.0, m)
