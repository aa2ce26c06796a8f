"""The cell contract: what a recurrent cell says about itself, and its step forward and back.

A cell is stateless; its parameters come in a dict P of torch tensors. The unroll loop and
the backward sweep (engine/bptt.py) are the same for every cell:

    xp = cell.project(P, X)                                # (T, B, *) every step's input term, one GEMM
    state, cache = cell.step(P, xp[t], state)              # forward, t = 0 .. T-1
    dstate_prev, dpre = cell.step_back(P, cache, dstate)   # backward, t = T-1 .. 0
    grads = cell.param_grads(P, X, tape, dpre_x, dpre_h)   # all steps at once, large GEMMs

States are tuples of (..., B, S) tensors: (h,) or (h, c). `step_back` broadcasts over extra
leading axes, so connectivity carries many cotangents (R, B, S) through the same caches.
`step` and `step_back` also take S stacked parameter sets (matrices (S, R, C), vectors
(S, 1, n)) with states (S, B, S): the phase diagram advances S weight sets at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from ..theory import GAMMA  # noqa: F401 - re-exported: the cells with an activation read the bound of phi' here


class Step(NamedTuple):
    """One step forward: the new state and what step_back needs."""

    state: tuple  # (h,) or (h, c), each (B, S)
    cache: tuple  # tensors of this step, each (B, ...)


class Pre(NamedTuple):
    """Gradient of a step's pre-activations."""

    x: torch.Tensor  # (..., B, P) gradient of the input term xp_t
    h: torch.Tensor  # gradient of the recurrent term; the same tensor unless the cell splits them (GRU)


class Back(NamedTuple):
    """One step back: the gradient of the previous state and of this step's pre-activations."""

    dstate: tuple | None  # dL/d state_{t-1}; None when not asked for (the lowest step of a truncation block)
    dpre: Pre
    dinner: torch.Tensor | None = None  # total dL/d of an inner state at t (LSTM: c_t), recorded as grad_c


class Gate(NamedTuple):
    """What a gate is: its activation (so its range: sigmoid 0..1, tanh -1..1) and its role, in words for the page."""

    activation: str  # "sigmoid" or "tanh"
    role: str  # "forget gate", "candidate", ...: the page labels the gate "<role> <name>"


class Product(NamedTuple):
    """One recurrent product: a parameter times a vector the cell computes from the previous state.

    The contract that lets contributions and recurrent gradients be computed from what the
    cell really multiplies: step t's term of the parameter's gradient is
    dpre.h[t][rows] (outer, or times, for a diagonal) input[t].
    """

    param: str  # parameter name ("weight_hh", "u"); the LRU's complex diagonal is "λ" (stored as log_mag, theta)
    input: str  # what it multiplies: "h" is h_{t-1}; any other name is the cell's own (product_input reads it)
    rows: tuple[int, int] | None = None  # gate blocks [first, end) of param's rows (and of dpre.h) it feeds; None: all
    form: str = "matrix"  # "matrix": dpre outer input; "diagonal": dpre * input; "complex": complex diagonal on [Re | Im]


class Path(NamedTuple):
    """The direct path that carries the gradient one step back, and the factor it is scaled by."""

    state: str  # the part of the state it runs along: "c" (the LSTM's cell path) or "h"
    factor: str  # the gate whose value scales it ("f", "z"), or "unit": a per-unit diagonal factor (Cell.unit_decay)
    complement: bool = False  # True: the factor is 1 - gate (the gate blends in the new value instead of keeping the old)


class Cost(NamedTuple):
    """Rough work of one time step, forward + backward, for a batch of B sequences."""

    flops: float
    bytes: float  # kept on the tape for the backward pass


