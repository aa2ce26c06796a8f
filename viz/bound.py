"""The theory bound next to the measured gradient: clipped to the measured axis, its true size and meaning in words."""

from __future__ import annotations

import math

import numpy as np

from .notes import sci

FLOAT64_MAX = 1.7976931348623157e308


def log_span(*series, pad: float = 0.3, min_decades: float = 2.0) -> tuple[float, float] | None:
    """log10 (lo, hi) over the finite positive values, padded, and at least min_decades wide (centred); None if none."""
    v = np.concatenate([np.asarray(s, dtype=np.float64).ravel() for s in series if s is not None] or [np.zeros(0)])
    with np.errstate(invalid="ignore"):
        v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return None
    lo, hi = float(np.log10(v.min())) - pad, float(np.log10(v.max())) + pad
    if hi - lo < min_decades:  # nearly constant data must look constant, not like structure
        mid = (hi + lo) / 2
        lo, hi = mid - min_decades / 2, mid + min_decades / 2
    return lo, hi


def clipped_bound(bound, span: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values drawn, above the top edge, below the bottom edge): the bound held inside the axis range.

    An infinite bound (float64 overflow) counts as above the top; NaN stays a gap.
    """
    b = np.asarray(bound, dtype=np.float64)
    if span is None:  # nothing finite to scale to: no axis edge to clip at
        return np.where(np.isfinite(b) & (b > 0), b, np.nan), np.zeros(b.shape, bool), np.zeros(b.shape, bool)
    top, bottom = 10.0 ** span[1], 10.0 ** span[0]
    with np.errstate(invalid="ignore"):
        above = (b > top) | (b == np.inf)
        below = (b < bottom) & (b >= 0)
    drawn = np.where(above, top, np.where(below, bottom, b))
    return np.where(np.isnan(b), np.nan, drawn), above, below


def bound_words(trace, above: np.ndarray) -> str | None:
    """The bound's true size where it leaves the chart, or why it is infinite; None when it stays on the chart."""
    b = np.asarray(trace.bound, dtype=np.float64)
    rate = trace.gamma * trace.sigma_max
    if np.isnan(b).all():
        return "The theory bound is not available: σ_max(W_hh) is not finite."
    inf = np.isinf(b)
    if inf.any():
        last = int(np.nonzero(inf)[0].max())
        return (
            f"Theory bound: infinite at t ≤ {last} (drawn along the top edge): (γ·σ_max)^(s−t) = {rate:.3g}^(s−t) "
            f"exceeds float64's largest number {sci(FLOAT64_MAX)} over {len(b) - 1 - last} or more steps; "
            "the bound says nothing there, it does not say the gradient is infinite."
        )
    if above.any():
        peak = int(np.nanargmax(b))
        return f"Theory bound (dashed) leaves the chart: it reaches {sci(float(b[peak]))} at t = {peak}; drawn along the top edge."
    return None


def why_no_explosion(trace) -> str | None:
    """When the bound allows explosion (γ·σ_max > 1) but the measured gradient does not grow: the measured reason."""
    gamma, smax, f = trace.gamma, trace.sigma_max, trace.decay_factor
    if gamma is None or not math.isfinite(gamma * smax) or gamma * smax <= 1.005:
        return None
    if f is None or not math.isfinite(f) or f > 1.01 or getattr(trace, "nonfinite", False):
        return None  # it does explode (or overflowed, or nothing was measured): nothing to explain
    act = trace.config.activation
    bound = "The bound allows growth, the data do not grow: it assumes every unit passes the gradient at the full slope γ"
    slope = mean_slope(trace)
    if slope is not None and slope < 0.995 * gamma:
        flat = np.asarray(trace.saturation.get("h", np.zeros(0)), dtype=np.float64)
        share = float(np.nanmean(flat)) * 100 if flat.size and np.isfinite(flat).any() else float("nan")
        word = {"relu": "dead (a < 0, slope 0)"}.get(act, f"saturated ({act}′(a) < 0.1)")
        flat_text = f", {share:.0f} % of units {word}" if math.isfinite(share) else ""
        return (
            f"{bound} = {gamma:g}; measured on sequence 0, {SLOPE[act]} averages {slope:.2f}{flat_text}, "
            f"and {slope:.2f} × σ_max = {slope * smax:.2f}."
        )
    if getattr(trace, "unit_decay", None) is not None:  # diagonal: the top "direction" is the unit with the largest factor
        return (
            f"{bound} = {gamma:g}, every unit growing like the largest factor {smax:.3g}; the measured gradient mixes all units, "
            "and here those with smaller factors carry most of it."
        )
    rho = trace.spectral_radius
    if math.isfinite(rho) and rho <= 1.005:
        return f"{bound} along W_hh's top singular direction; the spectral radius ρ = {rho:.3g} ≤ 1 rules the long-run product."
    return f"{bound} along W_hh's top singular direction, step after step; the measured gradient does not."


SLOPE = {"tanh": "tanh′(a) = 1 − hₜ²", "sigmoid": "σ′(a) = hₜ(1 − hₜ)", "relu": "relu′(a) (1 where hₜ > 0, else 0)"}


def mean_slope(trace) -> float | None:
    """Mean φ′(a) over the units and steps of sequence 0, read back from its hidden states (h = φ(a)); None for linear."""
    act = trace.config.activation
    if act not in SLOPE or "h" not in getattr(trace, "saturation", {"h": None}):  # only cells that record h = φ(a) (RNN, IndRNN)
        return None
    h = np.asarray(trace.hidden, dtype=np.float64)
    h = h[np.isfinite(h).all(axis=-1)] if h.ndim == 2 else h[np.isfinite(h)]
    if not h.size:
        return None
    d = {"tanh": 1 - h**2, "sigmoid": h * (1 - h), "relu": (h > 0).astype(np.float64)}[act]
    return float(d.mean())
