"""Live training views read a TrainingLog faithfully: loss, clipping, the growing heatmap, divergence."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from engine import Config, Snapshot, TrainingLog, train
from viz.theme import log_axis
from viz.training import NO_CLIP, clip_bins, clip_chart, grad_heatmap, loss_curve, training_dashboard

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
    rug = by_name(fig, "clipped")
    clipped = np.asarray(hist["clipped"], dtype=bool)
    assert clipped.any() and rug.type == "bar" and rug.yaxis == "y2" and f"({clipped.sum()} of 7 steps)" in rug.name
    assert np.array_equal(rug.y, clipped.astype(float))  # 7 steps, 7 groups: one step each
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
    assert heat.colorbar.title.text == "log₁₀ ‖∂L/∂hₜ‖"


def test_heatmap_pools_many_snapshots():
    log = fake_log(snapshots=1000, T=900)
    fig = grad_heatmap(log)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (100, 180)  # 1000 / 10 rows, 900 / 5 columns: never more than 100 x 200
    assert "max over 10 snapshots" in fig.layout.yaxis.title.text
    m = log.grad_matrix()
    assert np.allclose(z[3, 7], np.log10(m[30:40, 35:40].max()), atol=1e-5)


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
    assert axes == {("x", "y"), ("x2", "y2"), ("x2", "y4"), ("x3", "y3")}  # y4: the clipping strip under the norm panel
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log" and fig.layout.xaxis3.title.text == "time step t"
    assert {"Training loss", "Gradient norm and clipping"} <= {a.text.strip("<b>/") for a in fig.layout.annotations}
    assert np.allclose(by_name(fig, "training loss").y, log.arrays()["loss"])


def test_empty_log_and_large_payload():
    empty = TrainingLog()
    for fig in (loss_curve(empty), clip_chart(empty), grad_heatmap(empty), training_dashboard(empty)):
        assert "no " in texts(fig) and fig.to_json()
    fig = training_dashboard(fake_log(snapshots=200, T=500), baseline=0.3, threshold=1.0)
    assert len(fig.to_json()) < 300_000  # 200 x 500 pooled to 100 x 167 float32 cells, 400 points a curve


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


def test_one_norm_line_when_nothing_is_clipped():
    log = log_of(train(replace(CFG, clip="none"), steps=4, every=2))
    fig = clip_chart(log)
    assert [t.name for t in fig.data] == [NO_CLIP]  # not a grey line hidden under an identical blue one
    assert np.allclose(fig.data[0].y, log.arrays()["grad_norm_before"])
    assert [t.name for t in training_dashboard(log).data if t.yaxis == "y2"] == [NO_CLIP]
    never = log_of(train(replace(CFG, clip_threshold=1e6), steps=4, every=2))  # clipping on, threshold never reached
    assert [t.name for t in clip_chart(never, threshold=1e6).data] == [NO_CLIP, "threshold 1e+06"]


def test_log_axis_labels_whole_decades_only():
    axis = log_axis((0.0, 2.0), plot_px=210)
    assert axis == dict(type="log", exponentformat="power", minor=dict(showgrid=False), range=[0.0, 2.0], dtick=1, tick0=0)
    assert log_axis((-20.0, 0.0), plot_px=210)["dtick"] == 3  # 20 decades in room for 8 labels
    assert "range" not in log_axis(None, plot_px=210)


def test_dashboard_fits_a_window_and_never_labels_every_digit():
    history = dict(step=np.arange(4), loss=[1.0, 0.5, 0.2, 0.1], grad_norm_before=[1e-2, 1.0, 1e2, 1e3], clipped=[0, 0, 1, 1])
    log = TrainingLog()
    log.add(Snapshot(step=0, trace=SimpleNamespace(grad_h=np.ones(5)), history=dict(history, grad_norm_after=[1e-2, 1.0, 5.0, 5.0])))
    fig = training_dashboard(log, baseline=1.0, threshold=5.0)
    assert 620 <= fig.layout.height <= 680
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis2.dtick == 1  # decades only, never a bare 2 or 5
    lo, hi = fig.layout.yaxis.range
    assert hi - lo >= 2 and lo <= -1 and hi >= 0


def test_long_history_is_picked_to_400_exact_points_and_clipping_binned():
    log = fake_log(snapshots=500, T=50)  # 5000 steps
    hist = log.arrays()
    fig = training_dashboard(log, baseline=0.3, threshold=1.0)
    loss = by_name(fig, "training loss")
    x = np.asarray(loss.x).astype(int)
    assert len(x) == 400 and x[0] == 0 and x[-1] == 4999
    assert np.array_equal(np.asarray(loss.y), hist["loss"][x])  # true values at true steps
    before = by_name(fig, "norm before clipping")
    assert np.array_equal(np.asarray(before.y), hist["grad_norm_before"][np.asarray(before.x).astype(int)])
    rug = by_name(fig, "clipped")
    first, last, share = clip_bins(hist["step"], hist["clipped"] > 0)
    assert len(first) == 200 and np.array_equal(rug.y, share) and np.array_equal(first, np.arange(0, 5000, 25))
    assert np.allclose(share, hist["clipped"].reshape(200, 25).mean(axis=1))
    assert f"({int(hist['clipped'].sum())} of 5000 steps)" in rug.name
    assert not [t for t in fig.data if t.type == "scatter" and t.mode == "markers"]  # no per-point marker arrays


def test_streamed_figures_are_validated_once_per_shape_and_built_alike(snapshots):
    """Each shape of a streamed figure passes Plotly's validation once; every frame serialises as the validated one draws."""
    import json

    import plotly.graph_objects as go
    import plotly.io as pio

    from viz import theme

    theme._SHAPES_VALIDATED.clear()
    log = log_of(snapshots)
    first, again = (training_dashboard(log, baseline=0.2, threshold=0.05) for _ in range(2))
    assert len(theme._SHAPES_VALIDATED) == 1
    assert pio.to_json(first, validate=False) == pio.to_json(again, validate=False)
    validated = json.loads(pio.to_json(go.Figure(first.to_plotly_json()), validate=False))
    assert validated["data"] == json.loads(pio.to_json(first, validate=False))["data"]  # named colour scales spelled out alike
    with pytest.raises(ValueError, match="bogus"):
        theme.streamed_figure([dict(type="scatter", y=[1.0], bogus=1)], {})
    theme.streamed_figure([dict(type="scatter", y=[1.0])], {})
    assert theme.streamed_figure([dict(type="scatter", y=[2.0])], {}).data[0].y == (2.0,)  # the fast path keeps the values
