"""Keep what goes to the browser small (T up to 2000, H up to 1024) without hiding gaps or overflow."""

from __future__ import annotations

import math
import warnings

import numpy as np

MAX_POINTS = 2000  # points per curve
MAX_CELLS = 400  # rows and columns per heatmap

_REDUCE = {"max": np.nanmax, "min": np.nanmin, "mean": np.nanmean}


def pick_indices(n: int, max_n: int = MAX_POINTS) -> np.ndarray:
    """Evenly spaced indices into n items, at most max_n of them, always with the first and last."""
    n = int(n)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    max_n = max(int(max_n), 2)
    if n <= max_n:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, n - 1, max_n)).astype(np.int64))


def pool_matrix(m, max_rows: int = MAX_CELLS, max_cols: int = MAX_CELLS, how: str = "max"):
    """Block-pool a 2-D array to at most max_rows x max_cols cells; returns (m2, row_idx, col_idx).

    row_idx / col_idx are the first index of each block. Finite values are reduced with `how`
    (max, min or mean); a block holding any non-finite value stays non-finite (NaN if it holds
    a NaN, else +-inf), so an overflow never disappears in the pooling.
    """
    if how not in _REDUCE:
        raise ValueError(f"how: must be one of {', '.join(_REDUCE)} (got {how!r})")
    m = np.asarray(m, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"pool_matrix needs a 2-D array (got shape {m.shape})")
    rows, cols = m.shape
    fr = max(1, math.ceil(rows / max(int(max_rows), 1)))
    fc = max(1, math.ceil(cols / max(int(max_cols), 1)))
    row_idx = np.arange(0, rows, fr, dtype=np.int64)
    col_idx = np.arange(0, cols, fc, dtype=np.int64)
    if fr == 1 and fc == 1:
        return m.copy(), row_idx, col_idx
    r2, c2 = len(row_idx), len(col_idx)
    padded = np.full((r2 * fr, c2 * fc), np.nan)
    padded[:rows, :cols] = m
    finite = np.isfinite(padded)
    blocks = np.where(finite, padded, np.nan).reshape(r2, fr, c2, fc)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks are meant to stay NaN
        out = _REDUCE[how](blocks, axis=(1, 3))
    # padding is NaN too, so non-finite blocks are found from the original values only
    bad = np.zeros(padded.shape, dtype=bool)
    bad[:rows, :cols] = ~np.isfinite(m)
    if bad.any():
        cells = padded.reshape(r2, fr, c2, fc)
        bad4 = bad.reshape(r2, fr, c2, fc)
        has_nan = (np.isnan(cells) & bad4).any(axis=(1, 3))
        has_pos = (cells == np.inf).any(axis=(1, 3))
        has_neg = (cells == -np.inf).any(axis=(1, 3))
        out = np.where(has_neg, -np.inf, out)
        out = np.where(has_pos, np.inf, out)
        out = np.where(has_nan, np.nan, out)
    return out, row_idx, col_idx


def gaps(values) -> np.ndarray:
    """float64 copy where non-finite values become NaN, which Plotly draws as a gap."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(v), v, np.nan)


def log_gaps(values) -> np.ndarray:
    """float64 copy for a log axis: non-finite and non-positive values become NaN gaps."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def log10_cells(values) -> np.ndarray:
    """log10 of heatmap cells as float32 (half the bytes on the wire); zero and non-finite become NaN."""
    v = log_gaps(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(v).astype(np.float32)
