"""The LSTM's BPTT sweep in place: the fast path of engine.bptt.sweep, as LSTM.unroll is of the step loop.

The same arithmetic as LSTM.step_back driven by bptt.walk, in the same order, so the sums come
out equal to the last bit (tests/test_lstm_sweep.py compares them with the shared loop), but
written straight into the (T, ...) sums: dL/dh_{t-1} is the GEMM's output row, the total dL/dc_t
and the gate gradients are computed into their own rows, the cat goes into one preallocated
row, and no tuple or generator is made per step: four small kernels, a cat and one GEMM a step,
where the shared loop runs about ten.

It serves the sweeps that visit each step at most once (full BPTT, TBPTT with k2 <= k1); with
k2 > k1 the blocks overlap, a step's sums add up over visits, and bptt.sweep takes the shared loop.
"""

from __future__ import annotations

import torch


def lstm_sweep(P, caches, inject: dict, blocks, dh_sum, dc_sum=None, da_sum=None) -> None:
    """BPTT over the blocks into the zeroed (T, B, H) dh_sum, and when given (T, B, H) dc_sum and (T, B, 4H) da_sum.

    inject[t] is dL/dh_t of step t's own loss (B, H). Without dc_sum / da_sum (only dL/dh_t asked for)
    one scratch row stands in for each. Requires engine.bptt.visits_once(blocks, T).
    """
    T = len(caches)
    DH = dh_sum.unbind(0)
    B, H = DH[0].shape
    W = P["weight_hh"]
    cc = dh_sum.new_empty((B, H))  # dL/dc_t carried in from step t+1 (f_{t+1} dL/dc_{t+1})
    zero = dh_sum.new_zeros((B, H))
    fed = dh_sum.new_empty((B, 4 * H))  # [dL/dc_t, dL/dc_t, dL/dc_t, dL/dh_t]: what feeds each gate's rows
    DC = dc_sum.unbind(0) if dc_sum is not None else [dh_sum.new_empty((B, H))] * T
    DA = da_sum.unbind(0) if da_sum is not None else [dh_sum.new_empty((B, 4 * H))] * T
    for end, lo, first in blocks:
        flowing = False  # whether step t+1 handed something back
        for t in range(min(end, T - 1), lo - 1, -1):
            g = inject.get(t) if t >= first else None
            if g is not None:
                DH[t].add_(g)  # the row holds what step t+1 handed back, or zeros
            elif not flowing:
                continue
            fac, dtc, f, _ = caches[t]
            dh = DH[t]
            dct = torch.addcmul(cc if flowing else zero, dh, dtc, out=DC[t])  # total dL/dc_t
            # i, f, g are fed by dL/dc_t, o by dL/dh_t. A cat into a scratch row and one contiguous product: writing
            # the gate blocks of the row as strided outputs took ~6x as long.
            torch.mul(torch.cat((dct, dct, dct, dh), -1, out=fed), fac, out=DA[t])
            flowing = t > lo
            if flowing:
                torch.mm(DA[t], W, out=DH[t - 1])
                torch.mul(dct, f, out=cc)
