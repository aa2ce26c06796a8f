"""Gate views show exactly what the engine recorded: the same numbers, fixed colour ranges, honest gaps."""

from dataclasses import replace

import numpy as np
import pytest

from engine import Config, run
from viz.gates import gate_curves, gate_heatmaps, gate_summary
from viz.theme import GATE_NAMES


@pytest.fixture(scope="module")
def traces():
    small = dict(seq_len=6, hidden_size=3, batch_size=2, seed=1)
    return {
        "lstm": run(Config(cell="lstm", task="copy", **small)),
        "gru": run(Config(cell="gru", **small)),
        "tanh": run(Config(cell="rnn", recurrent_scale=3.0, **small)),
        "relu": run(Config(cell="rnn", activation="relu", **small)),
        "sigmoid": run(Config(cell="rnn", activation="sigmoid", **small)),
        "overflow": run(Config(cell="rnn", activation="linear", recurrent_scale=5.0, seq_len=80, hidden_size=4, batch_size=2)),
    }


def _heatmaps(fig):
    return [d for d in fig.data if d.type == "heatmap"]


def _titles(fig):
    return [a.text for a in fig.layout.annotations]


@pytest.mark.parametrize("cell, names, tanh", [("lstm", "ifgo", "g"), ("gru", "rzn", "n")])
def test_gated_heatmaps_show_each_gate_transposed_on_fixed_ranges(traces, cell, names, tanh):
    tr = traces[cell]
    fig = gate_heatmaps(tr)
    maps = _heatmaps(fig)
    assert [m.name for m in maps] == [GATE_NAMES[n] for n in names]
    assert _titles(fig)[: len(names)] == [GATE_NAMES[n] for n in names]
    for name, m in zip(names, maps, strict=True):
        assert np.array_equal(np.asarray(m.z), tr.gates[name].T.astype(np.float32))  # sent as float32  # rows = units, columns = time steps
        assert np.array_equal(m.x, np.arange(6)) and np.array_equal(m.y, np.arange(3))
        axis = fig.layout[m.coloraxis]
        assert (axis.cmin, axis.cmax) == ((-1.0, 1.0) if name == tanh else (0.0, 1.0))
        assert GATE_NAMES[name] in m.hovertemplate and "step" in m.hovertemplate and "unit" in m.hovertemplate
    assert fig.layout.xaxis.title.text is None and fig.layout[f"xaxis{len(names)}"].title.text == "time step t"


@pytest.mark.parametrize("act, rng", [("tanh", (-1.0, 1.0)), ("sigmoid", (0.0, 1.0)), ("relu", None)])
def test_rnn_heatmap_shows_hidden_state_with_range_by_activation(traces, act, rng):
    tr = traces[act]
    (m,) = _heatmaps(gate_heatmaps(tr))
    assert np.array_equal(np.asarray(m.z), tr.hidden.T.astype(np.float32))
    fig = gate_heatmaps(tr)
    axis = fig.layout.coloraxis
    expected = rng or (tr.hidden.min(), tr.hidden.max())
    assert (axis.cmin, axis.cmax) == pytest.approx(expected)
    assert act in _titles(fig)[0]


def test_large_heatmaps_are_picked_down_to_400_cells_with_exact_values(traces):
    rng = np.random.default_rng(0)
    big = replace(traces["tanh"], hidden=rng.standard_normal((2000, 1024)))
    fig = gate_heatmaps(big)
    (m,) = _heatmaps(fig)
    z, x, y = np.asarray(m.z), np.asarray(m.x), np.asarray(m.y)
    assert z.shape == (len(y), len(x)) and len(x) <= 400 and len(y) <= 400
    assert x[0] == 0 and x[-1] == 1999 and y[-1] == 1023
    assert np.array_equal(z, big.hidden[np.ix_(x, y)].T.astype(np.float32))
    assert "showing 400 of 2000 steps" in fig.layout.title.text


def test_curves_show_unit_means_and_saturation_in_percent(traces):
    tr = traces["lstm"]
    fig = gate_curves(tr)
    by_name = {d.name: d for d in fig.data}
    for name in "ifgo":
        assert np.allclose(by_name[GATE_NAMES[name]].y, tr.gates[name].mean(axis=1))
        assert np.array_equal(by_name[f"{GATE_NAMES[name]}: % flat"].y, tr.saturation[name] * 100)
    assert tuple(fig.layout.yaxis2.range) == (0, 100)
    assert "little gradient passes" in _titles(fig)[1]


@pytest.mark.parametrize("act, words", [("tanh", "saturated tanh"), ("relu", "dead ReLU"), ("sigmoid", "saturated sigmoid")])
def test_rnn_curves_explain_the_flat_part_of_the_activation(traces, act, words):
    tr = traces[act]
    fig = gate_curves(tr)
    assert words in _titles(fig)[1]
    assert np.array_equal(fig.data[1].y, tr.saturation["h"] * 100)
    assert np.allclose(fig.data[0].y, tr.hidden.mean(axis=1))


def test_overflow_shows_gaps_and_says_why(traces):
    tr = traces["overflow"]
    assert tr.overflow_step is not None
    for fig in (gate_heatmaps(tr), gate_curves(tr)):
        notes = " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")
        assert "Blank = non-finite (overflow)" in notes and f"hₜ non-finite from t = {tr.overflow_step} on" in notes
    z = np.asarray(_heatmaps(gate_heatmaps(tr))[0].z)
    assert not np.isinf(z).any() and np.isnan(z[:, tr.overflow_step + 1 :]).all()
    assert np.isfinite(z[:, : tr.overflow_step - 1]).all()


def test_summary_states_the_numbers(traces):
    lstm, gru = traces["lstm"], traces["gru"]
    assert f"The cell path cₜ₋₁ → cₜ alone keeps f = {lstm.gates['f'].mean():.2f} per step" in gate_summary(lstm)
    assert f"The direct path hₜ₋₁ → hₜ alone keeps z = {gru.gates['z'].mean():.2f} per step" in gate_summary(gru)
    dead = traces["relu"].saturation["h"].mean() * 100
    assert gate_summary(traces["relu"]).startswith(f"{dead:.0f} % of units dead on average (a < 0): no gradient passes through them.")
    assert "% of units saturated on average (tanh′(a) < 0.1)" in gate_summary(traces["tanh"])
    assert "never saturates" in gate_summary(traces["overflow"])


def test_single_step_single_unit():
    tr = run(Config(cell="lstm", task="first", seq_len=1, hidden_size=1, batch_size=1))
    assert [np.asarray(m.z).shape for m in _heatmaps(gate_heatmaps(tr))] == [(1, 1)] * 4
    assert len(gate_curves(tr).data) == 8
    assert "alone keeps f =" in gate_summary(tr) and "No factor per step (fitted)" in gate_summary(tr)
