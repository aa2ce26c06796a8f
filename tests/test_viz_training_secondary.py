"""Every trace of the live training charts against a history whose values are known functions of the step.

2500 steps (beyond MAX_POINTS) and more clipping events than MAX_EVENTS, so every series is
downsampled; a shifted index, a wrong series or a truncating downsample all change some value.
"""

from dataclasses import replace

import numpy as np
import pytest

from engine import Config, Snapshot, TrainingLog, run
from viz.downsample import MAX_POINTS
from viz.training import MAX_EVENTS, clip_chart, grad_heatmap, loss_curve, training_dashboard

STEPS, PER_SNAPSHOT, THETA, BASELINE = 2500, 500, 2.5, 0.3


def loss_at(step):
    return 1.0 / (1.0 + 0.01 * np.asarray(step, dtype=np.float64))


def before_at(step):
    return 2.0 + np.sin(0.37 * np.asarray(step, dtype=np.float64)) + 1e-6 * np.asarray(step)  # about 40 % of steps above THETA


def nearest(n: int, m: int) -> np.ndarray:
    if n <= m:
        return np.arange(n)
    return np.unique(np.floor(np.arange(m) * (n - 1) / (m - 1) + 0.5).astype(int))


def same(a, b):
    np.testing.assert_array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


@pytest.fixture(scope="module")
def log():
    """A TrainingLog fed snapshot by snapshot with a known history and one real trace per snapshot."""
    tr = run(Config(seq_len=12, hidden_size=3, batch_size=2, clip="norm", clip_threshold=THETA))
    out = TrainingLog()
    for k in range(STEPS // PER_SNAPSHOT):
        s = np.arange(k * PER_SNAPSHOT, (k + 1) * PER_SNAPSHOT)
        b = before_at(s)
        history = dict(step=s, loss=loss_at(s), grad_norm_before=b, grad_norm_after=np.minimum(b, THETA), clipped=b > THETA)
        out.add(Snapshot(step=int(s[0]), trace=replace(tr, grad_h=tr.grad_h * (k + 1)), history=history))
    return out


def test_history_really_needs_downsampling(log):
    clipped = np.nonzero(before_at(np.arange(STEPS)) > THETA)[0]
    assert STEPS > MAX_POINTS and len(clipped) > MAX_EVENTS


@pytest.mark.parametrize("builder", ["dashboard", "separate"])
def test_every_training_trace_is_its_series_at_the_right_steps(log, builder):
    if builder == "dashboard":
        figs = [training_dashboard(log, baseline=BASELINE, threshold=THETA)]
    else:
        figs = [loss_curve(log, baseline=BASELINE), clip_chart(log, threshold=THETA), grad_heatmap(log)]
    data = [d for f in figs for d in f.data]
    x = nearest(STEPS, MAX_POINTS)
    clipped = np.nonzero(before_at(np.arange(STEPS)) > THETA)[0]
    events = clipped[nearest(len(clipped), MAX_EVENTS)]
    lines = {
        "training loss": (x, loss_at(x)),
        "norm before clipping": (x, before_at(x)),
        "norm after clipping": (x, np.minimum(before_at(x), THETA)),
        f"clipped ({len(clipped)} steps)": (events, before_at(events)),  # where it clipped, at the norm BEFORE clipping
        f"trivial baseline {BASELINE:.3g}": ([0, STEPS - 1], [BASELINE, BASELINE]),
        f"threshold {THETA:g}": ([0, STEPS - 1], [THETA, THETA]),
    }
    seen = set()
    for d in data:
        if d.type == "heatmap":
            same(d.y, log.snapshot_steps)
            same(d.x, np.arange(12))
            np.testing.assert_array_equal(d.z, np.log10(log.grad_matrix()).astype(np.float32))
        else:
            want_x, want_y = lines[d.name]
            same(d.x, want_x)
            same(d.y, want_y)
        seen.add(d.name)
    assert seen == set(lines) | {"log10 ||dL/dh_t||"}, "every trace is checked"


def test_diverged_training_draws_a_line_at_the_last_step():
    cfg = Config(activation="linear", init="identity", recurrent_scale=1.5, seq_len=300, task="first", hidden_size=4, batch_size=2)
    tr = run(cfg)
    s = np.arange(37)
    history = dict(step=s, loss=loss_at(s), grad_norm_before=before_at(s), grad_norm_after=before_at(s), clipped=np.zeros(37, bool))
    log = TrainingLog()
    log.add(Snapshot(step=36, trace=tr, history=history, diverged=True))
    for fig, xref in ((loss_curve(log), "x"), (training_dashboard(log), "x")):
        lines = [sh for sh in fig.layout.shapes if sh.x0 == sh.x1 and sh.xref == xref]
        assert [sh.x0 for sh in lines] == [36]
        assert any("Training diverged at step 36." in a.text for a in fig.layout.annotations)
