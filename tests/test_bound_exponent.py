"""The theory bound (γ·σ_max)^(s−t) and every factor the page writes, checked against closed forms at every step.

Oracles: matrices whose powers are known exactly. Identity init gives W_hh = s·I (RNN), u = s
(IndRNN) and |λ| = s (LRU); with a linear φ (or the LRU, which has none) each step back multiplies
the gradient by exactly s, so with one loss at T−1: ‖∂L/∂h_t‖ = bound_t = ‖∂L/∂h_(T−1)‖·s^(T−1−t).
The bound's exponent is checked at every t, and so is each number and exponent written in
words (chart hover, notes, lesson criteria, lesson steps): an exponent off by one fails here.
"""

import math
import re

import numpy as np
import pytest

from engine import Config, phase, run
from engine.model import Model
from engine.theory import GAMMA, bptt_bound
from ui.teaching import lessons
from viz.bound import bound_words, clipped_bound, log_span
from viz.decay import decay_summary_text, power_text, unit_decay_figure
from viz.gradients import BOUND, decay_summary, grad_norm_curve
from viz.measures import sub, trend
from viz.notes import sci
from viz.phase import phase_heatmap

T = 30


def exact(cell: str, scale: float, activation: str = "linear", **kw) -> Config:
    """A run whose per-step factor is exactly `scale` (see the module docstring); one loss, at the last step."""
    base = dict(cell=cell, init="identity", recurrent_scale=scale, task="first", seq_len=T, hidden_size=4, batch_size=3, dtype="float64")
    if cell != "lru":
        base["activation"] = activation
    return Config(**{**base, **kw})


def steps_back(n: int) -> np.ndarray:
    """T−1−t for t = 0..n−1: the exponent of the bound at each step."""
    return n - 1 - np.arange(n)


def test_bptt_bound_is_the_closed_form_sum_of_powers():
    """bound_t = mean_b Σ_(s ≥ t) ‖local_b(s)‖ · rate^(s−t), written with explicit powers, not the recursion."""
    rng = np.random.default_rng(0)
    g = rng.uniform(0.1, 2.0, (9, 4))
    g[rng.random(g.shape) < 0.3] = 0.0  # steps without a loss
    for rate in (0.0, 0.5, 1.0, 1.7):
        want = np.array([np.mean([sum(g[s, b] * rate ** (s - t) for s in range(t, 9)) for b in range(4)]) for t in range(9)])
        np.testing.assert_allclose(bptt_bound(g, rate), want, rtol=1e-13, atol=0)
    one = np.zeros((6, 2))
    one[-1] = [1.0, 3.0]
    np.testing.assert_allclose(bptt_bound(one, 0.5), 2.0 * 0.5 ** steps_back(6), rtol=1e-15)


@pytest.mark.parametrize("cell", ["rnn", "indrnn", "lru"])
@pytest.mark.parametrize("scale", [0.8, 1.0, 1.25])
def test_the_bound_is_the_measured_gradient_and_the_closed_form_at_every_step(cell, scale):
    tr = run(exact(cell, scale))
    assert tr.gamma == 1.0 and tr.sigma_max == pytest.approx(scale, rel=1e-12)
    want = tr.grad_h[-1] * scale ** steps_back(T)
    np.testing.assert_allclose(tr.bound, want, rtol=1e-12)
    np.testing.assert_allclose(tr.grad_h, want, rtol=1e-9)  # the bound is tight: nothing between steps shrinks it
    exponent = np.log(tr.bound / tr.bound[-1]) / math.log(scale) if scale != 1 else steps_back(T)
    np.testing.assert_allclose(exponent, steps_back(T), atol=1e-9)
    assert tr.decay_factor == pytest.approx(scale, rel=1e-9)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_gamma_enters_the_base_and_the_bound_holds_at_every_step(activation):
    tr = run(exact("rnn", 1.5, activation))
    assert tr.gamma == GAMMA[activation]
    rate = GAMMA[activation] * 1.5
    np.testing.assert_allclose(tr.bound, tr.grad_h[-1] * rate ** steps_back(T), rtol=1e-12)
    assert np.all(tr.grad_h <= tr.bound * (1 + 1e-12))


