"""The unrolled graph and the cell diagram draw the engine's measured numbers, truncation and overflow honestly."""

import numpy as np
import pytest
from plotly.colors import sample_colorscale

from engine import Config, run
from viz.graph import MAX_W, MIN_W, ZERO, cell_diagram, flow, unrolled_graph
from viz.notes import overflow_short, sci
from viz.theme import COLORS, SEQUENTIAL
from viz.truncation import block_ends, blocks, horizon_span

SMALL = dict(hidden_size=3, batch_size=2, seed=2)


def _backward(fig):
    """{t: line} of the backward arrows h_t -> h_{t-1}."""
    return {int(s.name.split("=")[1]): s.line for s in fig.layout.shapes if s.name.startswith("backward")}


class Recorded:
    """A record with only what viz.truncation reads: T steps, the blocks the engine used and the loss steps."""

    def __init__(self, T, tbptt, loss_steps=None):
        k1, k2 = tbptt or (0, 0)
        self.config = Config(task="first", seq_len=T, k1=k1, k2=k2)
        self.grad_h = np.ones(T)
        self.blocks = np.asarray(self.config.truncation_blocks())
        self.loss_steps = np.arange(T) if loss_steps is None else loss_steps


def _cuts(fig):
    return [s for s in fig.layout.shapes if s.name.startswith("truncation")]


def _h_nodes(fig):
    return [d for d in fig.data if d.name and d.name.startswith("hₜ")]


@pytest.mark.parametrize("T, k1, k2", [(1, 1, 1), (10, 3, 3), (20, 5, 5), (17, 2, 6), (9, 9, 9), (12, 1, 4)])
def test_blocks_are_the_ones_the_engine_recorded(T, k1, k2):
    cfg = Config(task="first", seq_len=T, k1=k1, k2=k2, hidden_size=3, batch_size=2)
    tr = run(cfg)
    assert blocks(tr) == [tuple(b) for b in cfg.truncation_blocks()]
    assert blocks(run(cfg.replace(k1=0, k2=0))) == [(T - 1, 0, 0)]
    assert horizon_span(tr) == T - cfg.truncation_blocks()[0][1]
    assert block_ends(tr) == list(range(k1 - 1, T - 1, k1))


def test_arrow_width_and_colour_grow_with_the_gradient():
    tr = run(Config(cell="rnn", seq_len=25, recurrent_scale=0.8, **SMALL))
    fig = unrolled_graph(tr)
    lines = _backward(fig)
    assert sorted(lines) == list(range(1, 25))
    g = tr.grad_h[1:]
    assert np.ptp(np.log10(g)) > 1  # a real spread to order
    order = np.argsort(g)
    widths = np.array([lines[t].width for t in range(1, 25)])
    assert np.all(np.diff(widths[order]) >= 0)
    lg = np.log10(tr.grad_h)  # widths are linear in log10 ||dL/dh_t|| over the steps on screen
    assert np.allclose(widths, MIN_W + (MAX_W - MIN_W) * (lg[1:] - lg.min()) / np.ptp(lg))
    assert widths.max() <= MAX_W and widths.min() >= MIN_W
    (nodes,) = _h_nodes(fig)
    marker = nodes.marker
    assert marker.colorbar.title.text == "log₁₀ ‖∂L/∂hₜ‖"
    assert np.allclose(marker.color, np.log10(tr.grad_h))
    for t in range(1, 25):  # arrows use the colour bar's own scale
        frac = (np.log10(tr.grad_h[t]) - marker.cmin) / (marker.cmax - marker.cmin)
        assert lines[t].color == sample_colorscale(SEQUENTIAL, [frac])[0]
        assert lines[t].dash == "solid"


