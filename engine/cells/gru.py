"""GRU (torch convention): r, z = sigmoid; n = tanh(W_in x + b_in + r (W_hn h + b_hn)); h = (1 - z) n + z h_{t-1}."""

from __future__ import annotations

import torch

from .base import Back, Cell, Pre, Step, Tape, affine_grads, matrix_init, matrix_spectra, recurrent_term


class GRU(Cell):
    name = "gru"
    label = "GRU"
    description = "the update gate z mixes the old state straight through: a shortcut for the gradient"
    order = 2
    gates = {"r": "sigmoid", "z": "sigmoid", "n": "tanh"}
    scale_meaning = "the spectral radius of each of the three H x H blocks of W_hh (r, z, n)"
    recurrent_blocks = 3
    split_pre = True  # r gates only the recurrent term of n

    def init_params(self, cfg, input_size, gen, uniform):
        return matrix_init(cfg, gen, uniform, input_size, 3, cfg.hidden_size)

    def project(self, P, X):
        return X @ P["weight_ih"].T + P["bias_ih"]  # (T, B, 3H); b_hn sits inside r (...)

    def step(self, P, xp_t, state):
        hprev = state[0]
        H = hprev.shape[-1]
        hp = recurrent_term(P["bias_hh"], hprev, P["weight_hh"])  # (B, 3H)
        rz = torch.sigmoid(xp_t[..., : 2 * H] + hp[..., : 2 * H])
        r, z = rz[..., :H], rz[..., H:]
        n = torch.tanh(xp_t[..., 2 * H :] + r * hp[..., 2 * H :])
        h = n + z * (hprev - n)
        # Local derivatives for the step back: d a_r / d(da_n), d a_z / dh, d a_n / dh.
        fac = torch.cat([hp[..., 2 * H :] * r * (1 - r), (hprev - n) * z * (1 - z), (1 - z) * (1 - n * n)], -1)
        return Step((h,), (torch.cat([rz, n], -1), fac))

    def step_back(self, P, cache, dstate, prev=True):
        act, k = cache
        dh = dstate[0]
        H = dh.shape[-1]
        dan = dh * k[..., 2 * H :]
        dar = dan * k[..., :H]
        daz = dh * k[..., H : 2 * H]
        dax = torch.cat([dar, daz, dan], -1)
        dah = torch.cat([dar, daz, dan * act[..., :H]], -1)
        if not prev:
            return Back(None, Pre(dax, dah))
        return Back((torch.addcmul(dah @ P["weight_hh"], dh, act[..., H : 2 * H]),), Pre(dax, dah))

    def finish(self, tape: Tape) -> Tape:
        tape.gates = torch.stack([c[0] for c in tape.caches])
        return tape

    def param_grads(self, P, X, tape, dx, dh):
        return affine_grads(X, tape.hs[:-1], dx, dh)

    def spectra(self, P, cfg, fresh):
        return matrix_spectra(P, cfg, fresh, tuple(self.gates))


CELL = GRU
