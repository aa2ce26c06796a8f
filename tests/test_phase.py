"""engine.phase equals separate run() calls at every swept value, for every cell, as one batched job; its boundary is the theory's."""

import numpy as np
import pytest

from engine import Config, run
from engine.cells import CELLS
from engine.phase import phase

SCALES = [0.6, 1.0, 1.4]


def _curve(trace) -> np.ndarray:
    """What the phase diagram reads from a run: the last step's loss alone (grad_h_last for a loss at every step)."""
    return trace.grad_h if trace.grad_h_last is None else trace.grad_h_last


def _assert_equals_runs(cfg, values, axis="recurrent_scale"):
    record = phase(cfg, values, axis)
    T = cfg.seq_len
    assert record.log_ratio.shape == (len(values), T) and record.grad_h.shape == (len(values), T)
    np.testing.assert_array_equal(record.distance, np.arange(T))
    np.testing.assert_array_equal(record.scales, values)
    for i, v in enumerate(values):
        trace = run(cfg.replace(**{axis: v}))
        g = _curve(trace)
        np.testing.assert_allclose(record.grad_h[i], g, rtol=1e-9, atol=0)
        with np.errstate(divide="ignore"):
            np.testing.assert_allclose(record.log_ratio[i], np.log10(g[::-1] / g[-1]), rtol=1e-9, atol=1e-12)
        assert record.sigma_max[i] == trace.sigma_max and record.spectral_radius[i] == trace.spectral_radius
        assert record.gamma == trace.gamma
        assert record.overflow_step[i] == (-1 if trace.overflow_step is None else trace.overflow_step)
        if trace.grad_h_last is None:
            assert record.loss[i] == pytest.approx(trace.loss, rel=1e-12)
    return record


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("task", ["adding", "sine"])
def test_phase_equals_run_at_every_scale(cell, task):
    cfg = Config(cell=cell, task=task, seq_len=25, hidden_size=6, batch_size=3, dtype="float64", seed=3)
    _assert_equals_runs(cfg, SCALES)


@pytest.mark.parametrize("init", ["normal", "identity", "torch"])
def test_phase_equals_run_for_every_init(init):
    cfg = Config(cell="gru", init=init, seq_len=20, hidden_size=5, batch_size=2, dtype="float64")
    _assert_equals_runs(cfg, [0.7, 1.2])


def test_phase_equals_run_under_truncation():
    cfg = Config(cell="lstm", task="first", seq_len=24, truncation=10, hidden_size=4, batch_size=2, dtype="float64")
    record = _assert_equals_runs(cfg, [0.8, 1.5])
    assert record.horizon == 20  # the block holding step 23 starts at 20
    assert np.all(record.grad_h[:, :20] == 0) and np.all(np.isneginf(record.log_ratio[:, 4:]))


def test_forget_bias_axis_equals_run():
    cfg = Config(cell="lstm", seq_len=30, hidden_size=5, batch_size=2, dtype="float64")
    record = _assert_equals_runs(cfg, [-1.0, 0.0, 2.0, 4.0], axis="forget_bias")
    assert record.axis == "forget_bias" and record.boundary is None
    assert record.log_ratio[-1, -1] > record.log_ratio[0, -1] + 3  # a forget gate near 1 keeps the gradient alive


def test_overflow_flags_equal_run():
    """A linear RNN at scale 9 overflows float32 in the forward pass; the flags say where, as run() does."""
    cfg = Config(activation="linear", seq_len=60, hidden_size=4, batch_size=2, init="identity")
    record = phase(cfg, [0.9, 9.0])
    for i, s in enumerate([0.9, 9.0]):
        trace = run(cfg.replace(recurrent_scale=s))
        assert record.overflow_step[i] == (-1 if trace.overflow_step is None else trace.overflow_step)
        assert record.overflow_grad_step[i] == (-1 if trace.overflow_grad_step is None else trace.overflow_grad_step)
    assert record.overflow.tolist() == [False, True]
    assert record.to_dict()["nonfinite"] is True


def test_one_batched_job(monkeypatch):
    """T forward and at most T backward steps of the cell for all S values together, not S x T."""
    counts = {"step": 0, "back": 0}
    cls = CELLS["rnn"]
    step, back = cls.step, cls.step_back

    def counted_step(self, P, xp_t, state):
        counts["step"] += 1
        assert xp_t.shape[0] == 5 and P["weight_hh"].shape[0] == 5  # (S, B, H) and (S, H, H)
        return step(self, P, xp_t, state)

    def counted_back(self, *args, **kwargs):
        counts["back"] += 1
        return back(self, *args, **kwargs)

    monkeypatch.setattr(cls, "step", counted_step)
    monkeypatch.setattr(cls, "step_back", counted_back)
    phase(Config(seq_len=12, hidden_size=4, batch_size=2), np.linspace(0.5, 1.5, 5))
    assert counts == {"step": 12, "back": 12}


@pytest.mark.parametrize("activation, gamma", [("tanh", 1.0), ("sigmoid", 0.25), ("relu", 1.0)])
def test_boundary_is_where_gamma_sigma_max_is_one(activation, gamma):
    """Orthogonal init: sigma_max = scale, so the boundary is 1/gamma; run() there reports gamma * sigma_max = 1."""
    cfg = Config(activation=activation, seq_len=5, hidden_size=6, batch_size=2)
    record = phase(cfg, [0.5, 2.0])
    assert record.gamma == gamma
    assert record.boundary == pytest.approx(1 / gamma, rel=1e-12)


def test_boundary_for_a_non_normal_matrix():
    """normal init: sigma_max > rho; the boundary sits where run() measures gamma * sigma_max = 1."""
    cfg = Config(init="normal", seq_len=5, hidden_size=8, batch_size=2, dtype="float64")
    record = phase(cfg, [0.5, 1.0, 1.5])
    trace = run(cfg.replace(recurrent_scale=record.boundary))
    assert record.boundary < 1.0  # sigma_max exceeds the spectral radius: the bound allows growth below scale 1
    assert trace.gamma * trace.sigma_max == pytest.approx(1.0, rel=1e-9)


def test_measured_edge_is_the_boundary_for_a_linear_identity_rnn():
    """Linear phi, W_hh = s I: each step back multiplies the gradient by exactly s, so log_ratio[k] = k log10 s."""
    scales = np.array([0.8, 0.9, 1.0, 1.1, 1.25])
    cfg = Config(activation="linear", init="identity", seq_len=30, hidden_size=4, batch_size=3, dtype="float64")
    record = phase(cfg, scales)
    expected = np.outer(np.log10(scales), np.arange(30))
    np.testing.assert_allclose(record.log_ratio, expected, atol=1e-9)
    assert record.boundary == 1.0
    grows = record.log_ratio[:, -1] > 0
    assert np.all(grows == (scales > record.boundary))


@pytest.mark.parametrize(
    "kwargs, values, axis, words",
    [
        ({}, [0.0, 1.0], "recurrent_scale", "recurrent_scale must be greater than 0"),
        ({}, [1.0] * 402, "recurrent_scale", "give 1 to 401"),
        ({}, [], "recurrent_scale", "give 1 to 401"),
        ({}, [0.0], "forget_bias", "forget_bias applies to cells with a forget gate"),
        ({}, [1.0], "seq_len", "axis: must be one of"),
        ({"cell": "lstm"}, [11.0], "forget_bias", "between -10.0 and 10.0"),
    ],
)
def test_bad_values_name_the_problem(kwargs, values, axis, words):
    with pytest.raises(ValueError, match=words):
        phase(Config(seq_len=5, **kwargs), values, axis)
