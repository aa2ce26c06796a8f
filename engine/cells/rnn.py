"""Elman RNN: h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), in the torch.nn.RNNCell layout."""

from __future__ import annotations

import torch

from .base import GAMMA, Back, Cell, Pre, Step, Tape, activation_and_deriv, affine_grads, matrix_init, matrix_spectra, recurrent_term


class RNN(Cell):
    name = "rnn"
    label = "RNN"
    description = "every step back multiplies the gradient by W_hh and phi', so it vanishes or explodes geometrically"
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

    def finish(self, tape: Tape) -> Tape:
        tape.deriv = torch.stack([c[0] for c in tape.caches])
        return tape

    def param_grads(self, P, X, tape, dx, dh):
        return affine_grads(X, tape.hs[:-1], dx, dh)

    def spectra(self, P, cfg, fresh):
        return matrix_spectra(P, cfg, fresh, ("h",))

    def gamma(self, cfg):
        return GAMMA[cfg.activation]


CELL = RNN
