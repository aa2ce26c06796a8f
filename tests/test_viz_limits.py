"""The precision's edges on the gradient chart: overflow's ceiling, underflow's floors, the finite forward state, and
measured and theory verdicts that cannot contradict each other (one rule, viz.measures.trend)."""

import math

import numpy as np
import pytest

from engine import Config, run
from viz.gradients import MAIN, _theory_words, decay_summary, grad_norm_curve
from viz.measures import END_RATIO, end_ratio_text, trend
from viz.theme import COLORS

LINEAR = dict(cell="rnn", activation="linear", init="orthogonal", task="adding", hidden_size=4, batch_size=2)


def texts(fig) -> str:
    return " ".join(a.text.replace("<br>", " ") for a in fig.layout.annotations)


def levels(fig, color) -> list[float]:
    return sorted(s.y0 for s in fig.layout.shapes if s.yref == "y" and s.y0 == s.y1 and s.line.color == color)


@pytest.mark.parametrize("dtype,T,scale", [("float32", 1000, 0.9), ("float64", 1100, 0.5)])
def test_underflow_floors_are_drawn_and_said_where_the_curve_reaches_them(dtype, T, scale):
    """A linear orthogonal RNN shrinks the gradient by exactly `scale` per step: it must cross the dtype's smallest normal number."""
    tr = run(Config(**LINEAR, seq_len=T, recurrent_scale=scale, dtype=dtype))
    g = np.asarray(tr.grad_h, dtype=np.float64)
    tiny, least = float(np.finfo(dtype).tiny), float(np.finfo(dtype).smallest_subnormal)
    low = int(((g > 0) & (g < tiny)).sum())
    assert low > 0 and g[-1] * scale ** (T - 1) < tiny  # the closed form goes below the floor: the data must reach it
    fig = grad_norm_curve(tr)
    assert levels(fig, COLORS["truncation"]) == pytest.approx([least, tiny], rel=1e-12)
    words = texts(fig)
    assert f"{dtype} underflow: {low} values lie below {tiny:.2g}".replace("e-0", "e-") in words
    assert "the gradient has not stopped vanishing" in words
    span = fig.layout.yaxis.range
    assert span[0] <= math.log10(least) and math.log10(tiny) <= span[1]  # both lines inside the axis


def test_no_floor_or_ceiling_on_a_run_far_from_both():
    tr = run(Config(**LINEAR, seq_len=100, recurrent_scale=0.9))
    assert np.asarray(tr.grad_h).min() > np.finfo(np.float32).tiny * 1e6
    fig = grad_norm_curve(tr)
    assert levels(fig, COLORS["truncation"]) == [] and levels(fig, COLORS["overflow"]) == []
    assert "underflow" not in texts(fig) and "largest number" not in texts(fig)


def test_the_end_to_end_ratio_of_a_floored_end_says_it_is_only_a_limit():
    g = np.array([1e-40, 1e-20, 1.0])
    assert "the true ratio is smaller" in end_ratio_text(g, floor=float(np.finfo(np.float32).tiny))
    assert "the true ratio is smaller" not in end_ratio_text(g, floor=float(np.finfo(np.float64).tiny))
    assert end_ratio_text(g).startswith(f"{END_RATIO} ‖∂L/∂h₀‖ / ‖∂L/∂h₂‖ = 1e-40 (40.0 orders of magnitude lost)")


def test_a_gradient_overflow_draws_the_ceiling_and_the_finite_part():
    """T = 300, ×1.3 per step: finite from the loss back to the overflow, the ceiling at float32's largest number."""
    tr = run(Config(**LINEAR, seq_len=300, recurrent_scale=1.3))
    t = tr.overflow_grad_step
    assert t is not None and tr.overflow_step is None
    fig = grad_norm_curve(tr)
    assert levels(fig, COLORS["overflow"]) == [pytest.approx(float(np.finfo(np.float32).max))]
    y = np.asarray(next(d for d in fig.data if d.name == MAIN).y, dtype=np.float64)
    assert np.array_equal(y[t + 1 :], tr.grad_h[t + 1 :]) and np.isnan(y[: t + 1]).all()
    assert np.log10(np.finfo(np.float32).max) <= fig.layout.yaxis.range[1]
    (ceiling,) = [a for a in fig.layout.annotations if "largest number" in a.text]
    (step,) = [a for a in fig.layout.annotations if "gradient non-finite" in a.text]
    # the non-finite left side holds both labels: the ceiling's at the line's left end under it, the step's left of its line
    assert (ceiling.x, ceiling.xanchor, ceiling.yanchor, step.x, step.xanchor) == (0.0, "left", "top", t, "right")
    assert not [a for a in fig.layout.annotations if "leaves the chart" in a.text and a.y < 1]  # the bound's words: above the plot


