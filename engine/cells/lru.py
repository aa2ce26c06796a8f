"""LRU (Orvieto et al. 2023, "Resurrecting recurrent neural networks for long sequences").

A diagonal complex linear recurrence h_t = lambda * h_{t-1} + gamma * (B x_t) with
lambda = exp(a + i theta) and output y_t = Re(C h_t) + D x_t, which the task head reads as
it reads the other cells' h. The paper writes a = -exp(nu), which forces |lambda| < 1; we
store a = log|lambda| itself (nu = log(-a) where a < 0) so that a recurrent scale >= 1
can show what the paper's parametrisation rules out. gamma = sqrt(|1 - |lambda|^2|) is its
own parameter, initialised from lambda as in the paper (0 when |lambda| = 1 exactly: that
unit then receives no input).

Complex numbers are stored as real pairs: h is (B, 2H) = [Re h | Im h], so the one real
code path serves; ||dL/dh_t|| is then the norm over real and imaginary parts together.
One step back multiplies unit i's gradient by conj(lambda_i): its size by exactly |lambda_i|.
"""

from __future__ import annotations

import math

import torch

from .base import Back, Cell, Cost, Path, Pre, Product, Step

RING = 0.9  # default init: |lambda| on the ring [RING * scale, scale]


class LRU(Cell):
    name = "lru"
    label = "LRU"
    description = "a diagonal complex linear recurrence: each unit's gradient scales by exactly |λᵢ| per step"
    order = 4
    scale_meaning = (
        "max |λᵢ|. identity: every |λᵢ| = scale, phases uniform in [0, 2π); other inits (ring, as in the paper): "
        f"|λᵢ|² uniform in [({RING}·scale)², scale²] (area-uniform on the ring), the largest set to scale, phases uniform"
    )

    complex_state = True
    output_map = ("output yₜ = Re(C hₜ) + D xₜ", "y")  # what the head reads (and trace.hidden records)
    products = (Product("λ", "h", form="complex"),)  # lambda * h_{t-1}, stored as log_mag and theta
    direct = Path("h", "unit")  # unit i's gradient is scaled by conj(lambda_i) per step back

    def init_params(self, cfg, input_size, gen, uniform):
        H, s = cfg.hidden_size, cfg.recurrent_scale

        def rand(*shape):
            return torch.rand(*shape, generator=gen, dtype=torch.float64)

        if cfg.init == "identity":
            mag = torch.full((H,), s, dtype=torch.float64)
        else:
            lo = RING * s
            mag = torch.sqrt(lo**2 + rand(H) * (s**2 - lo**2))
            mag[mag.argmax()] = s
        theta = rand(H) * (2 * math.pi)
        gamma = torch.sqrt((1 - mag**2).abs())

        def normal(*shape, std):
            return torch.randn(*shape, generator=gen, dtype=torch.float64) * std

        std_b, std_c = 1 / math.sqrt(2 * input_size), 1 / math.sqrt(H)
        return {
            "log_mag": mag.log(),
            "theta": theta,
            "gamma_norm": gamma,
            "B_re": normal(H, input_size, std=std_b),
            "B_im": normal(H, input_size, std=std_b),
            "C_re": normal(H, H, std=std_c),
            "C_im": normal(H, H, std=std_c),
            "D": uniform(H, input_size),
        }

    @staticmethod
    def _lam(P):
        """(Re lambda, Im lambda), each (H,)."""
        r = P["log_mag"].exp()
        return r * P["theta"].cos(), r * P["theta"].sin()

    def project(self, P, X):
        """gamma * (B x_t) for every step, as real pairs (T, B, 2H)."""
        bx = X @ torch.cat([P["B_re"], P["B_im"]]).T
        return bx * P["gamma_norm"].repeat(2)

    def step(self, P, xp_t, state):
        lr, li = self._lam(P)
        h = state[0]
        H = h.shape[-1] // 2
        hr, hi = h[..., :H], h[..., H:]
        return Step((torch.cat([lr * hr - li * hi, li * hr + lr * hi], -1) + xp_t,), ())

    def equations(self, P, x_t, state):
        """h' = lambda h + gamma (B x) in complex arithmetic (torch complex numbers, not the real pairs of `step`)."""
        H = P["log_mag"].shape[-1]
        h = torch.complex(state[0][..., :H], state[0][..., H:])
        b = torch.complex(P["B_re"], P["B_im"])
        h = torch.exp(torch.complex(P["log_mag"], P["theta"])) * h + P["gamma_norm"] * (x_t.to(b.dtype) @ b.T)
        return (torch.cat([h.real, h.imag], -1),)

    def equation_output(self, P, h, x_t):
        """y = Re(C h) + D x in complex arithmetic."""
        H = P["log_mag"].shape[-1]
        c = torch.complex(P["C_re"], P["C_im"])
        return (torch.complex(h[..., :H], h[..., H:]) @ c.T).real + x_t @ P["D"].T

    def step_back(self, P, cache, dstate, prev=True):
        d = dstate[0]
        if not prev:
            return Back(None, Pre(d, d))
        lr, li = self._lam(P)
        H = d.shape[-1] // 2
        dr, di = d[..., :H], d[..., H:]
        return Back((torch.cat([lr * dr + li * di, lr * di - li * dr], -1),), Pre(d, d))  # conj(lambda) * d

    def project_back(self, P, dpre_x):
        H = dpre_x.shape[-1] // 2
        g = dpre_x * P["gamma_norm"].repeat(2)
        return g[..., :H] @ P["B_re"] + g[..., H:] @ P["B_im"]

    def param_grads(self, P, X, tape, dx, dh):
        T, B, H2 = dx.shape
        H = H2 // 2
        hp = tape.hs[:-1]
        dr, di, pr, pi = dh[..., :H], dh[..., H:], hp[..., :H], hp[..., H:]
        dlr = (dr * pr + di * pi).sum((0, 1))  # dL/d Re lambda
        dli = (di * pr - dr * pi).sum((0, 1))  # dL/d Im lambda
        lr, li = self._lam(P)
        bx = X @ torch.cat([P["B_re"], P["B_im"]]).T  # (T, B, 2H)
        gx = (dx * bx).sum((0, 1))
        gd = (dx * P["gamma_norm"].repeat(2)).reshape(T * B, H2)
        Xf = X.reshape(T * B, -1)
        return {
            "log_mag": dlr * lr + dli * li,
            "theta": dli * lr - dlr * li,
            "gamma_norm": gx[:H] + gx[H:],
            "B_re": gd[:, :H].T @ Xf,
            "B_im": gd[:, H:].T @ Xf,
        }

    def features(self, P, hs, X):
        """y_t = Re(C h_t) + D x_t for the given states hs (..., 2H) and inputs X."""
        H = hs.shape[-1] // 2
        return hs[..., :H] @ P["C_re"].T - hs[..., H:] @ P["C_im"].T + X @ P["D"].T

    def features_back(self, P, dfeat, hs, X, steps):
        """dL/dy at the loss steps -> dL/dh there, and the gradients of C and D."""
        H = hs.shape[-1] // 2
        L, B, _ = dfeat.shape
        hs_l, x_l = hs[steps], X[steps]
        f = dfeat.reshape(L * B, H)
        grads = {
            "C_re": f.T @ hs_l[..., :H].reshape(L * B, H),
            "C_im": -(f.T @ hs_l[..., H:].reshape(L * B, H)),
            "D": f.T @ x_l.reshape(L * B, -1),
        }
        return torch.cat([dfeat @ P["C_re"], -(dfeat @ P["C_im"])], -1), grads

    def direct_input(self, P, dfeat):
        return dfeat @ P["D"]

    def spectra(self, P, cfg, fresh):
        m = float(P["log_mag"].detach().max().exp())
        return ("λ",), [m], [m]

    def unit_decay(self, P):
        return P["log_mag"].detach().double().exp().cpu().numpy()

    def gamma(self, cfg):
        return 1.0  # linear: ||dh_t/dh_k|| <= max|lambda|^(t-k), with equality for the slowest unit

    def cost(self, H, B, I, itemsize=4):
        return Cost(float(3 * 2 * B * 2 * H * I + 2 * 2 * B * H * H + 20 * B * H), float(itemsize * B * 2 * H * 2))


CELL = LRU
