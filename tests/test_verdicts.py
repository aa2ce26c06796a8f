"""Every pass/fail the page shows is decided on each step, not on an average: one bad step among good ones must fail.

A verdict that reads a mean (or a count, or one end of a curve) where it should read every
value lets a single bad step through. Each test here plants exactly one bad value among
good ones (one time step, one sequence, one unit, one parameter element, one training step)
and asserts that the verdict turns and that its words name that one value; and each verdict
threshold is checked on both sides of its edge. Oracles: the planted value and the
definitions (a relative error above tolerance, a nonzero gradient beyond the horizon, an
element above the clipping threshold, a non-finite unit).
"""

import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from engine import Config, phase, run
from engine.check import TOLERANCE, compare
from engine.clipping import clip_grads, global_norm
from engine.model import Model
from engine.theory import decay_factor, sigma_max, spectral_radius
from engine.trace import TrainingLog
from engine.training import train
from ui.teaching import lessons
from viz.bound import why_no_explosion
from viz.decay import decay_summary_text
from viz.gradients import decay_summary
from viz.notes import range_words
from viz.training import clip_bins, clip_chart

# ---- the trust badge: engine's BPTT against autograd -------------------------------------------------------------------


def planted(shape=(20, 4, 6), seed=0):
    ref = torch.as_tensor(np.random.default_rng(seed).standard_normal(shape))
    return ref.clone(), ref


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_wrong_step_of_one_sequence_fails_the_badge_and_is_named(dtype):
    mine, ref = planted()
    tol = TOLERANCE[dtype]
    mine[13, 2] = ref[13, 2] * (1 + 3 * tol)  # one (step, sequence) off by 3x the tolerance, all else exact
    verdict = compare(Config(dtype=dtype), mine, ref, first_step=0, nb=4)
    assert not verdict.ok and verdict.max_rel_error == pytest.approx(3 * tol, rel=1e-6)
    assert "at time step 13 " in verdict.text and verdict.text.startswith("⚠")
    shifted = compare(Config(dtype=dtype), mine, ref, first_step=30, nb=4)  # the steps are counted from the first one checked
    assert not shifted.ok and "at time step 43 " in shifted.text


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_badge_passes_exactly_at_its_tolerance(dtype):
    mine, ref = planted()
    tol = TOLERANCE[dtype]
    mine[5, 0] = ref[5, 0] * (1 + tol * (1 - 1e-6))
    ok = compare(Config(dtype=dtype), mine, ref, 0, 4)
    assert ok.ok and ok.max_rel_error <= tol and ok.text.startswith("checked against autograd")
    mine[5, 0] = ref[5, 0] * (1 + tol * (1 + 1e-6))
    assert not compare(Config(dtype=dtype), mine, ref, 0, 4).ok


def test_an_error_exactly_at_the_tolerance_passes():
    ref = torch.zeros((3, 2, 2), dtype=torch.float64)
    ref[..., 1] = 1.0  # every norm exactly 1
    mine = ref.clone()
    mine[1, 0, 0] = TOLERANCE["float32"]  # the difference's norm is exactly the tolerance
    verdict = compare(Config(dtype="float32"), mine, ref, 0, 2)
    assert verdict.max_rel_error == TOLERANCE["float32"] and verdict.ok


def test_a_reference_exactly_at_the_dtypes_largest_number_is_compared():
    top = float(np.finfo(np.float32).max)
    ref = torch.zeros((3, 2, 2), dtype=torch.float64)
    ref[..., 0] = top
    verdict = compare(Config(dtype="float32"), ref.clone(), ref, 0, 2)
    assert verdict.ok and "not compared" not in verdict.text
    ref[2, 1, 0] = math.nextafter(top, math.inf)
    assert "1 values beyond float32's range not compared" in compare(Config(dtype="float32"), ref.clone(), ref, 0, 2).text


