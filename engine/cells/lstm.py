"""LSTM: i, f, o = sigmoid, g = tanh; c_t = f c_{t-1} + i g; h_t = o tanh(c_t) (torch.nn.LSTMCell layout, rows i f g o)."""

from __future__ import annotations

import torch

from .base import Back, Cell, Gate, Path, Pre, Step, Tape, affine_grads, matrix_init, matrix_spectra, recurrent_term
from .lstm_rows import LSTMRows
from .lstm_sweep import lstm_sweep


class LSTM(Cell):
    name = "lstm"
    label = "LSTM"
    description = "the cell state c_t is an additive path, scaled only by the forget gate"
    order = 1
    gates = {
        "i": Gate("sigmoid", "input gate"),
        "f": Gate("sigmoid", "forget gate"),
        "g": Gate("tanh", "candidate"),
        "o": Gate("sigmoid", "output gate"),
    }
    direct = Path("c", "f")  # c_t = f c_{t-1} + i g: the cell path keeps f
    has_forget_bias = True
    scale_meaning = "the spectral radius of each of the four H x H blocks of W_hh (i, f, g, o)"
    state_names = ("h", "c")
    recurrent_blocks = 4
    rows = LSTMRows  # the many-rows step back the connectivity pass uses
    fast_sweep = staticmethod(lstm_sweep)  # bptt.sweep's in-place loop for this cell: step_back's arithmetic, no per-step tuples

    def init_params(self, cfg, input_size, gen, uniform):
        P = matrix_init(cfg, gen, uniform, input_size, 4, cfg.hidden_size)
        H = cfg.hidden_size
        P["bias_ih"][H : 2 * H] += cfg.forget_bias
        return P

    def project(self, P, X):
        return X @ P["weight_ih"].T + (P["bias_ih"] + P["bias_hh"])  # (T, B, 4H)

    def step(self, P, xp_t, state):
        """The plain step (the reference for `unroll`, which computes the same in place)."""
        hprev, cprev = state
        H = hprev.shape[-1]
        a = recurrent_term(xp_t, hprev, P["weight_hh"])
        i, f, o = (torch.sigmoid(a[..., k * H : (k + 1) * H]) for k in (0, 1, 3))
        g = torch.tanh(a[..., 2 * H : 3 * H])
        c = f * cprev + i * g
        tc = torch.tanh(c)
        h = o * tc
        # Local derivatives as products of exact differences (1 - s, 1 - tanh, 1 + tanh), never 1 - x^2.
        fac = torch.cat([i * (1 - i) * g, f * (1 - f) * cprev, i * (1 - g) * (1 + g), o * (1 - o) * tc], -1)
        return Step((h, c), (fac, o * (1 - tc) * (1 + tc), f, torch.cat([i, f, g, o], -1)))

    def equations(self, P, x_t, state):
        i, f, g, o = (x_t @ P["weight_ih"].T + P["bias_ih"] + state[0] @ P["weight_hh"].T + P["bias_hh"]).chunk(4, -1)
        c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    def unroll(self, P, X) -> Tape:
        """The same maths as `step`, in place on preallocated buffers: one GEMM and six small kernels a step."""
        T, B, _ = X.shape
        H = P["weight_hh"].shape[1]
        # tanh(x) = 2 sigmoid(2x) - 1: with the g rows doubled, one sigmoid call serves all four gates.
        scale = X.new_tensor([1.0, 1.0, 2.0, 1.0]).repeat_interleave(H)
        act = self.project(P, X).mul_(scale)  # x-projections, turned into gates in place
        hs, cs, tcs = X.new_empty((T + 1, B, H)), X.new_empty((T + 1, B, H)), X.new_empty((T, B, H))
        hs[0], cs[0] = 0, 0
        w = P["weight_hh"].T * scale
        A, Hs, Cs, Tc = (v.unbind(0) for v in (act, hs, cs, tcs))
        I, F, S, O = (v.unbind(0) for v in act.view(T, B, 4, H).unbind(2))  # S = sigmoid(2 a_g)
        for t in range(T):
            A[t].addmm_(Hs[t], w).sigmoid_()
            c = torch.mul(F[t], Cs[t], out=Cs[t + 1])
            c.addcmul_(I[t], S[t], value=2).sub_(I[t])  # + i (2 S - 1) = + i g
            torch.mul(O[t], torch.tanh(c, out=Tc[t]), out=Hs[t + 1])
        a = act
        fac = torch.rsub(a, 1).mul_(a)  # s (1 - s) for all four blocks (S in the g block)
        i, f, g, o = a.view(T, B, 4, H).unbind(2)
        fi, ff, fg, fo = fac.view(T, B, 4, H).unbind(2)
        fg.mul_(i).mul_(4)  # i (1 - g^2) = 4 i S (1 - S)
        g.mul_(2).sub_(1)  # g = 2 S - 1 = tanh(a_g)
        fi.mul_(g)
        ff.mul_(cs[:-1])
        fo.mul_(tcs)
        dtc = torch.rsub(tcs, 1).mul_(tcs + 1).mul_(o)  # o (1 - tanh(c)^2)
        caches = list(zip(fac.unbind(0), dtc.unbind(0), f.unbind(0), act.unbind(0)))
        return Tape(hs=hs, caches=caches, xp=act, cs=cs, gates=act)

    def finish(self, tape: Tape) -> Tape:
        tape.gates = torch.stack([c[3] for c in tape.caches])
        return tape

    def step_back(self, P, cache, dstate, prev=True):
        """dL/dh_t, dL/dc_t (via c_{t+1}) -> the previous ones; dinner = the total dL/dc_t."""
        fac, dtc, f, _ = cache
        dh, dc = dstate
        dct = torch.addcmul(dc, dh, dtc)
        da = torch.cat((dct, dct, dct, dh), -1).mul_(fac)  # i, f, g are fed by dL/dc_t, o by dL/dh_t
        if not prev:
            return Back(None, Pre(da, da), dct)
        return Back((da @ P["weight_hh"], dct * f), Pre(da, da), dct)

    def param_grads(self, P, X, tape, dx, dh):
        return affine_grads(self, P, X, tape, dx, dh)

    def spectra(self, P, cfg, fresh):
        return matrix_spectra(P, cfg, fresh, tuple(self.gates))


CELL = LSTM
