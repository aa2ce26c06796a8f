"""Oracles written from the task definitions (engine/tasks.py docstring, DESIGN.md) and a tiny autograd unroll.

Nothing here reads the engine's targets or gradients: targets come from the inputs by the
definition, gradients from torch autograd of the cell equations loaded with the model's weights.
"""

from __future__ import annotations

import numpy as np
import torch
from reference import functional_step

from engine import Model

BLANK = 4  # copy task: the class asked for before any symbol is d steps old (4 symbols 0..3, then the blank)


def task_batch(cfg, index: int = 0):
    """The batch the engine trains on at step `index` (run uses 0): its inputs are the data the definitions act on."""
    return Model(cfg).batch(index)


def targets_from_definition(task: str, x: np.ndarray, delay: int | None = None) -> np.ndarray:
    """Targets at the loss steps, derived from the inputs alone: (L, B, 1) floats or (T, B) classes."""
    T = x.shape[0]
    if task == "adding":  # the sum of the two values whose marker is 1, asked at the last step
        return (x[..., 0] * (x[..., 1] == 1)).sum(axis=0)[None, :, None]
    if task == "first":  # the very first input, asked at the last step
        return x[:1].copy()
    if task == "copy":  # the symbol seen d steps earlier, the blank before that
        symbols = x.argmax(axis=-1)  # (T, B)
        target = np.full(symbols.shape, BLANK)
        for t in range(delay, T):
            target[t] = symbols[t - delay]
        return target
    raise ValueError(f"no closed-form target for {task!r}")


def definition_loss_steps(task: str, T: int) -> np.ndarray:
    """Many-to-one tasks carry a loss at the last step only, many-to-many at every step (DESIGN.md, Loss)."""
    return np.array([T - 1]) if task in ("adding", "first") else np.arange(T)


def params64(model: Model) -> dict:
    """The model's parameters as float64 leaves, so that autograd can differentiate through them."""
    return {k: v.detach().double().clone().requires_grad_(True) for k, v in model.params.items()}


def unroll(cfg, P: dict, x: np.ndarray) -> list:
    """h_1..h_T of the cell equations (DESIGN.md section 1) in float64, each keeping its .grad."""
    x = torch.as_tensor(x, dtype=torch.float64)
    T, B, _ = x.shape
    H = cfg.hidden_size
    h = torch.zeros(B, H, dtype=torch.float64)
    c = torch.zeros_like(h)
    hs = []
    for t in range(T):
        if cfg.cell == "rnn":
            h = functional_step(cfg, P, x[t], h)
        elif cfg.cell == "lstm":
            a = x[t] @ P["weight_ih"].T + P["bias_ih"] + h @ P["weight_hh"].T + P["bias_hh"]
            i, f, g, o = a.split(H, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:  # gru, torch convention: r and z gates, then n with r inside
            gi = x[t] @ P["weight_ih"].T + P["bias_ih"]
            gh = h @ P["weight_hh"].T + P["bias_hh"]
            r = torch.sigmoid(gi[:, :H] + gh[:, :H])
            z = torch.sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
            n = torch.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
            h = (1 - z) * n + z * h
        h.retain_grad()
        hs.append(h)
    return hs


def step_losses(kind: str, P: dict, hs: list, steps, target) -> torch.Tensor:
    """(L, B) loss of each sequence at each loss step: squared error averaged over outputs, or cross-entropy."""
    y = torch.stack([hs[int(s)] @ P["head_weight"].T + P["head_bias"] for s in steps])  # (L, B, O)
    if kind == "mse":
        return ((y - torch.as_tensor(target, dtype=torch.float64)) ** 2).mean(-1)
    t = torch.as_tensor(np.asarray(target), dtype=torch.long)  # (L, B)
    return torch.nn.functional.cross_entropy(y.reshape(-1, y.shape[-1]), t.reshape(-1), reduction="none").reshape(t.shape)


def per_sequence_grad_norms(hs: list, scalar: torch.Tensor) -> np.ndarray:
    """(T,) batch mean of ||d scalar / dh_t|| per sequence; scalar is a sum of per-sequence terms."""
    for h in hs:
        h.grad = None
    scalar.backward(retain_graph=True)
    return np.array([(h.grad if h.grad is not None else torch.zeros_like(h)).norm(dim=-1).mean().item() for h in hs])
