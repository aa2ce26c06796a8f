"""Every number a chart shows is true: the bound stays off the axis scale, overflow is said, the tabs agree on one factor."""

import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from engine import Config, run
from viz.bound import mean_slope
from viz.connectivity import connectivity_heatmap
from viz.gates import gate_curves, gate_heatmaps, gate_summary
from viz.gradients import BOUND, contrib_bars, decay_summary, grad_norm_curve
from viz.graph import cell_diagram, unrolled_graph
from viz.notes import overflow_short
from viz.theme import gate_label


def texts(fig) -> str:
    return " ".join(a.text.replace("<br>", " ") for a in fig.layout.annotations)


def by_name(fig, name):
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_bound_is_clipped_to_the_measured_axis_and_its_value_said(seed):
    tr = run(Config(activation="tanh", recurrent_scale=1.3, seq_len=200, hidden_size=32, batch_size=8, seed=seed))
    fig = grad_norm_curve(tr)
    lo, hi = fig.layout.yaxis.range
    measured = np.concatenate([tr.grad_h, tr.grad_h_band.ravel()])
    assert lo <= np.log10(measured.min()) and np.log10(measured.max()) <= hi <= np.log10(measured.max()) + 0.31
    assert tr.bound.max() > 10**hi * 1e6  # the bound would swamp the axis
    drawn = np.asarray(by_name(fig, BOUND).y, dtype=np.float64)
    assert np.all(drawn <= 10**hi * (1 + 1e-12)) and np.isclose(drawn.max(), 10**hi)
    x = np.asarray(by_name(fig, BOUND).x)
    inside = tr.bound[x] <= 10**hi
    assert np.array_equal(drawn[inside], tr.bound[x][inside])  # where it fits, the true value
    peak = int(np.argmax(tr.bound))
    mantissa_exp = f"{tr.bound[peak]:.0e}".replace("e+", "e")
    assert f"reaches {mantissa_exp} at t = {peak}" in texts(fig)
    # γσ_max = 1.3 > 1 but this run does not explode: the why is measured from the trace (mean tanh′ = 1 − h²)
    if tr.decay_factor <= 1.01:
        slope = float(np.mean(1 - tr.hidden**2))
        assert mean_slope(tr) == pytest.approx(slope)
        assert f"tanh′(a) = 1 − hₜ² averages {slope:.2f}" in decay_summary(tr)
        assert f"{slope:.2f} × σ_max = {slope * tr.sigma_max:.2f}" in decay_summary(tr)


def test_infinite_bound_is_explained_in_words():
    tr = run(Config(init="normal", seq_len=2000, hidden_size=16, batch_size=2, recurrent_scale=1.0))
    assert np.isinf(tr.bound).any()
    last = int(np.nonzero(np.isinf(tr.bound))[0].max())
    fig = grad_norm_curve(tr)
    assert f"Theory bound: infinite at t ≤ {last}" in texts(fig) and "float64's largest number" in texts(fig)
    assert "Infinity" not in fig.to_json()


@pytest.mark.parametrize("seed", [0, 1])
def test_contrib_beyond_float32_is_marked_and_axis_never_a_narrow_band(seed):
    tr = run(Config(activation="linear", recurrent_scale=1.3, seq_len=200, hidden_size=16, batch_size=4, seed=seed))
    c = tr.contrib
    beyond = np.isfinite(c) & (c > np.finfo(np.float32).max)
    assert beyond.any()
    fig = contrib_bars(tr)
    lo, hi = fig.layout.yaxis.range
    assert hi - lo >= 2
    bar = fig.data[0]
    colors = np.asarray(bar.marker.color)
    assert np.array_equal(colors == "#b91c1c", beyond[np.asarray(bar.x)])
    words = texts(fig)
    assert f"{int(beyond.sum())} of 200 values of the term" in words and "exceed float32's largest number" in words
    nonfinite = int((~np.isfinite(c)).sum())
    if nonfinite:
        assert f"{nonfinite} of 200 values of the term are non-finite" in words


def test_inf_contrib_without_hidden_overflow_is_said():
    cfg = Config(activation="linear", task="first", init="identity", recurrent_scale=2.0, seq_len=33, hidden_size=2, batch_size=16)
    tr = run(cfg)
    bad = int((~np.isfinite(tr.contrib)).sum()) + int((tr.contrib > np.finfo(np.float32).max).sum())
    assert bad  # the case
    assert "of 33 values of the term" in texts(contrib_bars(tr))


def test_nearly_constant_data_span_two_decades():
    tr = run(Config(cell="lstm", seq_len=30, hidden_size=8, batch_size=4))
    flat = replace(tr, grad_h=np.full(30, 0.5) * (1 + 1e-7 * np.arange(30)), grad_c=None, grad_h_band=np.full((30, 2), 0.5))
    lo, hi = grad_norm_curve(flat).layout.yaxis.range
    assert hi - lo == pytest.approx(2.0) and lo < np.log10(0.5) < hi
    assert grad_norm_curve(flat).layout.yaxis.dtick == 1  # decades only