def test_the_badge_says_how_many_sequences_and_which_steps_it_checked():
    mine, ref = planted((6, 2, 3))
    assert compare(Config(dtype="float64"), mine[:, :1], ref[:, :1], 0, 1).text.endswith("(1 sequence)")
    assert compare(Config(dtype="float64"), mine, ref, 0, 2).text.endswith("(2 sequences)")
    late = compare(Config(dtype="float64", seq_len=50), mine, ref, 44, 2)
    assert late.text.endswith("(2 sequences, time steps 44-49)")


def test_one_non_finite_unit_is_left_out_and_counted_never_averaged_in():
    mine, ref = planted()
    mine[7, 1, 3] = float("inf")  # one unit of one sequence at one step
    verdict = compare(Config(dtype="float64"), mine, ref, 0, 4)
    assert verdict.ok and verdict.max_rel_error == 0.0
    assert verdict.text.endswith("; 1 values beyond float64's range not compared")
    mine[2, 0, 0] = ref[2, 0, 0] + 1.0  # and one wrong value elsewhere still fails
    assert not compare(Config(dtype="float64"), mine, ref, 0, 4).ok


def test_a_reference_beyond_float32_is_not_compared_in_a_float32_run():
    mine, ref = planted()
    ref[4, 3] = ref[4, 3] / ref[4, 3].norm() * 1e39  # finite in float64, beyond float32's largest number
    mine[4, 3] = ref[4, 3] * 2.0
    verdict = compare(Config(dtype="float32"), mine, ref, 0, 4)
    assert verdict.ok and "1 values beyond float32's range not compared" in verdict.text
    assert not compare(Config(dtype="float64"), mine, ref, 0, 4).ok  # float64 holds it: compared, and wrong


def test_a_zero_reference_is_compared_in_absolute_terms():
    mine, ref = planted()
    ref[9, 0] = 0.0
    mine[9, 0] = 0.0
    assert compare(Config(dtype="float64"), mine, ref, 0, 4).ok  # 0 against 0: no 0/0
    mine[9, 0, 0] = 1e-290  # tiny against 0: relative to TINY, far beyond tolerance
    assert not compare(Config(dtype="float64"), mine, ref, 0, 4).ok
    mine[9, 0, 0] = 1e-320  # subnormal rounding noise against 0: within TINY, not a false alarm
    assert compare(Config(dtype="float64"), mine, ref, 0, 4).ok


@pytest.mark.parametrize("size", [1e-200, 1e-160, 1e160, 1e200])
def test_tiny_and_huge_float64_gradients_are_compared_not_waved_through(size):
    """Norms that square their entries gave 0 below ~1e-154 (any error passed) and inf above ~1e154 (skipped as overflow)."""
    mine, ref = planted()
    mine, ref = mine * size, ref * size
    exact = compare(Config(dtype="float64"), mine, ref, 0, 4)
    assert exact.ok and exact.max_rel_error == 0.0 and "not compared" not in exact.text
    mine[11, 1] *= 1.01  # one (step, sequence) off by 1 %
    wrong = compare(Config(dtype="float64"), mine, ref, 0, 4)
    assert not wrong.ok and wrong.max_rel_error == pytest.approx(0.01, rel=1e-6) and "at time step 11 " in wrong.text


def test_nothing_comparable_is_not_a_pass():
    mine, ref = planted()
    mine[:] = float("nan")
    verdict = compare(Config(dtype="float64"), mine, ref, 0, 4)
    assert not verdict.ok and math.isnan(verdict.max_rel_error) and verdict.text.startswith("not checked")


# ---- lesson claims -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def linear():
    """T = 40, W = 0.9·I, linear: ‖∂L/∂h_t‖ = g·0.9^(39−t) exactly, under truncation every 10 steps zero before t = 30."""
    base = dict(activation="linear", init="identity", recurrent_scale=0.9, seq_len=40, hidden_size=4, batch_size=2, dtype="float64")
    return run(Config(**base)), run(Config(**base, truncation=10)), run(Config(**base, clip="norm", clip_threshold=1e-3))


def with_grad(trace, g):
    return replace(trace, grad_h=np.asarray(g, dtype=np.float64))


