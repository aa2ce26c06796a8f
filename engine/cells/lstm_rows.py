"""The LSTM's many-rows step back (the connectivity fast path), behind the same contract as step_back."""

from __future__ import annotations

import torch


class LSTMRows:
    """The LSTM step back for many cotangent rows at once, with batch-major (B, R, H) buffers.

    Same maths as LSTM.step_back, rearranged for R rows of B sequences: the three gates fed
    by dL/dc_t share one GEMM. With F_k = diag(fac_k[b]) per sequence b,

        dL/dh_{t-1} = sum_k (dct F_k) W_k + (dh F_o) W_o = dct M_b + dh N_b,
        M_b = sum_{k=i,f,g} F_k W_k,  N_b = F_o W_o   (H x H per sequence, built each step),

    half the multiply-adds of the four per-gate products. The input weights ride along:
    [W_hh | W_ih] blocks give dL/dx_t with the same M_b, N_b.
    """

    def __init__(self, P, tape):
        T, B, H = tape.hs.shape[0] - 1, tape.hs.shape[1], tape.hs.shape[2]
        self.H = H
        w = torch.cat([P["weight_hh"], P["weight_ih"]], dim=1)  # (4H, H + I)
        self.w = list(w.view(4, 1, H, w.shape[1]))  # per gate, broadcast over sequences
        fac = torch.stack([c[0] for c in tape.caches])  # (T, B, 4H)
        self.fac = [list(f) for f in fac.view(T, B, 4, H, 1).unbind(2)]  # [gate][t] -> (B, H, 1): row scales of W
        self.dtc = [c[1].unsqueeze(1) for c in tape.caches]  # (B, 1, H): broadcast over rows
        self.forget = [c[2].unsqueeze(1) for c in tape.caches]

    def step(self, t, D, Dc):
        """D, Dc (B, R, H): dL/dh_t -> dL/dh_{t-1}, dL/dc_t (via c_{t+1}) -> dL/dc_{t-1}, in place; returns dL/dx_t (B, R, I)."""
        H, fac, w = self.H, self.fac, self.w
        mn = torch.mul(w[0], fac[0][t])  # [M_b | U_b], (B, H, H + I)
        mn.addcmul_(w[1], fac[1][t]).addcmul_(w[2], fac[2][t])
        no = torch.mul(w[3], fac[3][t])  # [N_b | V_b]
        dct = torch.addcmul(Dc, D, self.dtc[t])  # total dL/dc_t
        dx = torch.bmm(dct, mn[..., H:]).baddbmm_(D, no[..., H:])
        dh_prev = torch.bmm(dct, mn[..., :H]).baddbmm_(D, no[..., :H])
        torch.mul(dct, self.forget[t], out=Dc)
        D.copy_(dh_prev)
        return dx
