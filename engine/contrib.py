"""Per-time-step contributions to the recurrent parameters' gradient (the RNNbow view), from the cell's declared products.

contrib[t] is the norm of step t's term of the gradient of every recurrent product the cell
declares (Cell.products): dpre.h[t] outer (or, for a diagonal, times) what that product
really multiplies at step t, summed over the batch and divided by B. A cell whose recurrent
matrix multiplies f * h_{t-1} instead of h_{t-1} declares so, and its bars stay right.
"""

from __future__ import annotations

import numpy as np
import torch


def contributions(cell, P, tape, dah: torch.Tensor, batch_size: int) -> np.ndarray:
    """(T,) float64 norm of step t's term of all recurrent products' gradients (squares added over products)."""
    H = tape.hs.shape[-1]
    parts = []
    for prod in cell.products:
        d = dah if prod.rows is None else dah[..., prod.rows[0] * H : prod.rows[1] * H]
        d, x = (a.detach().cpu().numpy() for a in (d, cell.product_input(P, tape, prod.input)))
        parts.append(FORMS[prod.form](d, x, batch_size))
    if len(parts) == 1:
        return parts[0]
    with np.errstate(all="ignore"):
        return np.hypot.reduce(np.stack(parts), axis=0)  # hypot: no overflow from squaring


def diagonal_norms(dah, x, batch_size: int) -> np.ndarray:
    """||sum_b dah[t, b] * x[t, b]|| / B: step t's term of a diagonal weight's gradient (IndRNN's u)."""
    with np.errstate(all="ignore"):
        terms = np.einsum("tbh,tbh->th", dah.astype(np.float64), x.astype(np.float64))
        return np.sqrt(np.square(terms).sum(-1)) / batch_size


def complex_norms(dah, x, batch_size: int) -> np.ndarray:
    """||step t's term of dL/dlambda|| (real and imaginary parts) / B, for a complex diagonal on [Re | Im] pairs (LRU)."""
    H = dah.shape[-1] // 2
    d, p = dah.astype(np.float64), x.astype(np.float64)
    with np.errstate(all="ignore"):
        re = np.einsum("tbh,tbh->th", d[..., :H], p[..., :H]) + np.einsum("tbh,tbh->th", d[..., H:], p[..., H:])
        im = np.einsum("tbh,tbh->th", d[..., H:], p[..., :H]) - np.einsum("tbh,tbh->th", d[..., :H], p[..., H:])
        return np.sqrt(np.square(re).sum(-1) + np.square(im).sum(-1)) / batch_size


# Per-step factors whose largest magnitude lies in this range (or is 0) are squared as they
# are: their products neither underflow nor overflow in the array's precision. Others are
# divided by that magnitude first.
SAFE_MAGNITUDE = {4: (1e-12, 1e12), 8: (1e-100, 1e100)}  # by itemsize: float32, float64


def contrib_norms(dah, hprev, batch_size: int) -> np.ndarray:
    """||sum_b dah[t, b] outer hprev[t, b]||_F / B for every t: step t's term of dL/dW_hh (numpy in, float64 out).

    Uses the B x B Gram matrices (||A^T H||_F^2 = <A A^T, H H^T>, summed in float64) when
    that is cheaper. Steps with vanishing (or huge) factors are rescaled by their largest
    magnitude, so their squares keep full relative precision; a step with a non-finite
    value gives a non-finite result.
    """
    a, h = np.asarray(dah), np.asarray(hprev)
    T, B, GH = a.shape
    H = h.shape[-1]
    with np.errstate(all="ignore"):
        sa, sh = _step_scales(a), _step_scales(h)
        if B * (GH + H) <= GH * H:
            sq = np.einsum("tij,tij->t", _scaled_gram(a, sa), _scaled_gram(h, sh), dtype=np.float64)
        else:
            at, ht = (x / s[:, None, None].astype(x.dtype) for x, s in ((a, sa), (h, sh)))
            sq = np.array([np.square(at[t].T @ ht[t]).sum(dtype=np.float64) for t in range(T)])
        # A non-finite factor makes its Gram diagonal inf or NaN, and so the result.
        return np.sqrt(np.clip(sq, 0, None)) * sa * sh / batch_size


def _scaled_gram(x: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """(x[t] / scales[t]) (x[t] / scales[t])^T for every t, dividing only the runs of steps whose scale is not 1."""
    T, B, _ = x.shape
    out = np.empty((T, B, B), dtype=x.dtype)
    rescale = scales != 1
    bounds = [0, *(np.flatnonzero(np.diff(rescale)) + 1), T]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        part = x[lo:hi] / scales[lo:hi, None, None].astype(x.dtype) if rescale[lo] else x[lo:hi]
        np.matmul(part, part.swapaxes(1, 2), out=out[lo:hi])
    return out


def _step_scales(x: np.ndarray) -> np.ndarray:
    """Per step: 1 where x[t] can be squared as it is, else its largest magnitude (float64)."""
    m = np.maximum(x.max(axis=(1, 2)), -x.min(axis=(1, 2))).astype(np.float64)
    lo, hi = SAFE_MAGNITUDE[x.dtype.itemsize]
    return np.where((m == 0) | ((m >= lo) & (m <= hi)) | ~np.isfinite(m), 1.0, m)


FORMS = {"matrix": contrib_norms, "diagonal": diagonal_norms, "complex": complex_norms}  # Product.form -> per-step norms