def test_truncation_fails_on_one_nonzero_step_beyond_the_horizon(linear):
    _, cut, _ = linear
    assert lessons.truncation(cut, seeds=[30, 30]).held
    g = cut.grad_h.copy()
    g[4] = 1e-30  # a single step beyond the horizon carries a gradient
    claim = lessons.truncation(with_grad(cut, g), seeds=[30, 30])
    assert not claim.held and "1 of the 30 steps beyond the horizon have a nonzero gradient" in claim.text


def test_truncation_fails_on_one_zero_step_within_the_horizon(linear):
    _, cut, _ = linear
    g = cut.grad_h.copy()
    g[35] = 0.0
    claim = lessons.truncation(with_grad(cut, g), seeds=[30, 30])
    assert not claim.held and "1 reached steps have a zero gradient" in claim.text


def test_vanishing_needs_the_ratio_strictly_below_and_under_the_bound(linear):
    full, _, _ = linear
    r = 0.9**39
    assert lessons.vanishing(full, below=math.nextafter(r, 1), seeds=[0, 0]).held
    assert not lessons.vanishing(full, below=r * (1 - 1e-9), seeds=[0, 0]).held
    g = full.grad_h.copy()
    g[0] = full.bound[0] * (1 + 1e-3)  # step 0 above the bound, still far below a millionth... of nothing: ratio < 1
    assert not lessons.vanishing(with_grad(full, g), below=1.0, seeds=[0, 0]).held
    assert not lessons.vanishing(replace(full, gamma=None), below=1.0, seeds=[0, 0]).held


def test_exploding_holds_on_an_overflow_or_growth_strictly_above(linear):
    full, _, _ = linear
    grow = with_grad(full, full.grad_h[::-1])  # a ratio of 0.9^-39
    r = 0.9**-39
    assert lessons.exploding(grow, above=math.nextafter(r, 0), seeds=[0, 0]).held
    assert not lessons.exploding(grow, above=r, seeds=[0, 0]).held
    over = lessons.exploding(replace(grow, overflow_step=17, decay_factor=1 / 0.9), above=1e6, seeds=[17, 17])
    assert over.held and over.value == 17.0 and "overflows float64 at step 17" in over.text
    # an overflow is the claim only after growth: a vanishing run (factor per step 0.9) that overflows is not "exploding"
    assert not lessons.exploding(replace(full, overflow_step=17), above=1e6, seeds=[17, 17]).held
    g = full.grad_h.copy()
    g[0] = math.inf
    assert not lessons.exploding(with_grad(full, g), above=1e6, seeds=[0, 0]).held  # inf without an overflow step: no ratio


def test_clipping_needs_a_clipped_update_within_theta(linear):
    _, _, clipped = linear
    assert clipped.clipped and clipped.grad_norm_after_clip == pytest.approx(1e-3, rel=1e-9)
    assert lessons.clipping(clipped, below=1.0, seeds=[0, 0]).held
    assert not lessons.clipping(replace(clipped, clipped=False), below=1.0, seeds=[0, 0]).held
    over = replace(clipped, grad_norm_after_clip=1e-3 * (1 + 2e-5))
    assert not lessons.clipping(over, below=1.0, seeds=[0, 0]).held
    assert not lessons.clipping(clipped, below=0.9**39, seeds=[0, 0]).held  # the ratio must be strictly below
    assert not lessons.clipping(replace(clipped, config=clipped.config.replace(clip="value")), below=1.0, seeds=[0, 0]).held


def test_flat_includes_both_ends_and_nothing_beyond(linear):
    full, _, _ = linear
    r = 0.9**39
    assert lessons.flat(full, between=[r * (1 - 1e-12), r * (1 + 1e-12)], seeds=[0, 0]).held
    assert not lessons.flat(full, between=[r * (1 + 1e-9), 10.0], seeds=[0, 0]).held
    assert not lessons.flat(full, between=[0.0, r * (1 - 1e-9)], seeds=[0, 0]).held