def test_hover_on_a_node_gives_the_exact_gradient():
    tr = run(Config(cell="lstm", seq_len=5, **SMALL))
    (nodes,) = _h_nodes(unrolled_graph(tr))
    assert [row[0] for row in nodes.customdata] == list(range(5))
    assert [row[1] for row in nodes.customdata] == [str(v) for v in tr.grad_h]
    assert float(nodes.customdata[3][1]) == tr.grad_h[3]
    assert "‖∂L/∂hₜ‖ = %{customdata[1]}" in nodes.hovertemplate


@pytest.mark.parametrize("kw", [dict(truncation=3), dict(truncation=5), dict(truncation=8), dict(k1=4, k2=6)])
def test_truncation_line_sits_where_the_measured_gradient_stops(kw):
    tr = run(Config(cell="rnn", task="adding", seq_len=20, **kw, **SMALL))
    horizon = int(np.argmax(tr.grad_h > 0))  # the engine is the oracle: zero below this step, non-zero from it on
    assert horizon > 0 and np.all(tr.grad_h[:horizon] == 0) and np.all(tr.grad_h[horizon:] > 0)
    fig = unrolled_graph(tr)
    (line,) = _cuts(fig)
    assert line.x0 == line.x1 == horizon - 0.5 and line.line.dash == "dash"
    assert any(a.text == "truncation: gradient stops here" and a.x == horizon - 0.5 for a in fig.layout.annotations)
    lines = _backward(fig)
    assert all(lines[t].color == ZERO and lines[t].dash == "dash" for t in range(1, horizon + 1))  # nothing crosses
    assert all(lines[t].dash == "solid" for t in range(horizon + 1, 20))


def test_no_truncation_no_line_and_many_to_many_blocks():
    full = unrolled_graph(run(Config(cell="gru", task="sine", seq_len=10, **SMALL)))
    assert _cuts(full) == [] and not any("truncation" in a.text for a in full.layout.annotations)
    tr = run(Config(cell="rnn", task="sine", seq_len=10, truncation=3, **SMALL))
    assert sorted(s.x0 for s in _cuts(unrolled_graph(tr))) == [2.5, 5.5, 8.5]  # blocks start at 0, 3, 6 and 9
    assert flow(Recorded(10, (3, 3)))[1] == [3, 6, 9]
    assert flow(Recorded(10, (2, 4)))[1] == []  # k2 > k1: some block always carries the gradient on


def test_overflow_is_drawn_in_its_colour_with_the_message():
    tr = run(Config(cell="rnn", activation="linear", recurrent_scale=5.0, seq_len=80, hidden_size=4, batch_size=2))
    fig = unrolled_graph(tr)
    notes = " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")
    assert overflow_short(tr) in notes
    assert all(line.color == COLORS["overflow"] for line in _backward(fig).values())
    assert any(d.name == "hₜ: non-finite gradient (overflow)" for d in fig.data)
    fig.to_json()  # serialises: no NaN/inf tokens that break the browser
    cell = cell_diagram(tr, 79)
    texts = [a.text.replace("<br>", " ") for a in cell.layout.annotations]
    assert "‖∂L/∂h<sub>t</sub>‖ = nan" in texts and overflow_short(tr) in texts


def test_long_sequences_show_the_last_steps_and_cap_the_shapes():
    tr = run(Config(cell="rnn", seq_len=2000, hidden_size=2, batch_size=1, truncation=1, task="sine"))
    fig = unrolled_graph(tr, max_steps=40)
    nodes = [x for d in _h_nodes(fig) for x in d.x]
    assert sorted(nodes) == list(range(1960, 2000))
    assert len(fig.layout.shapes) <= 80 and len(_backward(fig)) == 40 and len(_cuts(fig)) == 40
    assert len(fig.layout.annotations) <= 10
    assert "showing the last 40 of 2000 steps" in fig.layout.title.text
    assert any(d.name == "earlier steps" and d.hovertext == ("1960 earlier steps not drawn",) for d in fig.data)


