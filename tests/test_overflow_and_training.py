"""Overflow is data, not a crash; training really learns and streams snapshots."""

import json

import numpy as np
import pytest

from engine import TASKS, Config, TrainingLog, run, to_json, train


@pytest.mark.parametrize("activation", ["linear", "relu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exploding_run_reports_where_it_overflowed(activation, dtype):
    cfg = Config(
        activation=activation, recurrent_scale=1.5, init="identity", seq_len=2000 if dtype == "float64" else 500, task="first", dtype=dtype
    )
    t = run(cfg)
    assert t.nonfinite
    assert t.overflow_step is not None
    # identity * 1.5: |h_t| grows like 1.5^t, so the first overflow is where 1.5^t passes the dtype's max.
    limit = np.log(np.finfo(dtype).max) / np.log(1.5)
    assert limit - 15 < t.overflow_step < limit + 15
    assert np.all(np.isfinite(t.hidden[: t.overflow_step]))
    msg = t.overflow_message()
    assert f"time step {t.overflow_step}" in msg and "1.5" in msg
    d = json.loads(to_json(t))
    assert d["nonfinite"] is True and d["overflow_step"] == t.overflow_step


def test_finite_run_says_so():
    t = run(Config(seq_len=20))
    assert not t.nonfinite and t.overflow_message() is None
    assert json.loads(to_json(t))["nonfinite"] is False


def test_exploding_gradient_without_forward_overflow():
    # tanh keeps h bounded; with a large scale the backward product can still blow up in float32 only if long enough.
    t = run(Config(activation="tanh", recurrent_scale=1.5, seq_len=200))
    assert t.overflow_step is None  # tanh never overflows forward
    assert np.all(np.isfinite(t.grad_h))


def test_lstm_learns_the_adding_problem():
    cfg = Config(cell="lstm", task="adding", seq_len=10, hidden_size=16, batch_size=32, lr=0.01, seed=0)
    snaps = list(train(cfg, steps=300, every=50))
    assert [s.step for s in snaps] == [0, 50, 100, 150, 200, 250, 299]
    trivial = TASKS["adding"].trivial_loss
    final = np.mean([s.loss for s in snaps[-2:]])
    assert final < 0.2 * trivial, final
    assert snaps[0].loss > 0.5 * trivial


def test_snapshot_zero_is_the_plain_run_and_history_is_complete():
    cfg = Config(seq_len=12, hidden_size=8, clip="norm", clip_threshold=0.05)
    snaps = list(train(cfg, steps=7, every=3))
    np.testing.assert_allclose(snaps[0].trace.grad_h, run(cfg).grad_h)
    log = TrainingLog()
    for s in snaps:
        log.add(s)
    hist = log.arrays()
    np.testing.assert_array_equal(hist["step"], np.arange(7))
    assert np.all(hist["grad_norm_after"] <= 0.05 * (1 + 1e-6))
    assert hist["clipped"].any()
    assert log.grad_matrix().shape == (len(snaps), 12)
    for line in map(to_json, snaps):
        assert json.loads(line)["step"] in (0, 3, 6)


def test_training_changes_the_weights_and_sgd_differs_from_adam():
    cfg = Config(seq_len=8, hidden_size=8, lr=0.1)
    a = [s.loss for s in train(cfg, 20, 19)]
    b = [s.loss for s in train(cfg.replace(optimizer="sgd"), 20, 19)]
    assert a[0] == b[0] and a[1] != b[1]


def test_diverging_training_stops_with_a_last_snapshot():
    cfg = Config(activation="linear", init="identity", recurrent_scale=1.5, seq_len=400, task="first")
    snaps = list(train(cfg, steps=50, every=10))
    assert snaps[-1].diverged and snaps[-1].trace.nonfinite
    assert len(snaps) == 1


def test_truncation_is_applied_in_training():
    cfg = Config(task="first", seq_len=20, hidden_size=8, truncation=5)
    snaps = list(train(cfg, steps=3, every=1))
    assert all(np.all(s.trace.grad_h[:15] == 0) for s in snaps)


def test_generator_does_no_work_ahead(monkeypatch):
    """The first snapshot comes after one step's work, not after the run: at most the pass of step 0 has run."""
    from engine import model

    passes = []
    real = model.Model.forward_backward
    monkeypatch.setattr(model.Model, "forward_backward", lambda self, *a, **k: passes.append(1) or real(self, *a, **k))
    gen = train(Config(seq_len=5), steps=5000, every=1)  # 5000: the most steps a training takes (TrainingConfig)
    first = next(gen)
    gen.close()
    assert first.step == 0 and 1 <= len(passes) <= 2


@pytest.mark.parametrize("steps,every", [(0, 1), (5, 0), (1.5, 1)])
def test_bad_training_arguments(steps, every):
    with pytest.raises(ValueError, match="steps|every"):
        next(train(Config(), steps, every))