def test_lru_holds_only_for_one_loss_full_bptt_within_its_powers():
    cfg = Config(cell="lru", init="identity", recurrent_scale=0.9, seq_len=40, hidden_size=4, batch_size=2, task="first")
    tr = run(cfg)
    assert lessons.lru(tr, seeds=[0, 0]).held
    g = tr.grad_h.copy()
    g[0] *= 1 + 2e-3  # beyond the float32 tolerance above max |λ|^(T−1)
    assert not lessons.lru(with_grad(tr, g), seeds=[0, 0]).held
    g[0] = tr.grad_h[0] * (1 - 2e-3)
    assert not lessons.lru(with_grad(tr, g), seeds=[0, 0]).held
    assert not lessons.lru(replace(tr, loss_steps=np.array([20, 39])), seeds=[0, 0]).held
    assert not lessons.lru(replace(tr, config=cfg.replace(truncation=10)), seeds=[0, 0]).held


def test_gate_claims_read_their_bands_inclusively():
    lstm = run(Config(cell="lstm", seq_len=30, hidden_size=4, batch_size=2, task="first"))
    lost = lessons.orders_lost(lstm)
    assert lessons.forget_bias(lstm, bands=[[0.0, lost, lost]], seeds=[[0.0, 1, 2]]).held
    assert not lessons.forget_bias(lstm, bands=[[0.0, math.nextafter(lost, 99), 99.0]], seeds=[[0.0, 1, 2]]).held
    assert not lessons.forget_bias(lstm, bands=[[1.0, -99.0, 99.0]], seeds=[[1.0, 1, 2]]).held  # no band for this bias
    gru = run(Config(cell="gru", seq_len=30, hidden_size=4, batch_size=2, task="first"))
    zbar, lost = float(gru.gates["z"].mean()), lessons.orders_lost(gru)
    assert lessons.gru(gru, z=[zbar, zbar], orders=math.nextafter(lost, -99), seeds=[0, 0]).held
    assert not lessons.gru(gru, z=[zbar, zbar], orders=lost, seeds=[0, 0]).held  # strictly more orders than claimed
    assert not lessons.gru(gru, z=[math.nextafter(zbar, 1), 1.0], orders=0.0, seeds=[0, 0]).held


# ---- clipping flags ----------------------------------------------------------------------------------------------------


def grads(*arrays):
    return {f"p{i}": torch.as_tensor(np.asarray(a, dtype=np.float64)) for i, a in enumerate(arrays)}


def test_value_clipping_flags_a_single_element_above_theta():
    g = grads(np.full(50, 0.5), np.full((4, 4), -0.5))
    assert clip_grads(g, "value", 0.5)[3] is False  # every element exactly at θ: nothing changes
    g["p1"][2, 3] = -0.5000001  # one element of 66 beyond θ
    out, before, after, clipped = clip_grads(g, "value", 0.5)
    assert clipped is True and float(out["p1"][2, 3]) == -0.5 and after < before
    changed = sum(int((o != v).sum()) for o, v in zip(out.values(), g.values()))
    assert changed == 1


def test_norm_clipping_starts_just_above_theta():
    g = grads([3.0, 4.0], [12.0])  # norm 13 exactly
    assert clip_grads(g, "norm", 13.0)[3] is False
    out, before, after, clipped = clip_grads(g, "norm", math.nextafter(13.0, 0))
    assert clipped and before == 13.0 and after == pytest.approx(13.0, rel=1e-12)
    nan = grads([3.0, float("nan")])
    out, before, after, clipped = clip_grads(nan, "norm", 1.0)
    assert not clipped and out is nan and math.isnan(before)


def test_the_global_norm_counts_every_element():
    g = grads(np.zeros(1000), np.zeros((30, 30)))
    g["p1"][29, 29] = 1e-3
    assert global_norm(g) == 1e-3
    g["p0"][999] = float("inf")
    assert global_norm(g) == math.inf


