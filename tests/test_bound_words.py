"""The theory bound as the gradient chart draws and words it (viz/bound.py), edge by edge, on records built by hand.

Each function is a small decision: where the axis ends, which bound values are clipped to
its edges, when the bound's true size is said, and why a bound that allows growth meets data
that do not grow. Hand-built records put a value exactly on each edge and one just past it,
so a `<` for a `<=`, a product for a quotient or a mean for a max fails here. Oracles: the
definitions (log10 span, padding, the two-decade minimum, γ·σ_max, mean φ′ from h = φ(a)).
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from viz.bound import bound_words, clipped_bound, log_span, mean_slope, why_no_explosion


def test_log_span_pads_the_finite_positive_values_in_decades():
    assert log_span([1e-3, 1e2]) == pytest.approx((-3.3, 2.3))
    assert log_span([1e-3], None, [1e2, 0.0, -5.0, np.inf, np.nan], pad=0.0) == pytest.approx((-3.0, 2.0))
    assert log_span([0.0, -1.0, np.nan]) is None and log_span(None) is None and log_span() is None


def test_nearly_constant_data_get_two_decades_centred_on_them():
    assert log_span([100.0, 100.0]) == pytest.approx((1.0, 3.0))
    assert log_span([100.0, 100.0], min_decades=4.0) == pytest.approx((0.0, 4.0))
    assert log_span([1.0, 10**1.5], pad=0.3) == pytest.approx((-0.3, 1.8))  # 2.1 decades: kept as it is


def test_clipped_bound_holds_values_on_the_axis_and_marks_what_it_clipped():
    b = np.array([1000.0, 100.0, 50.0, 1.0, 0.5, 0.0, np.nan, np.inf])
    drawn, above, below = clipped_bound(b, (0.0, 2.0))  # the axis spans 1 .. 100
    np.testing.assert_array_equal(drawn, [100.0, 100.0, 50.0, 1.0, 1.0, 1.0, np.nan, 100.0])
    assert above.tolist() == [True, False, False, False, False, False, False, True]  # on the edge is on the chart
    assert below.tolist() == [False, False, False, False, True, True, False, False]
    drawn, above, below = clipped_bound(b, (-1.0, 1.0))
    np.testing.assert_array_equal(drawn, [10.0, 10.0, 10.0, 1.0, 0.5, 0.1, np.nan, 10.0])


def test_without_an_axis_nothing_is_clipped_and_only_positive_finite_values_drawn():
    drawn, above, below = clipped_bound([0.0, 2.0, np.inf, np.nan, 1e-300], None)
    np.testing.assert_array_equal(drawn, [np.nan, 2.0, np.nan, np.nan, 1e-300])
    assert not above.any() and not below.any()


def record(bound, gamma=1.0, smax=1.0):
    return SimpleNamespace(bound=np.asarray(bound, dtype=np.float64), gamma=gamma, sigma_max=smax)


def test_bound_words_say_why_there_is_none_only_when_none_is_finite():
    assert bound_words(record([np.nan] * 4), np.zeros(4, bool)) == "The theory bound is not available: σ_max(W_hh) is not finite."
    assert bound_words(record([np.nan, 1.0, 2.0, 3.0]), np.zeros(4, bool)) is None


def test_an_infinite_bound_is_worded_with_its_base_and_its_last_infinite_step():
    b = [np.inf, np.inf, 1e300, 1e10, 1.0]
    words = bound_words(record(b, gamma=0.25, smax=8.0), np.ones(5, bool))
    assert words.startswith("Theory bound: infinite at t ≤ 1 (drawn along the top edge): (γ·σ_max)^(s−t) = 2^(s−t) ")
    assert "over 3 or more steps;" in words


def test_a_bound_leaving_the_chart_gives_its_peak_and_where():
    b = [5.0, 7e12, 3.0, 1.0]
    assert bound_words(record(b), np.array([False, True, False, False])) == (
        "Theory bound (dashed) leaves the chart: it reaches 7e12 at t = 1; drawn along the top edge."
    )
    assert bound_words(record(b), np.zeros(4, bool)) is None


def trace(f=1.0, gamma=1.0, smax=1.2, rho=1.2, activation="linear", hidden=None, saturation=None, **kw):
    """A record as why_no_explosion reads it: fitted factor f, γ, σ_max, ρ, and sequence 0's hidden states."""
    base = dict(
        config=SimpleNamespace(activation=activation),
        decay_factor=f,
        gamma=gamma,
        sigma_max=smax,
        spectral_radius=rho,
        hidden=np.zeros((4, 3)) if hidden is None else np.asarray(hidden, dtype=np.float64),
        saturation={} if saturation is None else saturation,
    )
    return SimpleNamespace(**{**base, **kw})