@dataclass
class Tape:
    """What the forward pass keeps for BPTT (torch tensors)."""

    hs: torch.Tensor  # (T+1, B, S): hs[0] = h_{-1} = 0, hs[t+1] = h_t
    caches: list  # caches[t]: the tuple step_back needs at step t
    xp: torch.Tensor  # (T, B, P) the input terms (after the cell's own use; cells may overwrite them)
    cs: torch.Tensor | None = None  # LSTM (T+1, B, H) cell states
    gates: torch.Tensor | None = None  # gated cells (T, B, G*H) gate values in the order of cell.gates
    deriv: torch.Tensor | None = None  # cells with an activation: phi'(a_t) (T, B, H), for the share of flat units

    def subset(self, nb: int) -> Tape:
        """The tape of the first nb sequences of the batch."""
        cut = [tuple(c[..., :nb, :] for c in cache) for cache in self.caches]
        pick = {k: None if v is None else v[:, :nb] for k, v in vars(self).items() if k != "caches"}
        return Tape(caches=cut, **pick)


def activation_and_deriv(phi: str, a: torch.Tensor):
    """(phi(a), phi'(a)) for the activations the vanilla RNN and IndRNN offer."""
    if phi == "tanh":
        h = torch.tanh(a)
        return h, 1 - h * h
    if phi == "relu":
        return torch.relu(a), (a > 0).to(a.dtype)
    if phi == "sigmoid":
        h = torch.sigmoid(a)
        return h, h * (1 - h)
    return a, torch.ones_like(a)


PHI = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda a: a}  # phi, plain (for `equations`)


