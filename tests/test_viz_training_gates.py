"""Gates streamed while training: the log keeps the right row per snapshot and the figure draws exactly those numbers."""

from dataclasses import replace

import numpy as np
import pytest

from engine import Config, Snapshot, TrainingLog, run, train
from viz.training_gates import gate_dashboard

SMALL = dict(seq_len=50, hidden_size=4, batch_size=2)


def log_of(snaps, gate=None):
    log = TrainingLog(gate=gate)
    for s in snaps:
        log.add(s)
    return log


@pytest.fixture(scope="module")
def lstm_snaps():
    return list(train(Config(cell="lstm", forget_bias=1.0, **SMALL), steps=120, every=1))


def overall_share(trace) -> float:
    return float(np.mean(np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in trace.saturation.values()])))


@pytest.mark.parametrize("cell, gate", [("gru", "z"), ("rnn", "flat")])
def test_log_keeps_the_default_gate_per_cell(cell, gate):
    snaps = list(train(Config(cell=cell, **SMALL), steps=3, every=1))
    log = log_of(snaps)
    assert log.gate == gate
    for row, share, s in zip(log.gate_rows, log.saturation_share, snaps, strict=True):
        expected = s.trace.saturation["h"] if gate == "flat" else s.trace.gates["z"].mean(axis=1)
        assert np.array_equal(row, expected) and share == pytest.approx(overall_share(s.trace))


def test_lstm_log_rows_and_the_pooled_heatmap(lstm_snaps):
    log = log_of(lstm_snaps)
    assert log.gate == "f" and log.gate_matrix().shape == (120, 50)
    for row, share, s in zip(log.gate_rows, log.saturation_share, lstm_snaps, strict=True):
        assert np.allclose(row, s.trace.gates["f"].mean(axis=1), rtol=0, atol=1e-12)
        assert share == pytest.approx(overall_share(s.trace))
    fig = gate_dashboard(log)
    heat = fig.data[0]
    z = np.asarray(heat.z, dtype=np.float64)
    m = log.gate_matrix()
    assert z.shape == (60, 50)  # 120 snapshots pooled by 2 (at most 100 rows), 50 steps kept
    assert np.allclose(z, m.reshape(60, 2, 50).mean(axis=1), atol=1e-6)  # float32 on the wire
    assert np.array_equal(heat.y, np.arange(0, 120, 2)) and np.array_equal(heat.x, np.arange(50))
    assert (heat.zmin, heat.zmax) == (0.0, 1.0) and "Forget gate f" in fig.layout.annotations[-2].text
    assert "mean over 2 snapshots" in fig.layout.yaxis.title.text
    (curve,) = [d for d in fig.data if d.type == "scatter"]
    assert np.allclose(curve.y, np.asarray(log.saturation_share) * 100) and np.array_equal(curve.x, np.arange(120))
    assert tuple(fig.layout.yaxis2.range) == (0, 100)


def test_many_snapshots_and_long_sequences_are_pooled_and_picked_exactly():
    base = run(Config(cell="gru", seq_len=450, hidden_size=3, batch_size=2))
    rng = np.random.default_rng(0)
    log = TrainingLog()
    for step in range(500):
        gates = {k: np.clip(v + rng.normal(0, 0.05, v.shape), 0, 1) for k, v in base.gates.items()}
        saturation = {k: rng.random(450) for k in base.saturation}
        log.add(Snapshot(step=step * 10, trace=replace(base, gates=gates, saturation=saturation), history={}))
    fig = gate_dashboard(log)
    z = np.asarray(fig.data[0].z, dtype=np.float64)
    assert z.shape == (100, 150)  # 500 / 5 rows, 450 / 3 columns
    assert np.allclose(z, log.gate_matrix().reshape(100, 5, 150, 3).mean(axis=(1, 3)), atol=1e-6)
    curve = fig.data[-1]
    x = np.asarray(curve.x).astype(int)
    assert len(x) == 400 and x[0] == 0 and x[-1] == 4990
    assert np.allclose(curve.y, np.asarray(log.saturation_share)[x // 10] * 100)
    assert len(fig.to_json()) < 200_000


def test_empty_and_overflowing_logs_say_so():
    assert "no snapshots yet" in " ".join(a.text for a in gate_dashboard(TrainingLog()).layout.annotations)
    base = run(Config(cell="lstm", **SMALL))
    f = base.gates["f"].copy()
    f[7:, :] = np.nan  # the state overflowed from step 7 on
    log = TrainingLog()
    log.add(Snapshot(step=0, trace=base, history={}))
    log.add(Snapshot(step=1, trace=replace(base, gates=dict(base.gates, f=f)), history={}, diverged=True))
    fig = gate_dashboard(log)
    assert "Infinity" not in fig.to_json() and "NaN" not in fig.to_json()
    (bad,) = [d for d in fig.data if d.name == "non-finite"]
    assert np.array_equal(~np.isnan(np.asarray(bad.z, dtype=np.float64)), ~np.isfinite(log.gate_matrix()))
    assert any("non-finite gate values (overflow) in 1 row(s)" in a.text for a in fig.layout.annotations)
