"""The theory overlay: spectral radius, largest singular value, the BPTT bound, fitted decay.

For a vanilla RNN, dh_t/dh_{t-1} = diag(phi'(a_t)) W_hh, and |phi'| <= gamma, so
||dh_s/dh_t|| <= (gamma * sigma_max)^(s-t): sigma_max < 1/gamma is sufficient for
vanishing, > 1/gamma necessary for exploding (Pascanu et al. 2013).
"""

from __future__ import annotations

import numpy as np

GAMMA = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25, "linear": 1.0}


def spectral_radius(w: np.ndarray) -> float:
    """Largest |eigenvalue| of a square matrix (float64)."""
    w = np.asarray(w, dtype=np.float64)
    if not np.all(np.isfinite(w)):
        return float("nan")
    return float(np.max(np.abs(np.linalg.eigvals(w))))


def sigma_max(w: np.ndarray) -> float:
    """Largest singular value (the spectral norm) of a matrix."""
    w = np.asarray(w, dtype=np.float64)
    if not np.all(np.isfinite(w)):
        return float("nan")
    return float(np.linalg.norm(w, 2))


def bptt_bound(local_grad_norms: np.ndarray, rate: float) -> np.ndarray:
    """Upper bound on ||dL_b/dh_t||: sum over loss steps s >= t of ||dl_s/dh_s|| rate^(s-t).

    local_grad_norms: (T, B) norms of the gradient each step's own loss puts on h_t.
    Returns the batch mean of the per-sequence bounds, (T,).
    """
    g = np.asarray(local_grad_norms, dtype=np.float64)
    bound = np.zeros_like(g)
    carry = np.zeros(g.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(g.shape[0] - 1, -1, -1):
            carry = g[t] + rate * carry
            bound[t] = carry
    return bound.mean(axis=1)


def decay_factor(grad_h: np.ndarray, last: int | None = None, first: int = 0) -> float | None:
    """Geometric factor by which grad_h changes per step going back in time (least squares on log).

    < 1 means vanishing, > 1 exploding. Uses the finite, positive values in steps
    first..last (the span the last loss's gradient travels: up to the last loss step,
    back to the truncation horizon); None when fewer than two such values exist.
    """
    g = np.asarray(grad_h, dtype=np.float64)
    last = len(g) - 1 if last is None else last
    t = np.arange(first, last + 1)
    g = g[first : last + 1]
    ok = np.isfinite(g) & (g > 0)
    if ok.sum() < 2:
        return None
    slope = np.polyfit(t[ok], np.log(g[ok]), 1)[0]
    return float(np.exp(-slope))