def test_one_clipped_step_in_a_thousand_is_drawn_and_counted():
    n = 1000
    steps = np.arange(n)
    before = np.full(n, 0.5)
    before[637] = 40.0
    after = np.minimum(before, 1.0)
    clipped = before > 1.0
    log = SimpleNamespace(history=dict(step=steps, grad_norm_before=before, grad_norm_after=after, clipped=clipped), last=None)
    fig = clip_chart(log, threshold=1.0)
    (rug,) = [d for d in fig.data if d.type == "bar"]
    assert rug.name == "clipped (1 of 1000 steps)"
    assert {d.name for d in fig.data} >= {"norm before clipping", "norm after clipping"}  # not the "no clipping" single line
    first, last, share = clip_bins(steps, clipped)
    (hit,) = np.flatnonzero(share > 0)
    assert first[hit] <= 637 <= last[hit] and share[hit] == 1 / (last[hit] - first[hit] + 1)


def test_training_ends_with_a_diverged_snapshot_at_the_first_non_finite_step():
    cfg = Config(activation="linear", init="identity", recurrent_scale=3.0, seq_len=100, hidden_size=4, batch_size=2)
    snaps = list(train(cfg, steps=5, every=100))
    assert snaps[-1].diverged and snaps[-1].step == 0 and len(snaps) == 1
    log = TrainingLog()
    log.add(snaps[-1])
    assert log.diverged


# ---- overflow detection ------------------------------------------------------------------------------------------------


def test_one_overflowing_unit_of_one_sequence_marks_the_step():
    """IndRNN, linear, torch init (u spread up to 4): at step 65 one unit of one of three sequences leaves float32, no more."""
    cfg = Config(cell="indrnn", activation="linear", init="torch", recurrent_scale=4.0, seq_len=80, hidden_size=6, batch_size=3)
    cfg = cfg.replace(task="first", seed=2)
    model = Model(cfg.replace(dtype="float64"))  # float64 holds every value: the oracle
    exact = model.forward_backward(model.batch(0)).tape.hs[1:].detach().numpy()  # (T, B, H)
    big = np.abs(exact) > np.finfo(np.float32).max
    first = int(np.argmax(big.any(axis=(1, 2))))
    assert big[first].sum() == 1  # one unit of one sequence, not all of them
    assert first < min(int(np.argmax(big[:, b].any(axis=1))) for b in range(cfg.batch_size) if not big[first, b].any())
    tr = run(cfg)
    assert tr.overflow_step == first and tr.nonfinite
    assert f"the hidden state became non-finite at time step {first} " in tr.overflow_message()
    record = phase(cfg, [4.0])
    assert record.overflow_step.tolist() == [first] and record.overflow.tolist() == [True]


def test_one_bad_value_in_any_record_makes_the_trace_non_finite_and_is_named():
    tr = run(Config(seq_len=12, hidden_size=3, batch_size=2))
    assert not tr.nonfinite and tr.overflow_message() is None
    for name in ("grad_h", "contrib", "hidden"):
        a = np.array(getattr(tr, name), dtype=np.float64)
        a.reshape(len(a), -1)[7, -1] = np.inf
        bad = replace(tr, **{name: a})
        assert bad.nonfinite and "time steps 7" in bad.overflow_message(), name
        a.reshape(len(a), -1)[7, -1] = 1e39  # finite, but beyond the run's float32
        beyond = replace(tr, **{name: a})
        assert beyond.nonfinite and "beyond float32's largest number" in beyond.overflow_message(), name
    assert replace(tr, loss=math.nan).nonfinite and replace(tr, grad_norm_before_clip=math.inf).nonfinite


def test_range_words_count_a_single_bad_value():
    tr = SimpleNamespace(config=SimpleNamespace(dtype="float32"))
    v = np.ones(500)
    assert range_words(tr, v, "x") is None
    v[123] = np.nan
    assert range_words(tr, v, "x").startswith("1 of 500 values of x are non-finite")
    v[123] = 3.5e38
    assert range_words(tr, v, "x").startswith("1 of 500 values of x (up to 4e38) exceed float32's largest number")
    assert range_words(SimpleNamespace(config=SimpleNamespace(dtype="float64")), v, "x") is None


def test_a_single_non_finite_weight_has_no_spectrum():
    w = np.eye(5) * 0.9
    assert spectral_radius(w) == pytest.approx(0.9) and sigma_max(w) == pytest.approx(0.9)
    w[3, 1] = np.inf
    assert math.isnan(spectral_radius(w)) and math.isnan(sigma_max(w))
    w[3, 1] = np.nan
    assert math.isnan(spectral_radius(w)) and math.isnan(sigma_max(w))


