"""The terms of each step's backward formula, measured by the cell's own step_back on the pass's own gradients.

BPTT's sweep keeps only the sums it needs (dL/dh_t, dL/dc_t, the pre-activation gradients).
The formula view also wants the parts of one step back: what step t hands to h_{t-1} (and,
for the LSTM, to c_{t-1}), the gated gradient φ′(a_t) ⊙ ∂L/∂h_t, and the share that skips
W_hh (the GRU's z path). They come from calling `cell.step_back` again on the recorded
gradients, a chunk of steps at a time (step_back broadcasts over leading axes), so they are
the engine's own backward arithmetic, not a second derivation of it.

Each record is (T,) float64: the batch mean of a per-sequence L2 norm over units, the same
summary as Trace.grad_h, so ratios between them read as the per-step factors of the curve.
"""

from __future__ import annotations

import numpy as np
import torch

CHUNK = 64  # steps stacked per step_back call: bounds the extra memory to CHUNK steps of the tape


def lowest_steps(blocks, T: int) -> np.ndarray:
    """(T,) bool: the steps at which a truncation block stops (nothing flows on to t-1), t = 0 included."""
    cut = np.zeros(T, bool)
    cut[0] = True
    for _end, lo, _first in blocks:
        cut[min(int(lo), T - 1)] = True
    return cut


def _norms(x: torch.Tensor) -> np.ndarray:
    """(n, B, S) -> (n,) batch mean of per-sequence L2 norms, in float64."""
    return torch.linalg.vector_norm(x.double(), dim=-1).mean(-1).cpu().numpy()


def _stack(caches, lo: int, hi: int) -> tuple:
    return tuple(torch.stack([c[k] for c in caches[lo:hi]]) for k in range(len(caches[lo])))


def record_terms(cell, P, p, blocks) -> dict:
    """name -> (T,) per-step norms of the parts of one step back (see the module docstring).

    carried:  ‖∂L/∂h_{t−1}‖ handed back by step t alone (0 where a block stops, and at t = 0);
    carried_inner: the same for an inner state (LSTM: ‖f_t ⊙ ∂L/∂c_t‖); cells without one: absent;
    gated:    ‖gradient of the recurrent pre-activations‖ (RNN, IndRNN: ‖φ′(a_t) ⊙ ∂L/∂h_t‖);
    direct:   the part of `carried` that skips W_hh (GRU: ‖z_t ⊙ ∂L/∂h_t‖); only cells where it is not 0;
    deriv_max, deriv_mean: max and mean over units of φ′(a_t) (cells with an activation).
    Under TBPTT with k2 > k1 a step is visited by several blocks: the terms are then those of the summed gradient.
    """
    tape = p.tape
    T = len(tape.caches)
    inner = len(cell.state_names) > 1 and p.dc is not None
    no_w = None
    # The same step back with W_hh = 0: what passes around the matrix. Only a cell whose declared direct path runs along h
    # (GRU: z) has such a part; elsewhere it is 0 (RNN; the LSTM's path runs along c), and its pass cost a third of this.
    if "weight_hh" in P and cell.direct is not None and cell.direct.state == "h":
        no_w = dict(P)
        no_w["weight_hh"] = torch.zeros_like(P["weight_hh"])
    out = {k: np.zeros(T) for k in ("carried", "gated", "direct")}
    if inner:
        out["carried_inner"] = np.zeros(T)
    with torch.no_grad():
        for lo in range(0, T, CHUNK):
            hi = min(lo + CHUNK, T)
            cache, dh = _stack(tape.caches, lo, hi), p.dh[lo:hi]
            if inner:
                # The sweep handed step t the pair (dL/dh_t, the c-gradient from t+1); it recorded dh and the total dL/dc_t.
                # step_back is linear, so the carried-in part is the total less what dh alone adds (its dinner).
                zero = torch.zeros_like(p.dc[lo:hi])
                dstate = (dh, p.dc[lo:hi] - cell.step_back(P, cache, (dh, zero), False).dinner)
            else:
                dstate = (dh,)
            back = cell.step_back(P, cache, dstate, True)
            out["carried"][lo:hi] = _norms(back.dstate[0])
            out["gated"][lo:hi] = _norms(back.dpre.h)
            if inner:
                out["carried_inner"][lo:hi] = _norms(back.dstate[1])
            if no_w is not None:
                out["direct"][lo:hi] = _norms(cell.step_back(no_w, cache, dstate, True).dstate[0])
    cut = lowest_steps(blocks, T)
    for key in ("carried", "carried_inner", "direct"):
        if key in out:
            out[key][cut] = 0.0
    if no_w is None or not out["direct"].any():
        del out["direct"]
    if tape.deriv is not None:
        d = tape.deriv.double()
        out["deriv_max"] = d.amax(-1).mean(-1).cpu().numpy()
        out["deriv_mean"] = d.mean((-1, -2)).cpu().numpy()
    return out
