"""Elman RNN: h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), in the torch.nn.RNNCell layout."""

from __future__ import annotations

import torch

from .base import GAMMA, PHI, Back, Cell, Pre, Step, Tape, activation_and_deriv, affine_grads, matrix_init, matrix_spectra, recurrent_term


class RNN(Cell):
    name = "rnn"
    label = "RNN"
    description = "every step back multiplies the gradient by W_hh and φ′, so it vanishes or explodes geometrically"
    order = 0
    uses_activation = True
    scale_meaning = "the spectral radius of W_hh"
    recurrent_blocks = 1

    def __init__(self, activation: str = "tanh"):
        self.activation = activation

    def init_params(self, cfg, input_size, gen, uniform):
        return matrix_init(cfg, gen, uniform, input_size, 1, cfg.hidden_size)

    def project(self, P, X):
        return X @ P["weight_ih"].T + (P["bias_ih"] + P["bias_hh"])  # (T, B, H)

    def step(self, P, xp_t, state):
        h, deriv = activation_and_deriv(self.activation, recurrent_term(xp_t, state[0], P["weight_hh"]))
        return Step((h,), (deriv,))

    def step_back(self, P, cache, dstate, prev=True):
        da = dstate[0] * cache[0]
        return Back((da @ P["weight_hh"],) if prev else None, Pre(da, da))

    def equations(self, P, x_t, state):
        return (PHI[self.activation](x_t @ P["weight_ih"].T + P["bias_ih"] + state[0] @ P["weight_hh"].T + P["bias_hh"]),)

    def unroll(self, P, X) -> Tape:
        """The same maths as `step`, in place: one GEMM and one activation kernel a step; phi' over all steps at once."""
        T, B, _ = X.shape
        H = P["weight_hh"].shape[1]
        a = self.project(P, X)  # x-projections, turned into pre-activations in place
        hs = X.new_empty((T + 1, B, H))
        hs[0] = 0
        w = P["weight_hh"].T
        A, Hs = a.unbind(0), hs.unbind(0)
        phi = IN_PLACE[self.activation]
        for t in range(T):
            phi(A[t].addmm_(Hs[t], w), out=Hs[t + 1])
        deriv = deriv_from_output(self.activation, a, hs[1:])
        return Tape(hs=hs, caches=[(d,) for d in deriv.unbind(0)], xp=a, deriv=deriv)

    def finish(self, tape: Tape) -> Tape:
        tape.deriv = torch.stack([c[0] for c in tape.caches])
        return tape

    def param_grads(self, P, X, tape, dx, dh):
        return affine_grads(self, P, X, tape, dx, dh)

    def spectra(self, P, cfg, fresh):
        return matrix_spectra(P, cfg, fresh, ("h",))

    def gamma(self, cfg):
        return GAMMA[cfg.activation]


# phi(a) written into a given row (torch.relu takes no out=; it is clamp_min(a, 0) inside torch, bit for bit).
IN_PLACE = {
    "tanh": torch.tanh,
    "relu": lambda a, out: torch.clamp_min(a, 0, out=out),
    "sigmoid": torch.sigmoid,
    "linear": lambda a, out: out.copy_(a),
}


def deriv_from_output(phi: str, a: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """phi'(a) from the outputs h = phi(a) (all steps at once), with the formulas of activation_and_deriv."""
    if phi == "tanh":
        return 1 - h * h
    if phi == "relu":
        return (a > 0).to(a.dtype)
    if phi == "sigmoid":
        return h * (1 - h)
    return torch.ones_like(a)


CELL = RNN