class Cell:
    """Base class: the metadata every cell declares, and the defaults most cells share."""

    name: str = ""  # registry key, Config value, CLI choice (lower case)
    label: str = ""  # shown in the UI ("LSTM")
    description: str = ""  # one line for the sidebar help
    order: int = 100  # position in menus (lower first)
    gates: dict = {}  # gate name -> Gate(activation, role), in the order of the stacked weight rows; {} for none
    products: tuple = (Product("weight_hh", "h"),)  # the recurrent products: which parameter multiplies what
    direct: Path | None = None  # the direct path that carries the gradient back, if the cell has one
    complex_state: bool = False  # h is complex, stored as real pairs [Re h | Im h] (width 2H)
    output_map: tuple | None = None  # (words, symbol) when the head reads a map of h (the LRU's y), not h itself
    uses_activation: bool = False  # whether Config.activation applies
    has_forget_bias: bool = False  # whether Config.forget_bias applies
    scale_meaning: str = ""  # what Config.recurrent_scale sets for this cell, one sentence
    state_names: tuple = ("h",)  # the parts of the state
    recurrent_blocks: int = 0  # H x H recurrent weight blocks (0 for a diagonal recurrence)
    split_pre: bool = False  # True when the input and recurrent terms get different gradients (dpre.x is not dpre.h: GRU)
    rows = None  # optional many-rows backward step for connectivity (a class taking (P, tape)), else None
    fast_sweep = None  # optional in-place BPTT sweep bptt.sweep calls when each step is visited once (LSTM), else None

    def state_size(self, H: int) -> int:
        """Width S of h (2H for a complex state stored as real and imaginary parts)."""
        return 2 * H if self.complex_state else H

    def product_input(self, P, tape: Tape, name: str) -> torch.Tensor:
        """(T, B, K) the vector a recurrent product multiplies at every step: "h" is h_{t-1}; cells name their own."""
        if name == "h":
            return tape.hs[:-1]
        raise KeyError(f"{self.name}: no product input named {name!r}")

    def product_grads(self, P, tape: Tape, dh) -> dict:
        """Gradients of the real recurrent parameters (matrix, diagonal products) from dpre.h (T, B, P), summed over steps and sequences."""
        T, B, _ = dh.shape
        H = tape.hs.shape[-1]
        parts: dict = {}
        for prod in self.products:
            d = dh if prod.rows is None else dh[..., prod.rows[0] * H : prod.rows[1] * H]
            x = self.product_input(P, tape, prod.input)
            if prod.form == "matrix":
                parts.setdefault(prod.param, []).append(d.reshape(T * B, -1).T @ x.reshape(T * B, -1))
            elif prod.form == "diagonal":
                parts.setdefault(prod.param, []).append((d * x).sum((0, 1)))
        return {k: v[0] if len(v) == 1 else torch.cat(v) for k, v in parts.items()}

    def describe(self) -> dict:
        """The declarations viz reads (plain values, carried by the Trace): gate meanings, direct path, products, complex state."""
        return {
            "name": self.name,
            "label": self.label,
            "gates": {n: g._asdict() for n, g in self.gates.items()},
            "products": [p._asdict() for p in self.products],
            "direct": None if self.direct is None else self.direct._asdict(),
            "complex_state": self.complex_state,
            "output_map": self.output_map,
        }

    def init_params(self, cfg, input_size: int, gen: torch.Generator, uniform) -> dict:
        """The cell's parameters in float64; uniform(*shape) draws torch's default U(-1/sqrt(H), 1/sqrt(H))."""
        raise NotImplementedError

    def project(self, P, X):
        """(T, B, I) -> the input term of every step at once, (T, B, P)."""
        raise NotImplementedError

    def step(self, P, xp_t, state) -> Step:
        raise NotImplementedError

    def step_back(self, P, cache, dstate, prev: bool = True) -> Back:
        raise NotImplementedError

    def equations(self, P, x_t, state) -> tuple:
        """One step written straight from the cell's equations, x_t (B, I) -> the new state, for the trust badge's autograd.

        An independent statement beside the fast `step`, the hand-written `step_back` and the
        parameter gradients: engine/check.py differentiates it with torch autograd. The state is
        in the engine's layout (a complex h as [Re | Im] pairs), so its gradient compares directly.
        """
        raise NotImplementedError

    def equation_output(self, P, h, x_t):
        """What the task head reads, written from the equations (h itself, unless the cell has an output map)."""
        return h

    def project_back(self, P, dpre_x):
        """Gradient of the input x_t from the gradient of its input term."""
        return dpre_x @ P["weight_ih"]

    def param_grads(self, P, X, tape: Tape, dx, dh) -> dict:
        """Sum over steps and sequences of every parameter's gradient, from the stacked (T, B, P) pre-activation gradients."""
        raise NotImplementedError

    def unroll(self, P, X) -> Tape:
        """The forward of a pass: one input GEMM, then the step loop (cells may override with a faster loop, tested equal)."""
        return self.finish(self.unroll_projected(P, self.project(P, X)))

    def unroll_projected(self, P, xp) -> Tape:
        """The one generic forward loop: `step` T times from a zero state, over any leading axes of xp (T, ..., B, P).

        run() reaches it through unroll; phase() runs it on S stacked weight sets (xp (T, S, B, P)).
        """
        S = self.state_size(P["head_weight"].shape[-1])
        state = tuple(xp.new_zeros(xp.shape[1:-1] + (S,)) for _ in self.state_names)
        hs, cs, caches = [state[0]], [state[-1]], []
        for t in range(xp.shape[0]):
            state, cache = self.step(P, xp[t], state)
            hs.append(state[0])
            cs.append(state[-1])
            caches.append(cache)
        return Tape(hs=torch.stack(hs), caches=caches, xp=xp, cs=torch.stack(cs) if len(self.state_names) > 1 else None)

    def finish(self, tape: Tape) -> Tape:
        """Hook for cells that add gate values or phi' to the tape."""
        return tape

    # What the task head reads: h itself, unless the cell has its own output map (LRU).
    def features(self, P, hs, X):
        return hs

    def features_back(self, P, dfeat, hs, X, steps):
        """dL/d features at `steps` -> (dL/dh at those steps, gradients of the output map's parameters)."""
        return dfeat, {}

    def direct_input(self, P, dfeat):
        """d feature_t / d x_t applied to a cotangent (a direct input-to-output path), or None."""
        return None

    def spectra(self, P, cfg, fresh: bool):
        """(names, radii, sigma_maxes) of the recurrent blocks."""
        raise NotImplementedError

    def unit_decay(self, P):
        """Per-unit factor (H,) by which a unit's gradient changes per step back, for diagonal cells; else None."""
        return None

    def gamma(self, cfg) -> float | None:
        """Bound of phi' for the theory overlay, where the (gamma * sigma_max)^k bound applies; else None."""
        return None

    def cost(self, H: int, B: int, I: int, itemsize: int = 4) -> Cost:
        """Forward + backward of one step: three GEMMs per recurrent and input block, ~10 elementwise ops per unit."""
        G = max(self.recurrent_blocks, 1)
        flops = 3 * 2 * B * G * H * (H * (self.recurrent_blocks > 0) + I) + 10 * B * G * H
        return Cost(float(flops), float(itemsize * B * H * (2 * G + 2)))