FACTOR = re.compile(r"‖∂L/∂hₜ‖(?: of the last step's loss alone)? changes ×([0-9.e-]+) per step back in time")


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("kw", [dict(cell="lstm", forget_bias=0.0), dict(cell="lstm", forget_bias=1.0), dict(cell="gru"), dict(cell="rnn")])
def test_gates_and_gradient_tabs_state_the_same_factor(kw, seed):
    tr = run(Config(seq_len=50, hidden_size=16, batch_size=4, seed=seed, **kw))
    gates, grads = FACTOR.findall(gate_summary(tr)), FACTOR.findall(decay_summary(tr))
    assert gates == grads == [f"{tr.decay_factor:.2f}"]
    if kw["cell"] == "lstm":
        assert f"alone keeps f = {tr.gates['f'].mean():.2f} per step" in gate_summary(tr)


def gateless(cell: str):
    """A trace as a gate-less cell (IndRNN, LRU) would leave it: no gates, maybe no saturation."""
    tr = run(Config(seq_len=50, hidden_size=6, batch_size=2))
    cfg = SimpleNamespace(**{**tr.config.to_dict(), "cell": cell}, tbptt=None)
    return replace(tr, config=cfg, gates={}, saturation={} if cell == "lru" else tr.saturation, gamma=None, bound=None)


@pytest.mark.parametrize("cell", ["indrnn", "lru"])
def test_gateless_cells_fall_back_to_the_hidden_state(cell):
    tr = gateless(cell)
    (heat,) = [d for d in gate_heatmaps(tr).data if d.type == "heatmap"]
    assert np.array_equal(np.asarray(heat.z), tr.hidden.T.astype(np.float32))
    curves = gate_curves(tr)
    assert np.allclose(curves.data[0].y, tr.hidden.mean(axis=1))
    assert len(curves.data) == (1 if cell == "lru" else 2)
    assert "changes ×" in gate_summary(tr)
    assert cell in texts(cell_diagram(tr, 3)) or cell.upper() in cell_diagram(tr, 3).layout.title.text
    for fig in (grad_norm_curve(tr), contrib_bars(tr), unrolled_graph(tr), connectivity_heatmap(tr)):
        assert fig.to_json()


def test_every_builder_says_beyond_range_and_non_finite_values_in_words():
    tr = run(Config(activation="linear", recurrent_scale=1.3, seq_len=200, hidden_size=16, batch_size=4), connectivity=True)
    top = np.finfo(np.float32).max
    beyond, bad = np.isfinite(tr.grad_h) & (tr.grad_h > top), ~np.isfinite(tr.grad_h)
    assert beyond.any() and bad.any()
    fig = grad_norm_curve(tr)
    words = texts(fig)
    assert f"‖∂L/∂hₜ‖ non-finite at t ≤ {tr.overflow_grad_step}" in words  # where, said once (the overflow mark)
    assert f"{int(bad.sum())} of 200 values of ‖∂L/∂hₜ‖ are non-finite" not in words
    assert f"{int(beyond.sum())} of 200 values of ‖∂L/∂hₜ‖" in words and "exceed float32's largest number" in words
    rings = by_name(fig, "beyond the dtype's range")
    assert np.array_equal(np.asarray(rings.x), np.nonzero(beyond)[0]) and np.array_equal(rings.y, tr.grad_h[beyond])
    valid = np.arange(200)[None, :] <= tr.conn_rows[:, None]
    n_bad = int((~np.isfinite(tr.conn_x))[valid].sum())
    assert n_bad and f"red cells: non-finite (overflow), {n_bad} of them" in texts(connectivity_heatmap(tr))
    big = replace(tr, conn_x=np.where(np.isfinite(tr.conn_x), tr.conn_x, 1e40))  # finite in float64, beyond float32
    assert f"{n_bad} of {int(valid.sum())} values of ‖∂loss_t/∂x_k‖ (up to 1e40) exceed float32's" in texts(connectivity_heatmap(big))
    for fig in (gate_heatmaps(tr), gate_curves(tr), unrolled_graph(tr), contrib_bars(tr)):
        assert overflow_short(tr) in texts(fig).replace("<b>", "").replace("</b>", "")
    calm = run(Config(cell="lstm", seq_len=50, hidden_size=4, batch_size=2))
    assert not calm.nonfinite
    h = calm.hidden.copy()
    h[-3:] = np.inf  # the engine names a non-finite hidden state in its message: every view must show it
    loud = replace(calm, hidden=h)
    assert "the hidden state (first sequence) is infinite" in loud.overflow_message() and "time steps 47-49" in loud.overflow_message()
    for fig in (gate_heatmaps(loud), gate_curves(loud)):
        assert overflow_short(loud) in texts(fig) and "the hidden state (first sequence) is infinite" in overflow_short(loud)
    f = calm.gates["f"].copy()
    f[-3:] = np.nan  # gates are not among the engine's records: the message stays silent, the view must speak
    silent = replace(calm, gates={**calm.gates, "f": f})
    assert not silent.nonfinite and silent.overflow_message() is None
    for fig in (gate_heatmaps(silent), gate_curves(silent)):
        assert f"{3 * f.shape[1]} of {f.size} values of {gate_label('f')} are non-finite" in texts(fig)
