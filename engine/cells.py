"""RNN, LSTM and GRU cells in the torch.nn layouts: forward unroll, one-step backward, init.

Each cell's backward rule sits beside its forward. `forward` unrolls the whole sequence
and keeps a Tape of what the backward needs; `backward_step` maps the total gradient
arriving at step t (dh, and dc for the LSTM) to the gradients of the step's
pre-activations and of the previous state. It broadcasts over leading axes, so the
connectivity pass can carry many cotangents (R, B, H) through the same tape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from .theory import spectral_radius

GATES = {"rnn": (), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
N_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}


@dataclass
class Tape:
    """What the forward pass keeps for BPTT (arrays of the backend in use)."""

    hs: object  # (T+1, B, H): hs[0] = h_{-1} = 0, hs[t+1] = h_t
    act: object  # RNN: phi'(a_t) (T, B, H); LSTM (T, B, 4H) i f g o; GRU (T, B, 3H) r z n
    cs: object = None  # LSTM (T+1, B, H) cell states
    fac: object = None  # LSTM (T, B, 4H), GRU (T, B, 3H): local derivatives for the backward step
    dtc: object = None  # LSTM (T, B, H): o_t (1 - tanh(c_t)^2)

    def subset(self, nb: int) -> Tape:
        """The tape of the first nb sequences of the batch."""
        return Tape(**{k: None if v is None else v[:, :nb] for k, v in vars(self).items()})


class StepOut(NamedTuple):
    """Where a backward step may write its results (rows of the sweep's accumulators); None: allocate."""

    dax: object = None
    dah: object = None  # only for cells whose x- and h-projections get different gradients (GRU)
    dct: object = None
    dh_prev: object = None
    prev: bool = True  # False at the lowest step of a truncation block: skip dL/dh_{t-1} (its GEMM) and dL/dc_{t-1}


NO_OUT = StepOut()
LAST_STEP = StepOut(prev=False)


class RNN:
    """Elman RNN: h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""

    split_projection = False  # the x- and h-projections share one pre-activation gradient
    rows = None  # no many-rows step: connectivity uses backward_step per row

    def __init__(self, activation: str):
        self.activation = activation

    def forward(self, ops, P, X) -> Tape:
        T, B, _ = X.shape
        H = P["weight_hh"].shape[1]
        xproj = ops.mm(X, P["weight_ih"].T) + (P["bias_ih"] + P["bias_hh"])  # (T, B, H)
        hs, deriv = ops.zeros((T + 1, B, H)), ops.empty((T, B, H))
        whh_t = P["weight_hh"].T
        phi = self.activation
        for t in range(T):
            a = xproj[t] + ops.mm(hs[t], whh_t)
            if phi == "tanh":
                h = ops.tanh(a)
                deriv[t] = 1 - h * h
            elif phi == "relu":
                h = ops.relu(a)
                deriv[t] = a > 0
            elif phi == "sigmoid":
                h = ops.sigmoid(a)
                deriv[t] = h * (1 - h)
            else:
                h = a
            hs[t + 1] = h
        if phi == "linear":
            deriv[:] = 1
        return Tape(hs=hs, act=deriv)

    def backward_step(self, ops, P, tape, t, dh, dc=None, out=NO_OUT):
        """-> (d pre from x, d pre from h, dL/dh_{t-1}, None, None); pre is shared in an RNN."""
        da = ops.multiply(dh, tape.act[t], out=out.dax)
        return da, da, ops.mm(da, P["weight_hh"], out=out.dh_prev) if out.prev else None, None, None


class LSTMRows:
    """The LSTM backward step for many cotangent rows at once (the connectivity pass), on torch views.

    Same maths as LSTM.backward_step, rearranged for R rows of B sequences: the three gates
    fed by dL/dc_t share one GEMM. With F_k = diag(fac_k[b]) per sequence b,

        dL/dh_{t-1} = sum_k (dct F_k) W_k + (dh F_o) W_o = dct M_b + dh N_b,
        M_b = sum_{k=i,f,g} F_k W_k,  N_b = F_o W_o   (H x H per sequence, built each step),

    which is half the multiply-adds of the four per-gate products (and no (4, R, B, H)
    array to write). The input weights ride along: [W_hh | W_ih] blocks give dL/dx_t with
    the same M_b, N_b. Row buffers are batch-major (B, R, H), so each sequence's rows are
    one contiguous matrix for the batched GEMM.
    """

    def __init__(self, ops, P, tape):
        T, B, H = tape.dtc.shape
        self.ops, self.H = ops, H
        w = torch.cat([ops.tensor(P["weight_hh"]), ops.tensor(P["weight_ih"])], dim=1)  # (4H, H + I)
        self.w = list(w.view(4, 1, H, w.shape[1]))  # per gate, broadcast over sequences
        # Per-step views made once (indexing a tensor costs ~3 us); local derivatives as (B, H, 1) row scales of W.
        self.fac = [list(f) for f in ops.tensor(tape.fac).view(T, B, 4, H, 1).unbind(2)]  # [gate][t] -> (B, H, 1)
        self.dtc = list(ops.tensor(tape.dtc).unsqueeze(2))  # (B, 1, H): broadcast over rows
        self.forget = list(ops.tensor(tape.act)[..., H : 2 * H].unsqueeze(2))

    def step(self, t, D, Dc):
        """D, Dc (B, R, H): dL/dh_t -> dL/dh_{t-1}, dL/dc_t (via c_{t+1}) -> dL/dc_{t-1}; returns dL/dx_t (B, R, I)."""
        H, fac, w = self.H, self.fac, self.w
        mn = torch.mul(w[0], fac[0][t])  # [M_b | U_b], (B, H, H + I)
        mn.addcmul_(w[1], fac[1][t]).addcmul_(w[2], fac[2][t])
        no = torch.mul(w[3], fac[3][t])  # [N_b | V_b]
        dct = torch.addcmul(Dc, D, self.dtc[t])  # total dL/dc_t
        dx = self.ops.from_tensor(dct) @ self.ops.from_tensor(mn[..., H:]) + self.ops.from_tensor(D) @ self.ops.from_tensor(no[..., H:])
        dh_prev = torch.bmm(dct, mn[..., :H]).baddbmm_(D, no[..., :H])
        torch.mul(dct, self.forget[t], out=Dc)
        D.copy_(dh_prev)
        return dx


class LSTM:
    """LSTM: i, f, o = sigmoid, g = tanh; c_t = f c_{t-1} + i g; h_t = o tanh(c_t)."""

    split_projection = False
    rows = LSTMRows  # the many-rows backward step the connectivity pass uses

    def forward(self, ops, P, X) -> Tape:
        T, B, _ = X.shape
        H = P["weight_hh"].shape[1]
        # tanh(x) = 2 sigmoid(2x) - 1: with the g rows doubled, one sigmoid call serves all four gates.
        scale = ops.asarray(np.repeat([1.0, 1.0, 2.0, 1.0], H))
        act = ops.mm(X, P["weight_ih"].T * scale)  # x-projections (scaled: exact, by 1 or 2), turned into gates in place
        act += (P["bias_ih"] + P["bias_hh"]) * scale
        hs, cs, tcs = ops.empty((T + 1, B, H)), ops.empty((T + 1, B, H)), ops.empty((T, B, H))
        hs[0], cs[0] = 0, 0  # every later row is written by the loop
        # The loop runs on torch views with in-place ops: no temporaries, one GEMM and six small kernels a step.
        w = ops.tensor(P["weight_hh"].T * scale)
        A, Hs, Cs, Tc = (ops.tensor(v).unbind(0) for v in (act, hs, cs, tcs))
        I, F, S, O = (v.unbind(0) for v in ops.tensor(act).view(T, B, 4, H).unbind(2))  # S = sigmoid(2 a_g)
        for t in range(T):
            A[t].addmm_(Hs[t], w).sigmoid_()
            c = torch.mul(F[t], Cs[t], out=Cs[t + 1])
            c.addcmul_(I[t], S[t], value=2).sub_(I[t])  # + i (2 S - 1) = + i g
            torch.mul(O[t], torch.tanh(c, out=Tc[t]), out=Hs[t + 1])
        # Local derivatives for BPTT, over all steps at once: d pre / d c_t for i, f, g; d pre_o / d h_t.
        # Written as products of exact differences (1 - s, 1 - tanh, 1 + tanh), never 1 - x^2:
        # saturated units keep their tiny derivatives to full relative precision.
        a = ops.tensor(act)
        fac = torch.mul(torch.rsub(a, 1), a)  # s (1 - s) for all four blocks (S in the g block)
        i, f, g, o = a.view(T, B, 4, H).unbind(2)
        fi, ff, fg, fo = fac.view(T, B, 4, H).unbind(2)
        fg.mul_(i).mul_(4)  # i (1 - g^2) = 4 i S (1 - S)
        g.mul_(2).sub_(1)  # g = 2 S - 1 = tanh(a_g)
        fi.mul_(g)
        ff.mul_(ops.tensor(cs)[:-1])
        tc = ops.tensor(tcs)
        fo.mul_(tc)
        dtc = torch.rsub(tc, 1).mul_(tc + 1).mul_(o)  # o (1 - tanh(c)^2)
        fac, dtc = ops.from_tensor(fac), ops.from_tensor(dtc)
        return Tape(hs=hs, act=act, cs=cs, fac=fac, dtc=dtc)

    def backward_step(self, ops, P, tape, t, dh, dc, out=NO_OUT):
        """-> (d pre, d pre, dL/dh_{t-1}, dL/dc_{t-1} via c, total dL/dc_t)."""
        H = P["weight_hh"].shape[1]
        dct = ops.multiply(dh, tape.dtc[t], out=out.dct)
        if dc is not None:
            dct += dc
        da = ops.gate_product(dct, dh, tape.fac[t], out=out.dax)  # [dct, dct, dct, dh] * fac
        if not out.prev:
            return da, da, None, None, dct
        return da, da, ops.mm(da, P["weight_hh"], out=out.dh_prev), dct * tape.act[t, :, H : 2 * H], dct


class GRU:
    """GRU (torch): r, z = sigmoid; n = tanh(W_in x + b_in + r (W_hn h + b_hn)); h = (1-z) n + z h_{t-1}."""

    split_projection = True  # r gates only the h-projection of n, so its two gradients differ
    rows = None  # no many-rows step: connectivity uses backward_step per row

    def forward(self, ops, P, X) -> Tape:
        T, B, _ = X.shape
        H = P["weight_hh"].shape[1]
        xproj = ops.mm(X, P["weight_ih"].T) + P["bias_ih"]  # (T, B, 3H)
        hs, act, fac = ops.zeros((T + 1, B, H)), ops.empty((T, B, 3 * H)), ops.empty((T, B, 3 * H))
        whh_t, bhh = P["weight_hh"].T, P["bias_hh"]
        for t in range(T):
            hp = ops.mm(hs[t], whh_t) + bhh  # (B, 3H)
            a, k = act[t], fac[t]
            a[:, : 2 * H] = ops.sigmoid(xproj[t, :, : 2 * H] + hp[:, : 2 * H])
            r, z = a[:, :H], a[:, H : 2 * H]
            n = ops.tanh(xproj[t, :, 2 * H :] + r * hp[:, 2 * H :])
            a[:, 2 * H :] = n
            hs[t + 1] = n + z * (hs[t] - n)
            # Local derivatives, kept for BPTT: d a_r / d(dn), d a_z / dh, d a_n / dh.
            k[:, :H] = hp[:, 2 * H :] * r * (1 - r)
            k[:, H : 2 * H] = (hs[t] - n) * z * (1 - z)
            k[:, 2 * H :] = (1 - z) * (1 - n * n)
        return Tape(hs=hs, act=act, fac=fac)

    def backward_step(self, ops, P, tape, t, dh, dc=None, out=NO_OUT):
        """-> (d x-projection, d h-projection, dL/dh_{t-1}, None, None)."""
        H = P["weight_hh"].shape[1]
        k, a = tape.fac[t], tape.act[t]
        dan = dh * k[:, 2 * H :]
        dar = dan * k[:, :H]
        daz = dh * k[:, H : 2 * H]
        dax = ops.cat([dar, daz, dan], out=out.dax)
        dah = ops.cat([dar, daz, dan * a[:, :H]], out=out.dah)
        if not out.prev:
            return dax, dah, None, None, None
        dh_prev = ops.mm(dah, P["weight_hh"], out=out.dh_prev)
        dh_prev += dh * a[:, H : 2 * H]
        return dax, dah, dh_prev, None, None


def make_cell(cell: str, activation: str = "tanh"):
    return {"rnn": lambda: RNN(activation), "lstm": LSTM, "gru": GRU}[cell]()


def init_params(cfg, input_size: int, output_size: int) -> dict[str, torch.Tensor]:
    """Parameters in the torch.nn cell layout plus a linear read-out (head_weight, head_bias).

    Input weights, biases and the read-out follow torch's default U(-1/sqrt(H), 1/sqrt(H));
    each H x H recurrent block is drawn by `cfg.init` and rescaled to spectral radius
    `cfg.recurrent_scale`; `cfg.forget_bias` is added to the LSTM forget-gate bias.
    """
    gen = torch.Generator().manual_seed(cfg.seed)
    H, G = cfg.hidden_size, N_BLOCKS[cfg.cell]
    bound = 1.0 / np.sqrt(H)

    def uniform(*shape):
        return (torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound

    params = {
        "weight_ih": uniform(G * H, input_size),
        "weight_hh": torch.cat([recurrent_block(cfg.init, H, gen, bound) for _ in range(G)]),
        "bias_ih": uniform(G * H),
        "bias_hh": uniform(G * H),
        "head_weight": uniform(output_size, H),
        "head_bias": uniform(output_size),
    }
    for k in range(G):
        block = params["weight_hh"][k * H : (k + 1) * H]
        # Orthogonal and identity blocks have every |eigenvalue| = 1: no eigensolver needed.
        rho = 1.0 if cfg.init in ("orthogonal", "identity") else spectral_radius(block.numpy())
        if rho > 0:
            block *= cfg.recurrent_scale / rho
    if cfg.cell == "lstm":
        params["bias_ih"][H : 2 * H] += cfg.forget_bias
    return {k: v.to(getattr(torch, cfg.dtype)) for k, v in params.items()}


def recurrent_block(init: str, H: int, gen: torch.Generator, bound: float) -> torch.Tensor:
    """One H x H recurrent block before rescaling."""
    if init == "orthogonal":
        return torch.nn.init.orthogonal_(torch.empty(H, H, dtype=torch.float64), generator=gen)
    if init == "identity":
        return torch.eye(H, dtype=torch.float64)
    if init == "normal":
        return torch.randn(H, H, generator=gen, dtype=torch.float64) / np.sqrt(H)
    return (torch.rand(H, H, generator=gen, dtype=torch.float64) * 2 - 1) * bound