@pytest.mark.parametrize("cell", ["rnn", "indrnn", "lru"])
def test_with_a_loss_at_every_step_the_bound_sums_each_losss_power(cell):
    """Many-to-many: bound_t = mean_b Σ_(s ≥ t) ‖∂l_s/∂h_s‖_b (γ·σ_max)^(s−t), from the engine's own local gradients."""
    cfg = exact(cell, 0.9, task="sine", activation="tanh") if cell != "lru" else exact(cell, 0.9, task="sine")
    tr = run(cfg)
    model = Model(cfg)
    local = np.linalg.norm(model.forward_backward(model.batch(0)).local.detach().numpy(), axis=-1)  # (T, B)
    rate = tr.gamma * tr.sigma_max
    want = np.array([np.mean([sum(local[s, b] * rate ** (s - t) for s in range(t, T)) for b in range(3)]) for t in range(T)])
    np.testing.assert_allclose(tr.bound, want, rtol=1e-10)


def test_the_chart_draws_and_hovers_the_closed_form():
    tr = run(exact("rnn", 0.7))
    fig = grad_norm_curve(tr)
    (drawn,) = [d for d in fig.data if d.name == BOUND]
    assert BOUND == "bound (γ·σ_max)^(s−t)"
    x = np.asarray(drawn.x)
    want = tr.grad_h[-1] * 0.7 ** steps_back(T)[x]
    np.testing.assert_allclose(np.asarray(drawn.y, dtype=np.float64), want, rtol=1e-12)  # on the chart: nothing clipped
    assert list(drawn.customdata) == [sci(float(v)) for v in want]


def test_a_bound_beyond_the_chart_says_its_true_peak():
    tr = run(exact("rnn", 1.25, activation="tanh"))
    span = log_span(tr.grad_h, pad=0.3)
    above = clipped_bound(tr.bound, span)[1]
    words = bound_words(tr, above)
    assert words == (
        f"Theory bound (dashed) leaves the chart: it reaches {sci(tr.grad_h[-1] * 1.25 ** (T - 1))} at t = 0; drawn along the top edge."
    )


def first_overflowing_exponent(g_last: float) -> int:
    """Least n with g_last · 2^n beyond float64 (doubling is exact: it overflows once the binary exponent passes 1024)."""
    _, e = math.frexp(g_last)  # g_last = m · 2^e, 0.5 <= m < 1
    return 1025 - e


def test_an_infinite_bound_names_the_steps_and_the_exponent_where_float64_ends():
    """W = 2·I, tanh (the state stays finite), T = 1200, one sequence: bound_t = g · 2^(T−1−t) is inf from a known t down."""
    n_steps = 1200
    tr = run(exact("rnn", 2.0, activation="tanh", seq_len=n_steps, batch_size=1, dtype="float32"))
    n = first_overflowing_exponent(float(tr.grad_h[-1]))
    last = n_steps - 1 - n
    assert np.all(np.isinf(tr.bound[: last + 1])) and np.all(np.isfinite(tr.bound[last + 1 :]))
    words = bound_words(tr, np.isinf(tr.bound))
    assert f"infinite at t ≤ {last} " in words and "= 2^(s−t) exceeds" in words and f"over {n} or more steps" in words
    note = tr.bound_note()
    assert f"(γ·σ_max)^k = (1·{tr.sigma_max:.3g})^k" in note and f"at time steps 0-{last}:" in note


def as_shown(value: float, text: str) -> bool:
    """value rounded to the significant digits the text shows equals the text ('5e-4', '0.00048', '0.23')."""
    mantissa = text.lower().split("e")[0].replace(".", "").replace("-", "").lstrip("0")
    return float(f"{value:.{max(len(mantissa), 1)}g}") == float(text)


def test_decay_words_give_the_factor_and_its_power_over_the_steps_shown():
    """'factor per step (fitted) ×s', the end-to-end ratio s^(T−1) and the bound s^(T−1): exponents and powers are the closed form."""
    for seq_len in (T, 150):
        n = seq_len - 1
        tr = run(exact("rnn", 0.95, seq_len=seq_len))
        text = decay_summary(tr)
        word = trend(0.95, n)
        assert f"factor per step (fitted): ‖∂L/∂hₜ‖ changes ×0.95 per step back in time: {word}." in text
        shown = re.search(f"end-to-end ratio ‖∂L/∂h₀‖ / ‖∂L/∂h{sub(n)}‖ = (-?\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?)", text)
        assert shown and as_shown(0.95**n, shown.group(1)), text
        pace = ", slowly" if "slowly" in word else ""
        assert f"Theory: γ·σ_max = 0.95 < 1: vanishing guaranteed{pace}, the bound 0.95^{n} = {power_text(0.95, n)} end to end" in text