def test_no_explanation_where_the_bound_forbids_growth_or_the_data_grow():
    assert why_no_explosion(trace(gamma=None)) is None
    assert why_no_explosion(trace(smax=1.005)) is None  # γ·σ_max must exceed 1.005
    assert why_no_explosion(trace(smax=math.inf)) is None
    assert why_no_explosion(trace(gamma=0.25, smax=4.4)) is not None  # γ·σ_max = 1.1: the product, not σ_max alone
    assert why_no_explosion(trace(gamma=0.25, smax=4.0)) is None  # γ·σ_max = 1
    assert why_no_explosion(trace(f=1.01)) is not None and why_no_explosion(trace(f=1.0101)) is None
    assert why_no_explosion(trace(f=None)) is None and why_no_explosion(trace(f=math.nan)) is None
    assert why_no_explosion(trace(nonfinite=True)) is None and why_no_explosion(trace(nonfinite=False)) is not None


def test_the_measured_slope_explains_it_with_the_share_of_flat_units():
    h = np.full((4, 3), math.sqrt(0.5))  # tanh′ = 1 − h² = 0.5 everywhere
    flat = {"h": np.array([0.0, 0.5, np.nan, 0.25])}
    words = why_no_explosion(trace(activation="tanh", hidden=h, saturation=flat, smax=1.5, rho=1.5))
    assert words == (
        "The bound allows growth, the data do not grow: it assumes every unit passes the gradient at the full slope γ = 1; "
        "measured on sequence 0, tanh′(a) = 1 − hₜ² averages 0.50, 25 % of units saturated (tanh′(a) < 0.1), "
        "and 0.50 × σ_max = 0.75."
    )
    relu = why_no_explosion(trace(activation="relu", hidden=[[0.0, 1.0], [2.0, -1.0]], saturation={"h": np.array([0.9])}))
    assert "relu′(a) (1 where hₜ > 0, else 0) averages 0.50, 90 % of units dead (a < 0, slope 0)" in relu
    top = why_no_explosion(trace(activation="sigmoid", gamma=0.25, smax=4.4, hidden=np.full((3, 2), 0.5), saturation={"h": 0}))
    assert "averages" not in top  # σ′ = 0.25 = γ everywhere: the slope is full, so it is not the reason
    none = why_no_explosion(trace(activation="tanh", hidden=h, saturation={"h": np.array([np.nan])}))
    assert "averages 0.50, and 0.50 × σ_max" in none  # no finite share: said without it


def test_without_a_slope_the_reason_is_the_cells_own():
    diagonal = why_no_explosion(trace(unit_decay=np.array([0.5, 1.2])))
    assert "every unit growing like the largest factor 1.2; the measured gradient mixes all units" in diagonal
    assert why_no_explosion(trace(rho=1.005)).endswith("the spectral radius ρ = 1 ≤ 1 rules the long-run product.")
    step_after_step = "along W_hh's top singular direction, step after step; the measured gradient does not."
    assert why_no_explosion(trace(rho=1.006)).endswith(step_after_step)
    assert why_no_explosion(trace(rho=math.nan)).endswith("step after step; the measured gradient does not.")
    full = why_no_explosion(trace(activation="tanh", hidden=np.zeros((2, 2)), saturation={"h": np.zeros(2)}, rho=0.9))
    assert "averages" not in full and "ρ = 0.9 ≤ 1" in full  # slope 1 = γ: nothing saturates, so not the reason


def test_mean_slope_reads_phi_prime_from_the_finite_steps_of_sequence_0():
    h = np.array([[0.0, 0.5], [np.inf, 0.5], [0.5, 0.5]])  # the step holding an inf is left out whole
    assert mean_slope(trace(activation="tanh", hidden=h, saturation={"h": 0})) == pytest.approx(np.mean([1, 0.75, 0.75, 0.75]))
    assert mean_slope(trace(activation="sigmoid", hidden=[[0.5, 0.2]], saturation={"h": 0})) == pytest.approx((0.25 + 0.16) / 2)
    assert mean_slope(trace(activation="relu", hidden=[[0.0, 0.3, -1.0, 2.0]], saturation={"h": 0})) == 0.5  # relu′(0) = 0
    assert mean_slope(trace(activation="tanh", hidden=[0.0, np.nan, 0.5], saturation={"h": 0})) == pytest.approx(0.875)
    assert mean_slope(trace(activation="tanh", hidden=[[np.inf, 0.0]], saturation={"h": 0})) is None
    assert mean_slope(trace(activation="linear", saturation={"h": 0})) is None
    assert mean_slope(trace(activation="tanh", saturation={})) is None  # no h = φ(a) recorded (LRU)