def test_one_step():
    tr = run(Config(cell="lstm", task="first", seq_len=1, hidden_size=1, batch_size=1))
    fig = unrolled_graph(tr)
    assert _backward(fig) == {} and [list(d.x) for d in _h_nodes(fig)] == [[0]]
    assert len(cell_diagram(tr, 0).layout.shapes) == len(cell_diagram(run(Config(cell="lstm", seq_len=60)), 59).layout.shapes)


def _box_texts(fig):
    return {s.name: s for s in fig.layout.shapes if s.name and s.name.startswith("gate")}, [a.text for a in fig.layout.annotations]


@pytest.mark.parametrize("cell, names", [("lstm", "ifgo"), ("gru", "rzn")])
def test_cell_diagram_writes_the_gate_values_at_the_step(cell, names):
    tr = run(Config(cell=cell, seq_len=7, **SMALL))
    fig = cell_diagram(tr, 4)
    boxes, texts = _box_texts(fig)
    assert sorted(boxes) == sorted(f"gate {n}" for n in names)
    for n in names:
        assert f"<b>{n}</b><br>{tr.gates[n][4].mean():.3f}" in texts
    assert f"‖∂L/∂h<sub>t</sub>‖ = {tr.grad_h[4]:.4g}" in texts
    assert any("∂L/∂c" in t for t in texts) == (cell == "lstm")
    if cell == "lstm":
        assert f"‖∂L/∂c<sub>t</sub>‖ = {tr.grad_c[4]:.4g}" in texts
    assert fig.layout.title.text.startswith(f"<b>{cell.upper()} cell at time step t = 4")


def test_rnn_cell_shows_saturation_share_and_gradient():
    tr = run(Config(cell="rnn", activation="relu", seq_len=6, **SMALL))
    _, texts = _box_texts(cell_diagram(tr, 5))
    assert f"<b>relu</b><br>dead: {tr.saturation['h'][5] * 100:.0f} % of units" in texts
    assert f"‖∂L/∂h<sub>t</sub>‖ = {tr.grad_h[5]:.4g}" in texts and "a loss sits at this step" in texts


@pytest.mark.parametrize("step", [-1, 6, 2.0, True, None])
def test_cell_diagram_rejects_steps_outside_the_sequence(step):
    tr = run(Config(cell="gru", seq_len=6, **SMALL))
    with pytest.raises(ValueError, match="step must be an integer from 0 to 5"):
        cell_diagram(tr, step)


def test_a_long_run_says_which_window_it_draws_and_that_colours_span_it_only():
    """T = 300, 40 steps drawn: the note names steps 260-299, their own extremes and those of all 300 steps (the engine's)."""
    tr = run(Config(cell="rnn", recurrent_scale=0.9, seq_len=300, hidden_size=4, batch_size=2))
    fig = unrolled_graph(tr)
    g = np.asarray(tr.grad_h, dtype=np.float64)
    notes = " ".join(a.text.replace("<br>", " ") for a in fig.layout.annotations)
    assert "Shown: steps 260–299, the last 40 of 300. Colours and widths span these steps only" in notes
    w = g[260:]
    lo, hi = 260 + int(np.argmin(w)), 260 + int(np.argmax(w))
    assert f"from {sci(w.min())} (t = {lo}) to {sci(w.max())} (t = {hi}); over all 300 steps" in notes
    assert f"over all 300 steps it runs from {sci(g.min())} (t = {int(np.argmin(g))}) to {sci(g.max())}" in notes
    (nodes,) = [d for d in fig.data if d.name == "hₜ: ‖∂L/∂hₜ‖"]
    assert nodes.marker.colorbar.title.text == "log₁₀ ‖∂L/∂hₜ‖<br>steps 260–299"
    assert nodes.marker.cmin == pytest.approx(np.log10(w.min())) and nodes.marker.cmax == pytest.approx(np.log10(w.max()))
    short = unrolled_graph(run(Config(cell="rnn", seq_len=30, hidden_size=4, batch_size=2)))
    assert not [a for a in short.layout.annotations if "Shown: steps" in a.text]
