"""Every trace of the live training charts against a history whose values are known functions of the step.

2500 steps (beyond the dashboard's MAX_POINTS and RUG_BINS), 250 snapshots of a 450-step sequence
(beyond HEAT_ROWS x HEAT_COLS), so every series is downsampled or pooled; a shifted index, a wrong
series, a truncating downsample or a wrong pooling all change some value.
"""

from dataclasses import replace

import numpy as np
import pytest

from engine import Config, Snapshot, TrainingLog, run
from viz.training import HEAT_COLS, HEAT_ROWS, HEAT_TITLE, MAX_POINTS, RUG_BINS, clip_chart, grad_heatmap, loss_curve, training_dashboard

STEPS, PER_SNAPSHOT, T, THETA, BASELINE = 2500, 10, 450, 2.5, 0.3


def loss_at(step):
    return 1.0 / (1.0 + 0.01 * np.asarray(step, dtype=np.float64))


def before_at(step):
    return 2.0 + np.sin(0.37 * np.asarray(step, dtype=np.float64)) + 1e-6 * np.asarray(step)  # about 40 % of steps above THETA


def scale_at(k):
    return 1.0 + (7 * k) % 11  # not monotone in the snapshot: the max of a block is not simply its first or last row


def nearest(n: int, m: int) -> np.ndarray:
    """The definition of even downsampling: for each of m evenly spaced positions over 0..n-1, the nearest step."""
    if n <= m:
        return np.arange(n)
    return np.unique(np.floor(np.arange(m) * (n - 1) / (m - 1) + 0.5).astype(int))


def block_max(m: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The definition of max pooling: blocks of ceil(n / max) rows and columns, the last ones possibly shorter."""
    fr, fc = -(-m.shape[0] // rows), -(-m.shape[1] // cols)
    return np.array([[m[r : r + fr, c : c + fc].max() for c in range(0, m.shape[1], fc)] for r in range(0, m.shape[0], fr)])


def same(a, b):
    np.testing.assert_array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


@pytest.fixture(scope="module")
def base():
    return run(Config(task="sine", seq_len=T, hidden_size=3, batch_size=2, clip="norm", clip_threshold=THETA))


@pytest.fixture(scope="module")
def log(base):
    """A TrainingLog fed snapshot by snapshot with a known history and one real trace per snapshot (grad_h scaled per snapshot)."""
    out = TrainingLog()
    for k in range(STEPS // PER_SNAPSHOT):
        s = np.arange(k * PER_SNAPSHOT, (k + 1) * PER_SNAPSHOT)
        b = before_at(s)
        history = dict(step=s, loss=loss_at(s), grad_norm_before=b, grad_norm_after=np.minimum(b, THETA), clipped=b > THETA)
        out.add(Snapshot(step=int(s[0]), trace=replace(base, grad_h=base.grad_h * scale_at(k)), history=history))
    return out


def test_history_really_needs_downsampling(log, base):
    assert STEPS > MAX_POINTS and STEPS > RUG_BINS and len(log) > HEAT_ROWS and T > HEAT_COLS
    assert np.all(np.isfinite(base.grad_h) & (base.grad_h > 0))  # every heatmap cell has a value to compare


def check_strip(bar):
    """The clipping strip: consecutive groups of nearly equal size covering every step, each bar the share clipped in it."""
    clipped = before_at(np.arange(STEPS)) > THETA
    first, last, share = (np.asarray(c, dtype=np.float64) for c in np.asarray(bar.customdata, dtype=np.float64).T)
    sizes = last - first + 1
    assert first[0] == 0 and last[-1] == STEPS - 1 and np.array_equal(first[1:], last[:-1] + 1)
    assert len(sizes) == min(RUG_BINS, STEPS) and sizes.max() - sizes.min() <= 1
    want = np.array([clipped[int(f) : int(g) + 1].mean() for f, g in zip(first, last)])
    same(share, want)
    same(bar.y, want)
    same(bar.x, (first + last) / 2)
    same(bar.width, sizes)
    assert bar.name == f"clipped ({int(clipped.sum())} of {STEPS} steps)"


@pytest.mark.parametrize("builder", ["dashboard", "separate"])
def test_every_training_trace_is_its_series_at_the_right_steps(log, base, builder):
    if builder == "dashboard":
        figs = [training_dashboard(log, baseline=BASELINE, threshold=THETA)]
    else:
        figs = [loss_curve(log, baseline=BASELINE), clip_chart(log, threshold=THETA), grad_heatmap(log)]
    data = [d for f in figs for d in f.data]
    x = nearest(STEPS, MAX_POINTS)
    lines = {
        "training loss": (x, loss_at(x)),
        "norm before clipping": (x, before_at(x)),
        "norm after clipping": (x, np.minimum(before_at(x), THETA)),
        f"trivial baseline {BASELINE:.3g}": ([0, STEPS - 1], [BASELINE, BASELINE]),
        f"threshold {THETA:g}": ([0, STEPS - 1], [THETA, THETA]),
    }
    rows = np.vstack([base.grad_h * scale_at(k) for k in range(len(log))])  # what each snapshot carried, rebuilt from the recipe
    seen = set()
    for d in data:
        if d.type == "heatmap":
            fr, fc = -(-len(log) // HEAT_ROWS), -(-T // HEAT_COLS)
            same(d.y, np.arange(0, STEPS, PER_SNAPSHOT)[::fr])  # the training step of each block's first snapshot
            same(d.x, np.arange(0, T, fc))
            np.testing.assert_array_equal(d.z, np.log10(block_max(rows, HEAT_ROWS, HEAT_COLS)).astype(np.float32))
        elif d.type == "bar":
            check_strip(d)
        else:
            want_x, want_y = lines[d.name]
            same(d.x, want_x)
            same(d.y, want_y)
        seen.add("strip" if d.type == "bar" else d.name)
    assert seen == set(lines) | {HEAT_TITLE, "strip"}, "every trace is checked"


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
