"""The two numbers the page quotes about a gradient curve, named once so that the claim, the chart and the tabs agree.

- the end-to-end ratio ‖∂L/∂h₀‖ / ‖∂L/∂h_{T−1}‖: the curve's two end points, measured;
- the factor per step (fitted): the slope of a straight line fitted to log ‖∂L/∂hₜ‖.

They differ whenever the curve is not a straight line (saturated units, a gate that opens), so
each is always written with its own name, and a verdict (vanishing, growing, about constant)
is read from one rule for measurement and theory alike, so the two can never contradict.
"""

from __future__ import annotations

import math

import numpy as np

from .notes import sci, two

END_RATIO = "end-to-end ratio"
FACTOR = "factor per step (fitted)"
SUBSCRIPT = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
STEADY = 0.05  # |log10 of the change over the steps shown| below this (×0.89 to ×1.12): "about constant"
SLOW = 1.0  # ... below this (×0.1 to ×10): "slowly"


def sub(n: int) -> str:
    """An integer as Unicode subscript digits (199 -> ₁₉₉)."""
    return str(n).translate(SUBSCRIPT)


def ratio_name(T: int) -> str:
    """'‖∂L/∂h₀‖ / ‖∂L/∂h₉₉‖' for a sequence of T steps."""
    return f"‖∂L/∂h₀‖ / ‖∂L/∂h{sub(T - 1)}‖"


def end_ratio(grad_h) -> float:
    """‖∂L/∂h₀‖ / ‖∂L/∂h_{T−1}‖ (NaN when the last value is 0 or either end is not finite)."""
    g = np.asarray(grad_h, dtype=np.float64)
    if len(g) == 0 or g[-1] == 0 or not (np.isfinite(g[0]) and np.isfinite(g[-1])):
        return math.nan
    return float(g[0] / g[-1])


def orders(r: float) -> float:
    """Orders of magnitude lost end to end: −log10 of the ratio (negative: gained); NaN without a positive ratio."""
    return -math.log10(r) if r > 0 and math.isfinite(r) else math.nan


def end_ratio_text(grad_h, number=two, floor: float | None = None) -> str:
    """'end-to-end ratio ‖∂L/∂h₀‖ / ‖∂L/∂h₉₉‖ = 8e-16 (15.1 orders of magnitude lost)': the one way it is written.

    floor: the precision's smallest normal number; an end point below it is rounded, so the ratio is only a limit.
    """
    T = len(grad_h)
    r = end_ratio(grad_h)
    if not math.isfinite(r):
        return f"{END_RATIO} {ratio_name(T)}: not measurable (an end point is 0 or not finite)"
    n = orders(r)
    tail = "" if not math.isfinite(n) or abs(n) < 1 else f" ({abs(n):.1f} orders of magnitude {'lost' if n > 0 else 'gained'})"
    g0 = float(np.asarray(grad_h, dtype=np.float64)[0])
    if floor is not None and 0 < g0 < floor:
        tail += f"; ‖∂L/∂h₀‖ sits below the precision's smallest normal number {floor:.2g}: the true ratio is smaller"
    return f"{END_RATIO} {ratio_name(T)} = {number(r)}{tail}"


def factor_text(f: float) -> str:
    """'×0.92' (two decimals in 0.1..100, else '×7e-10'): the one way a per-step factor is written."""
    return f"×{f:.2f}" if 0.1 <= f < 100 else f"×{sci(f)}"


def trend(f: float, steps: int) -> str:
    """What a factor per step does over `steps` steps, in words: one rule for the measured factor and the theory bound."""
    if steps < 1 or not math.isfinite(f) or f <= 0:
        return "no trend"
    change = steps * math.log10(f)
    if abs(change) < STEADY:
        return "about constant"
    word = "vanishing" if change < 0 else "growing"
    return f"{word} slowly" if abs(change) < SLOW else ("vanishing" if change < 0 else "exploding")


def last_loss_curve(trace) -> np.ndarray:
    """‖∂loss_{T−1}/∂hₜ‖ as the gradient chart draws it: the last step's loss alone (grad_h_last), or grad_h where that is the only loss."""
    g = getattr(trace, "grad_h_last", None)
    return np.asarray(trace.grad_h if g is None else g, dtype=np.float64)


def lag_ratio(trace, lag: int) -> float:
    """‖∂loss_{T−1}/∂h_{T−1−lag}‖ / ‖∂loss_{T−1}/∂h_{T−1}‖: how much of the last step's own gradient reaches `lag` steps back.

    One function for the real-data lesson's check (ui/teaching/lessons.py) and its bench (bench/real_data_lag.py), so
    the claim and the figures it quotes are the same number. NaN when the lag is out of range or an end is 0 or not finite.
    """
    g = last_loss_curve(trace)
    T = len(g)
    if not 0 <= lag < T or g[-1] == 0 or not (np.isfinite(g[-1]) and np.isfinite(g[T - 1 - lag])):
        return math.nan
    return float(g[T - 1 - lag] / g[-1])


def lag_ratio_name(T: int, lag: int) -> str:
    """'‖∂loss₄₇/∂h₃₅‖ / ‖∂loss₄₇/∂h₄₇‖' for a lag of 12 in a sequence of 48 steps (the chart's curve, two of its points)."""
    last = sub(T - 1)
    return f"‖∂loss{last}/∂h{sub(T - 1 - lag)}‖ / ‖∂loss{last}/∂h{last}‖"
