"""Gradient clipping (Pascanu, Mikolov, Bengio 2013) with torch's own clip functions, and an overflow-safe norm."""

from __future__ import annotations

import numpy as np
import torch


def safe_norm(a, axis=None) -> np.ndarray | float:
    """L2 norm in float64 of an array or tensor, scaled by the largest magnitude so that squaring cannot overflow."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    a = np.asarray(a)
    if a.dtype.itemsize <= 4 and a.dtype.kind == "f":  # float32 squares cannot overflow float64: no scaling needed
        with np.errstate(all="ignore"):
            n = np.sqrt(np.sum(np.square(a, dtype=np.float64), axis=axis))
        return float(n) if np.ndim(n) == 0 else n
    a = a.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        m = np.max(np.abs(a), axis=axis, keepdims=True) if a.size else np.zeros(())
        scale = np.where(np.isfinite(m) & (m > 0), m, 1.0)
        n = np.sqrt(np.sum((a / scale) ** 2, axis=axis, keepdims=True)) * scale
        n = np.where(np.isfinite(m), n, m)  # an inf or NaN element makes the norm inf / NaN
    n = np.squeeze(n, axis=axis) if axis is not None else n.reshape(())
    return float(n) if n.ndim == 0 else n


def global_norm(grads: dict) -> float:
    """sqrt of the sum of squares of every gradient element (float64, never overflows on the way)."""
    return safe_norm(np.array([safe_norm(g) for g in grads.values()]))


def clip_grads(grads: dict, mode: str, threshold: float):
    """-> (clipped grads, norm before, norm after, whether clipping changed anything); grads are torch tensors.

    norm: if ||g|| > theta, g <- theta g / ||g|| (torch's clip_grads_with_norm_, given our float64 norm,
    since torch's own float32 norm overflows at ~1e19 and would zero the gradients). value: clamp
    each element to [-theta, theta] (clip_grad_value_). A non-finite norm cannot be rescaled: the
    gradients are returned as they are.
    """
    before = global_norm(grads)
    if mode == "none":
        return grads, before, before, False
    if mode == "norm":
        if not np.isfinite(before) or before <= threshold:
            return grads, before, before, False
        out = {k: g.clone() for k, g in grads.items()}
        holders = _holders(out)
        # max_norm / (total_norm + 1e-6) inside torch: pass the norm less that epsilon, so the factor is exactly theta / ||g||.
        torch.nn.utils.clip_grads_with_norm_(holders, threshold, torch.tensor(before - 1e-6, dtype=torch.float64), foreach=True)
        out = {k: h.grad for k, h in zip(out, holders)}
        return out, before, global_norm(out), True
    clipped = any(bool((g.abs() > threshold).any()) for g in grads.values())
    out = {k: g.clone() for k, g in grads.items()}
    holders = _holders(out)
    torch.nn.utils.clip_grad_value_(holders, threshold, foreach=True)
    out = {k: h.grad for k, h in zip(out, holders)}
    return out, before, global_norm(out), clipped


def _holders(grads: dict) -> list:
    """Parameters whose .grad are the given tensors (torch's clip functions work on parameters)."""
    holders = []
    for g in grads.values():
        p = torch.nn.Parameter(torch.empty_like(g))
        p.grad = g
        holders.append(p)
    return holders
