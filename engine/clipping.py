"""Gradient clipping (Pascanu, Mikolov, Bengio 2013) and an overflow-safe global norm."""

from __future__ import annotations

import numpy as np


def safe_norm(a, axis=None) -> np.ndarray | float:
    """L2 norm in float64, scaled by the largest magnitude so that squaring cannot overflow."""
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


def global_norm(ops, grads: dict) -> float:
    """sqrt of the sum of squares of every gradient element."""
    return safe_norm(np.array([safe_norm(ops.to_numpy(g)) for g in grads.values()]))


def clip_grads(ops, grads: dict, mode: str, threshold: float):
    """-> (clipped grads, norm before, norm after, whether clipping changed anything).

    norm: if ||g|| > theta, g <- theta g / ||g||. value: clamp each element to [-theta, theta].
    A non-finite norm cannot be rescaled: the gradients are returned as they are.
    """
    before = global_norm(ops, grads)
    if mode == "none":
        return grads, before, before, False
    if mode == "norm":
        if not np.isfinite(before) or before <= threshold:
            return grads, before, before, False
        out = {k: g * (threshold / before) for k, g in grads.items()}
        return out, before, global_norm(ops, out), True
    clipped = any(bool((np.abs(ops.to_numpy(g)) > threshold).any()) for g in grads.values())
    out = {k: ops.clip(g, -threshold, threshold) for k, g in grads.items()}
    return out, before, global_norm(ops, out), clipped