def recurrent_term(bias, h, W):
    """bias + h W^T: one weight set W (R, H) with h (B, H), or S stacked sets W (S, R, H) with h (S, B, H) (engine/phase.py)."""
    return torch.addmm(bias, h, W.T) if W.dim() == 2 else torch.baddbmm(bias, h, W.mT)


def affine_grads(cell, P, X, tape, dx, dh) -> dict:
    """Gradients of weight_ih, bias_ih, bias_hh and the recurrent products' parameters (summed over steps and sequences)."""
    T, B, GH = dx.shape
    ax = dx.reshape(T * B, GH)
    return {
        # (X^T ax)^T, not ax^T X: with few inputs (I = 2) the latter is a GEMM of N = 2 columns, ~12x slower in BLAS.
        "weight_ih": (X.reshape(T * B, -1).T @ ax).T.contiguous(),
        **cell.product_grads(P, tape, dh),
        "bias_ih": ax.sum(0),
        "bias_hh": dh.reshape(T * B, GH).sum(0),
    }


def matrix_init(cfg, gen, uniform, I: int, G: int, H: int) -> dict:
    """torch.nn layout: weight_ih (G*H, I), G recurrent blocks each drawn by cfg.init and rescaled to spectral radius scale.

    Identity init zeroes both biases, as the IRNN recipe does (the LSTM then adds its forget bias).
    """
    from ..theory import spectral_radius

    weight_ih = uniform(G * H, I)
    blocks = []
    for _ in range(G):
        block = recurrent_block(cfg.init, H, gen)
        # Orthogonal and identity blocks have every |eigenvalue| = 1: no eigensolver needed.
        rho = 1.0 if cfg.init in ("orthogonal", "identity") else spectral_radius(block.numpy())
        blocks.append(block * (cfg.recurrent_scale / rho) if rho > 0 else block)
    bias_ih, bias_hh = uniform(G * H), uniform(G * H)  # drawn in every case, so the generator's stream does not depend on init
    if cfg.init == "identity":  # the IRNN recipe (Le et al. 2015): W_hh = scale * I and zero biases
        bias_ih, bias_hh = bias_ih.zero_(), bias_hh.zero_()
    return {"weight_ih": weight_ih, "weight_hh": torch.cat(blocks), "bias_ih": bias_ih, "bias_hh": bias_hh}


def recurrent_block(init: str, H: int, gen: torch.Generator) -> torch.Tensor:
    """One H x H recurrent block before rescaling."""
    if init == "orthogonal":
        return torch.nn.init.orthogonal_(torch.empty(H, H, dtype=torch.float64), generator=gen)
    if init == "identity":
        return torch.eye(H, dtype=torch.float64)
    if init == "normal":
        return torch.randn(H, H, generator=gen, dtype=torch.float64) / np.sqrt(H)
    return (torch.rand(H, H, generator=gen, dtype=torch.float64) * 2 - 1) / np.sqrt(H)


def matrix_spectra(P, cfg, fresh: bool, names: tuple):
    """Spectral radius and sigma_max of each H x H block of weight_hh; fresh orthogonal/identity blocks: both = scale."""
    from ..theory import sigma_max, spectral_radius

    H = P["weight_hh"].shape[1]
    w = P["weight_hh"].detach().double().cpu().numpy()
    blocks = [w[k * H : (k + 1) * H] for k in range(w.shape[0] // H)]
    if fresh and cfg.init in ("orthogonal", "identity"):
        return names, [cfg.recurrent_scale] * len(blocks), [cfg.recurrent_scale] * len(blocks)
    radii = [cfg.recurrent_scale] * len(blocks) if fresh else [spectral_radius(b) for b in blocks]
    return names, radii, [sigma_max(b) for b in blocks]