def test_a_forward_overflow_draws_the_finite_state_and_its_growth():
    """T = 500: the state overflows at ~341, every gradient is NaN; the chart draws ‖h_t‖ before it, growing ×1.30."""
    tr = run(Config(**LINEAR, seq_len=500, recurrent_scale=1.3))
    t = tr.overflow_step
    assert t is not None and not np.isfinite(tr.grad_h).any()
    fig = grad_norm_curve(tr)
    (state,) = [d for d in fig.data if (d.name or "").startswith("‖hₜ‖, the forward state")]
    expected = np.linalg.norm(np.asarray(tr.hidden[:t], dtype=np.float64), axis=1)
    np.testing.assert_allclose(np.asarray(state.y, dtype=np.float64), expected, rtol=1e-12)
    assert f"finite before t = {t}" in state.name and fig.layout.yaxis.title.text == "norm (log scale)"
    assert f"The forward state ‖hₜ‖ (drawn) grows ×1.30 per step (fitted) until it overflows at t = {t}" in decay_summary(tr)
    assert levels(fig, COLORS["overflow"]) == [pytest.approx(float(np.finfo(np.float32).max))]


@pytest.mark.parametrize("n", [9, 49, 199, 1999])
def test_measured_and_theory_words_never_contradict(n):
    """The measured factor cannot exceed the bound γ·σ_max (a property of BPTT): for every such pair the words agree."""
    grid = np.concatenate([np.linspace(0.5, 1.5, 201), 1 + np.linspace(-0.003, 0.003, 61)])
    for gs in grid:
        theory = _theory_words(float(gs), n)
        for f in grid[grid <= gs]:
            measured = trend(float(f), n)
            if "vanishing guaranteed" in theory:
                assert measured.startswith("vanishing"), (f, gs, n, measured, theory)
            if "slowly" in theory:
                assert measured != "about constant" and not measured.startswith("growing"), (f, gs, n)
            if "about 1" in theory:
                assert not measured.startswith(("growing", "exploding")) or f > 1, (f, gs, n)


def test_the_lru_lesson_reads_vanishing_slowly_in_both_labels():
    """|λ| = 0.99 over 199 steps: measured ×0.99 and the bound 0.99^199 = 0.14: 'vanishing slowly' beside 'vanishing guaranteed, slowly'."""
    tr = run(Config(cell="lru", init="identity", recurrent_scale=0.99, seq_len=200, hidden_size=4, batch_size=2))
    text = decay_summary(tr)
    assert "changes ×0.99 per step back in time: vanishing slowly." in text
    assert "Theory: γ·σ_max = 0.99 < 1: vanishing guaranteed, slowly, the bound 0.99^199 = 0.14 end to end" in text
    assert "about constant" not in text and "stable" not in text


def test_the_gate_summary_says_where_it_overflowed_not_the_pages_whole_paragraph():
    """The Gates tab's box sits under the page's overflow message: it names where, in the charts' one line, not the paragraph."""
    from dataclasses import replace

    from viz.gates import gate_summary
    from viz.notes import overflow_short

    tr = run(Config(cell="lstm", seq_len=20, hidden_size=4, batch_size=2))
    f = np.full_like(np.asarray(tr.gates["f"], dtype=np.float64), np.nan)  # no finite gate value left to average
    bad = replace(tr, gates={**tr.gates, "f": f}, overflow_step=0)
    text = gate_summary(bad)
    assert overflow_short(bad) in text and bad.overflow_message() not in text