@pytest.mark.parametrize("cell", ["indrnn", "lru"])
def test_diagonal_cells_write_each_units_factor_to_the_power_t_minus_1(cell):
    tr = run(exact(cell, 0.9))
    sym = "|λᵢ|" if cell == "lru" else "|uᵢ|"
    assert f"every {sym} = 0.9 (4 units)" in decay_summary_text(tr)
    assert f"after {T - 1} steps {sci(0.9 ** (T - 1))}." in decay_summary_text(tr)
    fig = unit_decay_figure(tr)
    (unit,) = [d for d in fig.data if d.name and d.name.startswith("unit ")]
    k = np.asarray(unit.x)
    np.testing.assert_allclose(np.asarray(unit.y, dtype=np.float64), 0.9**k, rtol=1e-12)
    (measured,) = [d for d in fig.data if d.name and d.name.startswith("measured")]
    np.testing.assert_allclose(np.asarray(measured.y, dtype=np.float64), 0.9**k, rtol=1e-9)


def test_a_nonlinear_diagonal_cell_writes_gamma_times_the_factor_to_the_power_t_minus_1():
    tr = run(exact("indrnn", 1.2, activation="sigmoid"))
    assert f"after {T - 1} steps at most {power_text(0.25 * 1.2, T - 1)}." in decay_summary_text(tr)
    assert power_text(0.3, T - 1) == sci(0.3 ** (T - 1))


def test_power_text_is_base_to_the_k_inside_and_beyond_float64():
    for base, k in ((0.9, 1), (0.9, 199), (1.3, 499), (0.5, 3), (2.0, 10)):
        assert power_text(base, k) == sci(base**k), (base, k)
    assert power_text(10.0, 400) == "about 1e400" and power_text(0.1, 400) == "about 1e-400"
    assert power_text(2.0, 0) == "1" and power_text(0.0, 5) == "0"


def test_the_phase_diagram_is_k_times_log_scale_at_every_distance():
    scales = np.array([0.5, 0.9, 1.0, 1.1])
    record = phase(exact("rnn", 1.0, hidden_size=3, batch_size=2), scales)
    k = np.arange(T)
    np.testing.assert_allclose(record.log_ratio, k[None, :] * np.log10(scales)[:, None], atol=1e-9)
    assert record.boundary == pytest.approx(1.0, rel=1e-12)
    heat = phase_heatmap(record).data[0]
    assert f"(t = {T - 1} − k)" in heat.hovertemplate
    sig = phase(exact("rnn", 1.0, activation="sigmoid", hidden_size=3, batch_size=2), scales)
    assert sig.boundary == pytest.approx(4.0, rel=1e-12)  # γ·σ_max = 1 at scale 1/γ


def test_the_vanishing_lesson_criterion_writes_the_bound_at_exponent_t_minus_1():
    tr = run(exact("rnn", 0.9, batch_size=2))
    claim = lessons.vanishing(tr, below=1e-6, seeds=[0, 0])
    assert f"under the bound (γ·σ_max)^{T - 1} = {lessons.fmt(0.9 ** (T - 1))}" in claim.text
    assert claim.value == pytest.approx(0.9 ** (T - 1), rel=1e-9)
    lru = lessons.lru(run(exact("lru", 0.9)), seeds=[0, 0])
    assert lru.held and f"|λ|^{T - 1} = {lessons.fmt(0.9 ** (T - 1))}" in lru.text


POWER = re.compile(r"(?<!\\times )(?<![\d.])(\d+(?:\.\d+)?)\^\{(\d+)(-t)?\}")


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.slug)
def test_every_power_in_a_lessons_steps_has_the_exponent_of_its_sequence(lesson):
    """'0.9^{199-t}', '1.3^{499}': the exponent is T−1 of the run the step speaks of, and the base its factor per step."""
    for step in lesson.steps:
        moved = re.search(r"\$T\$ to (\d+)", step)
        seq_len = int(moved.group(1)) if moved else lesson.settings["seq_len"]
        for base, exponent, _ in POWER.findall(step):
            assert int(exponent) == seq_len - 1, (lesson.slug, step)
            gamma = GAMMA[lesson.settings.get("activation", "tanh")] if lesson.settings["cell"] in ("rnn", "indrnn") else 1.0
            assert float(base) == pytest.approx(gamma * lesson.settings["recurrent_scale"]), (lesson.slug, step)
        for n in re.findall(r"over the (\d+) steps", step):
            assert int(n) == seq_len - 1, (lesson.slug, step)
    assert any(POWER.search(step) for step in lessons.get("vanishing-tanh").steps)
