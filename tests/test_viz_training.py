"""Live training views read a TrainingLog faithfully: loss, clipping, the growing heatmap, divergence."""

from types import SimpleNamespace

import numpy as np
import pytest

from engine import Config, Snapshot, TrainingLog, train
from viz.training import clip_chart, grad_heatmap, loss_curve, training_dashboard

CFG = Config(seq_len=20, hidden_size=8, batch_size=4, clip="norm", clip_threshold=0.05)


@pytest.fixture(scope="module")
def snapshots():
    """Seven training steps with a snapshot every second step (0, 2, 4, 6), clipping most of them."""
    return list(train(CFG, steps=7, every=2))


def log_of(snaps):
    log = TrainingLog()
    for s in snaps:
        log.add(s)
    return log


def by_name(fig, prefix):
    (trace,) = [t for t in fig.data if (t.name or "").startswith(prefix)]
    return trace


def texts(fig):
    return " ".join(a.text for a in fig.layout.annotations)


def test_loss_curve_matches_history(snapshots):
    log = log_of(snapshots)
    fig = loss_curve(log, baseline=0.2)
    hist = log.arrays()
    loss = by_name(fig, "training loss")
    assert np.array_equal(loss.x, np.arange(7)) and np.allclose(loss.y, hist["loss"])
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis.title.text == "training step"
    assert list(by_name(fig, "trivial baseline").y) == [0.2, 0.2]
    assert not [t for t in loss_curve(log).data if t.name.startswith("trivial")]


def test_clip_chart_marks_clipping_and_threshold(snapshots):
    log = log_of(snapshots)
    hist = log.arrays()
    fig = clip_chart(log, threshold=0.05)
    assert np.allclose(by_name(fig, "norm before clipping").y, hist["grad_norm_before"])
    after = by_name(fig, "norm after clipping").y
    assert np.allclose(after, hist["grad_norm_after"]) and np.all(after <= 0.05 * (1 + 1e-5))
    events = by_name(fig, "clipped")
    clipped = np.asarray(hist["clipped"], dtype=bool)
    assert clipped.any() and np.array_equal(events.x, hist["step"][clipped])
    assert events.marker.color == "#dc2626" and f"({clipped.sum()} steps)" in events.name
    assert list(by_name(fig, "threshold").y) == [0.05, 0.05] and fig.layout.yaxis.type == "log"


def test_heatmap_grows_row_by_row(snapshots):
    log = TrainingLog()
    for n, snap in enumerate(snapshots, start=1):
        log.add(snap)
        heat = grad_heatmap(log).data[0]
        assert np.asarray(heat.z).shape == (n, 20)
    assert np.array_equal(heat.y, [0, 2, 4, 6]) and np.array_equal(heat.x, np.arange(20))
    m = log.grad_matrix()
    assert np.allclose(np.asarray(heat.z, dtype=np.float64), np.log10(m), atol=1e-5)
    assert heat.colorbar.title.text == "log10 ||dL/dh_t||"


def test_heatmap_pools_many_snapshots():
    log = fake_log(snapshots=1000, T=900)
    fig = grad_heatmap(log)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (334, 300)  # ceil(1000 / 3) rows, 900 / 3 columns: never more than 400 x 400
    assert "max over 3 snapshots" in fig.layout.yaxis.title.text


def test_divergence_is_shown():
    cfg = Config(activation="linear", recurrent_scale=1.5, seq_len=120, hidden_size=8, batch_size=4)
    snaps = list(train(cfg, steps=5, every=1))
    log = log_of(snaps)
    assert log.diverged and snaps[-1].trace.nonfinite
    fig = training_dashboard(log)
    assert "Training diverged at step 0" in texts(fig) and "red cells: non-finite" in texts(fig)
    (bad,) = [t for t in fig.data if t.name == "non-finite"]
    assert np.nansum(np.asarray(bad.z)) == np.sum(~np.isfinite(log.grad_matrix()))
    js = fig.to_json()
    assert "Infinity" not in js and "NaN" not in js


def test_dashboard_has_three_panels(snapshots):
    log = log_of(snapshots)
    fig = training_dashboard(log, baseline=0.2, threshold=0.05)
    axes = {(t.xaxis, t.yaxis) for t in fig.data}
    assert axes == {("x", "y"), ("x2", "y2"), ("x3", "y3")}
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log" and fig.layout.xaxis3.title.text == "time step t"
    assert {"Training loss", "Gradient norm and clipping"} <= {a.text.strip("<b>/") for a in fig.layout.annotations}
    assert np.allclose(by_name(fig, "training loss").y, log.arrays()["loss"])


def test_empty_log_and_large_payload():
    empty = TrainingLog()
    for fig in (loss_curve(empty), clip_chart(empty), grad_heatmap(empty), training_dashboard(empty)):
        assert "no " in texts(fig) and fig.to_json()
    fig = training_dashboard(fake_log(snapshots=200, T=500), baseline=0.3, threshold=1.0)
    assert len(fig.to_json()) < 1_000_000  # 200 x 500 pooled to 200 x 250 float32 cells


def fake_log(snapshots: int, T: int) -> TrainingLog:
    """A log of synthetic snapshots (only what TrainingLog reads), for sizes a test could not train."""
    rng = np.random.default_rng(0)
    log = TrainingLog()
    for s in range(snapshots):
        steps = np.arange(10 * s, 10 * s + 10)
        history = dict(
            step=steps, loss=rng.random(10), grad_norm_before=rng.random(10) * 3, grad_norm_after=np.ones(10), clipped=rng.random(10) > 0.5
        )
        trace = SimpleNamespace(grad_h=np.exp(rng.normal(size=T)))
        log.add(Snapshot(step=int(steps[0]), trace=trace, history=history))
    return log