def test_the_decay_fit_skips_single_non_finite_or_zero_steps():
    g = 2.0 * 0.8 ** (9 - np.arange(10))
    for bad in (np.inf, np.nan, 0.0):
        h = g.copy()
        h[4] = bad
        assert decay_factor(h) == pytest.approx(0.8, rel=1e-12)
    assert decay_factor(np.array([np.nan, 1.0])) is None and decay_factor(np.array([1.0, 1.0])) == pytest.approx(1.0)
    assert decay_factor(g, last=5) == pytest.approx(0.8) and decay_factor(g, first=8) == pytest.approx(0.8)
    assert decay_factor(g, first=9) is None


# ---- the words: vanishing, exploding, stable ---------------------------------------------------------------------------


def fake(f, gamma=1.0, smax=1.0, T=50, **kw):
    """A trace as the words read it: a fitted factor per step, γ and σ_max."""
    cfg = SimpleNamespace(activation="linear", tbptt=None, dtype="float32")
    base = dict(config=cfg, grad_h=np.ones(T), grad_h_last=None, decay_factor=f, gamma=gamma, sigma_max=smax, blocks=None)
    return SimpleNamespace(**{**base, "saturation": {}, "unit_decay": None, "spectral_radius": smax, "nonfinite": False, **kw})


@pytest.mark.parametrize(
    "f,word",
    # T = 50: 49 steps; "about constant" while |49·log10 f| < 0.05, "slowly" while < 1 (viz.measures.trend)
    [(0.95, "vanishing"), (0.955, "vanishing slowly"), (0.9975, "vanishing slowly"), (0.998, "about constant"), (1.0, "about constant")]
    + [(1.002, "about constant"), (1.0025, "growing slowly"), (1.048, "growing slowly"), (1.049, "exploding")],
)
def test_the_measured_verdict_on_each_side_of_its_edges(f, word):
    assert f"per step back in time: {word}." in decay_summary(fake(f))


@pytest.mark.parametrize(
    "gs,word",
    [(0.95, "< 1: vanishing guaranteed, the bound"), (0.96, "< 1: vanishing guaranteed, slowly"), (0.998, "about 1"), (1.0, "about 1")]
    + [(1.002, "about 1"), (1.0025, "> 1: the bound allows")],
)
def test_the_theory_verdict_on_each_side_of_its_edges(gs, word):
    assert word in decay_summary(fake(1.0, gamma=1.0, smax=gs))
    assert word in decay_summary(fake(1.0, gamma=0.25, smax=4 * gs))  # γ and σ_max enter as their product


def test_why_no_explosion_speaks_only_when_the_bound_allows_growth_the_data_do_not_show():
    assert why_no_explosion(fake(1.0, smax=1.004)) is None  # the bound does not allow growth
    assert why_no_explosion(fake(1.0, smax=1.006)) is not None
    assert why_no_explosion(fake(1.009, smax=1.2)) is not None  # the data stay within 1 %
    assert why_no_explosion(fake(1.011, smax=1.2)) is None  # the data grow: nothing to explain
    assert why_no_explosion(fake(1.0, smax=1.2, nonfinite=True)) is None
    assert why_no_explosion(fake(None, smax=1.2)) is None


def test_one_unit_above_one_is_counted_and_exactly_one_is_not():
    tr = run(Config(cell="lru", init="identity", recurrent_scale=0.9, seq_len=12, hidden_size=5, batch_size=2))
    one = replace(tr, unit_decay=np.array([0.5, 0.6, 0.7, 0.8, 1.0 + 1e-9]))
    assert "; 1 of them above 1." in decay_summary_text(one)
    edge = replace(tr, unit_decay=np.array([0.5, 0.6, 0.7, 0.8, 1.0]))
    assert "above 1" not in decay_summary_text(edge) and "1 unit has |λᵢ| = 1 exactly" in decay_summary_text(edge)
