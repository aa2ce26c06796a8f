"""Every trace of the gradient, graph, gate and connectivity figures, on sizes where downsampling happens.

Oracles: downsampling picks the *nearest* step to evenly spaced positions; loss steps come from
the task definition; overflow steps from the closed form of a linear RNN with W_hh = 1.5 I.
"""

from dataclasses import replace

import numpy as np
import pytest
from definitions import definition_loss_steps

from engine import Config, run
from viz.connectivity import connectivity_heatmap
from viz.downsample import MAX_CELLS, MAX_POINTS, pick_indices
from viz.gates import gate_curves, gate_heatmaps
from viz.gradients import contrib_bars, grad_norm_curve
from viz.graph import cell_diagram, unrolled_graph
from viz.marks import OVERFLOW_LINE


def nearest(n: int, m: int) -> np.ndarray:
    """The definition of even downsampling: for each of m evenly spaced positions over 0..n-1, the nearest step."""
    if n <= m:
        return np.arange(n)
    pos = np.arange(m) * (n - 1) / (m - 1)
    return np.unique(np.floor(pos + 0.5).astype(int))


def on_log_axis(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def same(a, b):
    np.testing.assert_array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


@pytest.mark.parametrize("n,m", [(2001, 2000), (2999, 2000), (3000, 2000), (4567, 2000), (5000, 500), (7, 4), (10, 4)])
def test_pick_indices_rounds_to_the_nearest_step(n, m):
    idx = pick_indices(n, m)
    np.testing.assert_array_equal(idx, nearest(n, m))
    assert np.all(np.abs(idx - np.arange(m) * (n - 1) / (m - 1)) <= 0.5)


@pytest.fixture(scope="module")
def long_trace():
    """A real sine trace stretched to T = 3000 steps (beyond MAX_POINTS) with distinct values at every step."""
    tr = run(Config(task="sine", seq_len=20, hidden_size=3, batch_size=2, truncation=5))
    T = 3000
    t = np.arange(T, dtype=np.float64)
    return replace(
        tr,
        grad_h=1.0 + t,
        grad_h_band=np.stack([0.5 + t, 2.0 + t], axis=1),
        grad_h_last=3.0 + t,
        grad_c=4.0 + t,
        bound=5.0 + t,
        contrib=6.0 + t,
        loss_steps=np.arange(0, T, 7),  # one step in seven carries a loss: markers drawn, downsampled to 100
    )


def test_grad_norm_curve_every_trace_is_its_series_at_the_nearest_steps(long_trace):
    tr, T = long_trace, 3000
    x = nearest(T, MAX_POINTS)
    series = {
        "10th percentile": tr.grad_h_band[:, 0],
        "10–90 % of the batch": tr.grad_h_band[:, 1],
        "‖∂L/∂hₜ‖ (batch mean)": tr.grad_h,
        "‖∂L/∂cₜ‖ (cell state)": tr.grad_c,
        "‖∂loss_{T−1}/∂hₜ‖ (the last step's loss alone)": tr.grad_h_last,
        "bound (γ·σ_max)^(s−t)": tr.bound,
    }
    fig = grad_norm_curve(tr)
    assert {d.name for d in fig.data} == set(series) | {"step with a loss"}
    for d in fig.data:
        if d.name in series:
            same(d.x, x)
            same(d.y, series[d.name][x])
    (marks,) = [d for d in fig.data if d.name == "step with a loss"]
    steps = tr.loss_steps[nearest(len(tr.loss_steps), 100)]
    same(marks.x, steps)
    same(marks.y, tr.grad_h[steps])


@pytest.mark.parametrize("task", ["adding", "first"])
def test_loss_markers_sit_on_the_defined_loss_step(task):
    cfg = Config(task=task, seq_len=50, hidden_size=4, batch_size=2)
    tr = run(cfg)
    (marks,) = [d for d in grad_norm_curve(tr).data if d.name == "step with a loss"]
    want = definition_loss_steps(task, 50)
    same(marks.x, want)
    same(marks.y, tr.grad_h[want])


def test_contrib_bars_are_the_terms_at_the_nearest_steps(long_trace):
    x = nearest(3000, MAX_POINTS)
    for log in (True, False):
        (bars,) = contrib_bars(long_trace, log=log).data
        same(bars.x, x)
        same(bars.y, long_trace.contrib[x])


@pytest.fixture(scope="module")
def overflow_trace():
    return run(Config(activation="linear", init="identity", recurrent_scale=1.5, seq_len=300, task="first", hidden_size=8, batch_size=4))


@pytest.mark.parametrize("build", [grad_norm_curve, contrib_bars])
def test_overflow_lines_mark_the_forward_and_the_backward_overflow(overflow_trace, build):
    tr = overflow_trace
    limit = np.log(np.finfo(np.float32).max) / np.log(1.5)  # |h_t| ~ 1.5^t passes float32's largest value here
    assert limit - 15 < tr.overflow_step < limit + 15 and tr.overflow_grad_step == 299  # NaN from the loss back
    fig = build(tr)
    red = [s for s in fig.layout.shapes if s.line.width == 2 and s.x0 == s.x1]
    assert sorted(s.x0 for s in red) == sorted([tr.overflow_step, tr.overflow_grad_step])
    labels = {a.x: (a.text, a.xanchor) for a in fig.layout.annotations if a.name == OVERFLOW_LINE}
    # level, each on its line's non-finite side: h from the forward overflow on (right), the gradient from there back (left)
    assert labels == {tr.overflow_step: ("hₜ non-finite →", "left"), tr.overflow_grad_step: ("← gradient non-finite", "right")}
    assert not [a for a in fig.layout.annotations if a.textangle not in (None, 0)]


def test_unrolled_graph_hover_gives_each_steps_own_gradient_when_t_exceeds_40():
    T = 120
    tr = run(Config(cell="gru", task="copy", seq_len=T, hidden_size=4, batch_size=2, recurrent_scale=1.3))
    tr = replace(tr, grad_h=tr.grad_h * (1 + np.arange(T)))  # distinct at every step, so a shifted index shows
    fig = unrolled_graph(tr)
    shown = np.arange(T - 40, T)
    (back,) = [d for d in fig.data if d.name == "backward (BPTT)"]
    steps = [row[0] for row in back.customdata]
    assert steps == [t for t in shown if t > 0] and [row[1] for row in back.customdata] == [t - 1 for t in steps]
    same(np.asarray(back.x) + 0.8, steps)
    assert [float(row[2]) for row in back.customdata] == [tr.grad_h[t] for t in steps]
    nodes = [d for d in fig.data if d.name and d.name.startswith("hₜ")]
    hovered = {int(row[0]): float(row[1]) for d in nodes for row in d.customdata}
    assert hovered == {int(t): tr.grad_h[t] for t in shown}
    for d in nodes:
        same(d.x, [row[0] for row in d.customdata])
    (losses,) = [d for d in fig.data if d.name == "output yₜ with a loss"]
    same(losses.x, shown)  # copy: a loss at every step


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_cell_diagram_shows_the_values_of_its_step_in_a_long_sequence(cell):
    T, step = 60, 47
    tr = run(Config(cell=cell, task="adding", seq_len=T, hidden_size=3, batch_size=2, recurrent_scale=1.2))
    texts = [a.text for a in cell_diagram(tr, step).layout.annotations]
    assert f"‖∂L/∂h<sub>t</sub>‖ = {tr.grad_h[step]:.4g}" in texts
    if cell == "lstm":
        assert f"‖∂L/∂c<sub>t</sub>‖ = {tr.grad_c[step]:.4g}" in texts
        for name, values in tr.gates.items():
            assert f"<b>{name}</b><br>{values[step].mean():.3f}" in texts
    else:
        assert any(t.endswith(f": {tr.saturation['h'][step] * 100:.0f} % of units") for t in texts)
    assert ("a loss sits at this step" in texts) == (step in definition_loss_steps("adding", T))
    assert "a loss sits at this step" in [a.text for a in cell_diagram(tr, T - 1).layout.annotations]


def test_gate_views_show_each_gate_at_the_nearest_steps_when_t_exceeds_400():
    T = 450
    tr = run(Config(cell="lstm", task="sine", seq_len=T, hidden_size=3, batch_size=1))
    x = nearest(T, MAX_CELLS)
    heat = gate_heatmaps(tr)
    assert [d.name for d in heat.data] == ["input gate i", "forget gate f", "candidate g", "output gate o"]
    for d, values in zip(heat.data, tr.gates.values()):
        same(d.x, x)
        same(d.y, np.arange(3))
        np.testing.assert_array_equal(d.z, values[x].T.astype(np.float32))
    curves = gate_curves(tr)
    for name, values in tr.gates.items():
        (mean,) = [d for d in curves.data if d.legendgroup == name and d.line.dash != "dot"]
        (flat,) = [d for d in curves.data if d.legendgroup == name and d.line.dash == "dot"]
        same(mean.x, np.arange(T))
        np.testing.assert_allclose(mean.y, values.mean(axis=1), rtol=1e-12)
        np.testing.assert_allclose(flat.y, tr.saturation[name] * 100, rtol=1e-12)
    assert len(curves.data) == 2 * len(tr.gates)


def test_connectivity_heatmap_pools_by_the_maximum_of_each_block():
    T = 900  # 3 x 3 blocks: 300 x 300 cells
    rng = np.random.default_rng(0)
    conn = np.exp(rng.normal(size=(T, T)))
    tr = replace(run(Config(seq_len=5, hidden_size=2, batch_size=1)), conn_x=conn, conn_rows=np.arange(T))
    (heat,) = connectivity_heatmap(tr, "x").data
    same(heat.x, np.arange(0, T, 3))
    same(heat.y, np.arange(0, T, 3))
    causal = np.where(np.arange(T)[None, :] <= np.arange(T)[:, None], conn, 0.0)  # k <= t only
    block_max = causal.reshape(300, 3, 300, 3).max(axis=(1, 3))
    with np.errstate(divide="ignore"):
        want = np.log10(block_max).astype(np.float32)
    want[np.triu(np.ones((300, 300), bool), k=1)] = np.nan  # blocks wholly above the diagonal stay empty
    np.testing.assert_array_equal(np.asarray(heat.z, dtype=np.float32), want)
