"""GRU (torch convention): r, z = sigmoid; n = tanh(W_in x + b_in + r (W_hn h + b_hn)); h = (1 - z) n + z h_{t-1}."""

from __future__ import annotations

import torch

from .base import Back, Cell, Gate, Path, Pre, Step, Tape, affine_grads, matrix_init, matrix_spectra, recurrent_term


class GRU(Cell):
    name = "gru"
    label = "GRU"
    description = "the update gate z mixes the old state straight through: a shortcut for the gradient"
    order = 2
    gates = {"r": Gate("sigmoid", "reset gate"), "z": Gate("sigmoid", "update gate"), "n": Gate("tanh", "candidate")}
    direct = Path("h", "z")  # h = n + z (h_{t-1} - n): the direct path keeps z
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

    def equations(self, P, x_t, state):
        h = state[0]
        xr, xz, xn = (x_t @ P["weight_ih"].T + P["bias_ih"]).chunk(3, -1)
        hr, hz, hn = (h @ P["weight_hh"].T + P["bias_hh"]).chunk(3, -1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return ((1 - z) * n + z * h,)

    def unroll(self, P, X) -> Tape:
        """The same maths as `step`, in place on preallocated rows; the local derivatives over all steps at once."""
        T, B, _ = X.shape
        H = P["weight_hh"].shape[1]
        act = self.project(P, X)  # x-projections, turned into r, z, n in place
        hs, hp = X.new_empty((T + 1, B, H)), X.new_empty((T, B, 3 * H))
        rn = X.new_empty((B, H))  # r (W_hn h + b_hn) of the current step
        hs[0] = 0
        w, bias = P["weight_hh"].T, P["bias_hh"]
        Hs, Hp = hs.unbind(0), hp.unbind(0)
        RZ, R, Z, N = (v.unbind(0) for v in (act[..., : 2 * H], act[..., :H], act[..., H : 2 * H], act[..., 2 * H :]))
        HRZ, HN = hp[..., : 2 * H].unbind(0), hp[..., 2 * H :].unbind(0)
        for t in range(T):
            torch.addmm(bias, Hs[t], w, out=Hp[t])
            RZ[t].add_(HRZ[t]).sigmoid_()
            n = N[t].add_(torch.mul(R[t], HN[t], out=rn)).tanh_()
            torch.sub(Hs[t], n, out=Hs[t + 1]).mul_(Z[t]).add_(n)
        r, z, n = act[..., :H], act[..., H : 2 * H], act[..., 2 * H :]
        fac = X.new_empty((T, B, 3 * H))
        torch.mul(hp[..., 2 * H :] * r, 1 - r, out=fac[..., :H])
        torch.mul((hs[:-1] - n) * z, 1 - z, out=fac[..., H : 2 * H])
        torch.mul(1 - z, 1 - n * n, out=fac[..., 2 * H :])
        return Tape(hs=hs, caches=list(zip(act.unbind(0), fac.unbind(0))), xp=act, gates=act)

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
        return affine_grads(self, P, X, tape, dx, dh)

    def spectra(self, P, cfg, fresh):
        return matrix_spectra(P, cfg, fresh, tuple(self.gates))


CELL = GRU
