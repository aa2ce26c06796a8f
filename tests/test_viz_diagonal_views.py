"""Every view names what a diagonal cell (IndRNN, LRU) really has: u or λ, its φ or none, and each unit's factor at a step."""

import re

import numpy as np
import pytest

from engine import Config, run
from viz.bound import mean_slope, why_no_explosion
from viz.connectivity import connectivity_heatmap
from viz.decay import decay_summary_text, num, unit_decay_figure
from viz.gates import FLAT_NONE, FLAT_TEXT, gate_curves, gate_heatmaps, gate_summary
from viz.gradients import contrib_bars, grad_norm_curve
from viz.graph import cell_diagram, unrolled_graph

SMALL = dict(seq_len=12, hidden_size=5, batch_size=3, seed=4, dtype="float64")


@pytest.fixture(scope="module")
def traces():
    return {
        "ind_tanh": run(Config(cell="indrnn", recurrent_scale=1.5, **SMALL), connectivity=True),
        "ind_relu": run(Config(cell="indrnn", activation="relu", init="normal", **SMALL)),
        "ind_lin": run(Config(cell="indrnn", activation="linear", init="normal", **SMALL)),
        "lru": run(Config(cell="lru", **SMALL), connectivity=True),
        "lru_trunc": run(Config(cell="lru", task="sine", truncation=4, **SMALL), connectivity=True),
        "ind_overflow": run(Config(cell="indrnn", activation="linear", init="identity", recurrent_scale=6.0, seq_len=60, hidden_size=3)),
    }


def _notes(fig) -> str:
    return " ".join(a.text for a in fig.layout.annotations)


def _factor_line(fig) -> str:
    return re.sub("<[^>]+>", "", [a.text for a in fig.layout.annotations if "gradient factor one step back" in a.text][0])


@pytest.mark.parametrize("name", ["ind_tanh", "ind_relu", "ind_lin", "lru", "lru_trunc", "ind_overflow"])
def test_every_view_builds_for_diagonal_cells(traces, name):
    tr = traces[name]
    T = len(tr.grad_h)
    figs = [grad_norm_curve(tr), contrib_bars(tr), unrolled_graph(tr), gate_heatmaps(tr), gate_curves(tr), unit_decay_figure(tr)]
    figs += [cell_diagram(tr, s) for s in (0, T // 2, T - 1)] + [connectivity_heatmap(tr, w) for w in "xh"]
    for fig in figs:
        assert "W<sub>hh</sub>" not in _notes(fig) and "W_hh" not in (fig.layout.title.text or "")
        assert all(a.font.size is None or a.font.size >= 14 for a in fig.layout.annotations)
        fig.to_json()  # strict, serialisable


@pytest.mark.parametrize("name, act", [("ind_tanh", "tanh"), ("ind_relu", "relu"), ("ind_lin", "linear")])
def test_indrnn_cell_shows_each_units_factor_at_the_step(traces, name, act):
    tr = traces[name]
    for step in (0, 6, 11):
        h = tr.hidden[step]
        deriv = {"tanh": 1 - h**2, "relu": (h > 0).astype(float), "linear": np.ones_like(h)}[act]  # φ′(a) from h = φ(a)
        f = np.sort(tr.unit_decay * deriv)
        text = _factor_line(cell_diagram(tr, step))
        assert f"min {num(f[0])}, median {num(f[2])}, max {num(f[4])} over 5 units" in text
        assert f"φ′ = {act}′" in text and "sequence 0" in text
    fig = cell_diagram(tr, 11)
    assert fig.layout.title.text.startswith("<b>IndRNN cell at time step t = 11")
    share = tr.saturation["h"][11] * 100
    assert f"{share:.0f} % of units" in _notes(fig) and f"φ = {act}" in _notes(fig)


def test_lru_cell_shows_lambda_and_the_output_map(traces):
    tr = traces["lru"]
    f = np.sort(tr.unit_decay)
    fig = cell_diagram(tr, 5)
    text = _factor_line(fig)
    assert "|λᵢ|, the same at every step" in text and f"min {num(f[0])}, median {num(f[2])}, max {num(f[4])}" in text
    notes = _notes(fig)
    assert "λ ⊙ h<sub>t-1</sub>" in notes and "Re(C h<sub>t</sub>) + D x<sub>t</sub>" in notes and "(over Re and Im)" in notes
    assert f"‖∂L/∂h<sub>t</sub>‖ = {tr.grad_h[5]:.4g}" in notes


def test_unrolled_graph_says_how_a_complex_state_is_measured(traces):
    assert "complex hₜ: the norm over its real and imaginary parts" in unrolled_graph(traces["lru"]).layout.title.text
    assert "complex" not in unrolled_graph(traces["ind_tanh"]).layout.title.text


def test_contrib_names_the_recurrent_parameter(traces):
    assert contrib_bars(traces["ind_tanh"]).layout.title.text == "<b>Which time steps the u update learns from</b>"
    assert contrib_bars(traces["lru"]).layout.yaxis.title.text == "‖step t's term of ∂L/∂λ‖"
    rnn = run(Config(seq_len=5, hidden_size=3, batch_size=2))
    assert contrib_bars(rnn).layout.title.text == "<b>Which time steps the W_hh update learns from</b>"


def test_hidden_panels_say_what_the_record_holds(traces):
    lru, ind = traces["lru"], traces["ind_tanh"]
    assert gate_heatmaps(lru).layout.annotations[0].text == "output yₜ = Re(C hₜ) + D xₜ (LRU, sequence 0)"
    assert [a.text for a in gate_curves(lru).layout.annotations][:2] == ["mean yₜ over units (LRU, sequence 0)", FLAT_NONE]
    maps = gate_heatmaps(ind)
    assert maps.layout.annotations[0].text == "hidden state h (IndRNN, tanh, sequence 0)"
    assert (maps.layout.coloraxis.cmin, maps.layout.coloraxis.cmax) == (-1.0, 1.0)  # h = tanh(a)
    curves = gate_curves(ind)
    assert curves.layout.annotations[1].text == FLAT_TEXT["tanh"]
    flat = [d for d in curves.data if d.name.endswith("% flat")][0]
    assert np.allclose(np.asarray(flat.y, float), ind.saturation["h"] * 100)


def test_gate_summary_leads_with_the_per_unit_factor(traces):
    for name in ("ind_tanh", "ind_lin", "lru"):
        assert gate_summary(traces[name]).startswith(decay_summary_text(traces[name]))
    share = float(np.mean(traces["ind_tanh"].saturation["h"])) * 100
    assert f"{share:.0f} % of units saturated on average (tanh′(a) < 0.1)" in gate_summary(traces["ind_tanh"])
    assert "nothing saturates" in gate_summary(traces["lru"]) and "Linear φ never saturates" in gate_summary(traces["ind_lin"])


def test_indrnn_slope_is_read_from_its_states(traces):
    tr = traces["ind_tanh"]
    assert mean_slope(tr) == pytest.approx(float(np.mean(1 - tr.hidden**2)))
    assert mean_slope(traces["lru"]) is None  # no φ: y is not φ(a)
    lin = run(
        Config(cell="indrnn", activation="linear", init="normal", recurrent_scale=1.5, seq_len=3, hidden_size=8, batch_size=2, seed=4)
    )
    assert lin.decay_factor < 1 < lin.gamma * lin.sigma_max  # the bound allows growth, this short run shrinks
    assert "like the largest factor 1.5; the measured gradient mixes all units" in why_no_explosion(lin)
