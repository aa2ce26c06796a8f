"""IndRNN (Li et al. 2018, "Independently recurrent neural network"): h_t = phi(W x_t + u * h_{t-1} + b).

Each unit recurs only on itself through its own weight u_i, so one step back multiplies
unit i's gradient by u_i phi'(a_t,i): with linear phi and every u_i = s, by exactly s.
"""

from __future__ import annotations

import torch

from .base import GAMMA, PHI, Back, Cell, Path, Pre, Product, Step, Tape, activation_and_deriv


class IndRNN(Cell):
    name = "indrnn"
    label = "IndRNN"
    description = "each unit recurs only on itself (hₜ = φ(W xₜ + u ⊙ hₜ₋₁ + b)): its gradient scales by uᵢ·φ′ per step"
    order = 3
    uses_activation = True
    scale_meaning = (
        "max |uᵢ| over the units. identity: every uᵢ = scale; orthogonal: uᵢ = ±scale with random signs "
        "(the diagonal orthogonal matrices); normal and torch: u drawn N(0, 1) or U(-1, 1), then rescaled so that max |uᵢ| = scale"
    )

    products = (Product("u", "h", form="diagonal"),)
    direct = Path("h", "unit")  # unit i's gradient is scaled by u_i phi'(a) per step back

    def __init__(self, activation: str = "tanh"):
        self.activation = activation

    def init_params(self, cfg, input_size, gen, uniform):
        H, s = cfg.hidden_size, cfg.recurrent_scale
        weight_ih = uniform(H, input_size)
        if cfg.init == "identity":
            u = torch.full((H,), s, dtype=torch.float64)
        elif cfg.init == "orthogonal":
            u = s * torch.where(torch.rand(H, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0).double()
        else:
            raw = torch.randn(H, generator=gen, dtype=torch.float64) if cfg.init == "normal" else uniform(H)
            u = raw * (s / raw.abs().max())
        bias = uniform(H)  # drawn in every case, so the generator's stream does not depend on init
        return {"weight_ih": weight_ih, "u": u, "bias_ih": bias.zero_() if cfg.init == "identity" else bias}

    def project(self, P, X):
        return X @ P["weight_ih"].T + P["bias_ih"]  # (T, B, H)

    def step(self, P, xp_t, state):
        h, deriv = activation_and_deriv(self.activation, torch.addcmul(xp_t, P["u"], state[0]))
        return Step((h,), (deriv,))

    def equations(self, P, x_t, state):
        return (PHI[self.activation](x_t @ P["weight_ih"].T + P["bias_ih"] + P["u"] * state[0]),)

    def step_back(self, P, cache, dstate, prev=True):
        da = dstate[0] * cache[0]
        return Back((da * P["u"],) if prev else None, Pre(da, da))

    def finish(self, tape: Tape) -> Tape:
        tape.deriv = torch.stack([c[0] for c in tape.caches])
        return tape

    def param_grads(self, P, X, tape, dx, dh):
        T, B, H = dx.shape
        a = dx.reshape(T * B, H)
        return {"weight_ih": a.T @ X.reshape(T * B, -1), **self.product_grads(P, tape, dh), "bias_ih": a.sum(0)}

    def spectra(self, P, cfg, fresh):
        m = float(P["u"].detach().abs().max())
        return ("u",), [m], [m]

    def unit_decay(self, P):
        return P["u"].detach().abs().double().cpu().numpy()

    def gamma(self, cfg):
        return GAMMA[cfg.activation]

    def cost(self, H, B, I, itemsize=4):
        from .base import Cost

        return Cost(float(3 * 2 * B * H * I + 12 * B * H), float(itemsize * B * H * 3))


CELL = IndRNN
