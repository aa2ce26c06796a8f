"""viz reads what a cell declares (Trace.cell_info), never a gate's letter: renamed gates keep their meaning."""

import dataclasses

import numpy as np
import pytest

from engine import Config, run
from viz.gates import gate_heatmaps, gate_summary
from viz.gradients import compared_words

RENAME = {"i": "p", "f": "q", "g": "s", "o": "u"}


@pytest.fixture(scope="module")
def lstm():
    return run(Config(cell="lstm", seq_len=20, hidden_size=4, batch_size=3, forget_bias=1.0))


def renamed(trace, names: dict, **direct):
    """The same run with its gates under other letters, declared as the cell would declare them."""
    info = dict(trace.cell_info)
    info["gates"] = {names[k]: v for k, v in info["gates"].items()}
    info["direct"] = {**info["direct"], "factor": names[info["direct"]["factor"]], **direct}
    return dataclasses.replace(
        trace,
        gates={names[k]: v for k, v in trace.gates.items()},
        saturation={names[k]: v for k, v in trace.saturation.items()},
        cell_info=info,
    )


def test_a_renamed_tanh_gate_keeps_its_range_and_the_path_its_gate(lstm):
    tr = renamed(lstm, RENAME)
    fig = gate_heatmaps(tr)
    ranges = {d.name: (fig.layout[d.coloraxis].cmin, fig.layout[d.coloraxis].cmax) for d in fig.data if d.type == "heatmap"}
    assert ranges == {"input gate p": (0, 1), "forget gate q": (0, 1), "candidate s": (-1, 1), "output gate u": (0, 1)}
    assert f"The cell path cₜ₋₁ → cₜ alone keeps q = {lstm.gates['f'].mean():.2f} per step" in gate_summary(tr)
    assert f"keeps the forget gate q = {lstm.gates['f'].mean():.2f} per step on average" in compared_words(tr, "other")


def test_a_path_that_keeps_one_minus_its_gate_says_so():
    gru = run(Config(cell="gru", seq_len=20, hidden_size=4, batch_size=3))
    tr = renamed(gru, {"r": "r", "z": "f", "n": "n"}, complement=True)
    keep = 1 - np.mean(gru.gates["z"])
    assert f"The direct path hₜ₋₁ → hₜ alone keeps 1 − f = {keep:.2f} per step" in gate_summary(tr)
    assert "the candidate n" in gate_summary(tr)
    assert f"keeps the update gate f as 1 − f = {keep:.2f}" in compared_words(tr, "other")


def test_what_the_hidden_panel_shows_is_the_declared_output_map():
    lru = run(Config(cell="lru", seq_len=12, hidden_size=3, batch_size=2))
    assert lru.cell_info["output_map"][1] == "y"
    assert "output yₜ = Re(C hₜ) + D xₜ" in gate_heatmaps(lru).layout.annotations[0].text
    plain = dataclasses.replace(lru, cell_info={**lru.cell_info, "output_map": None})
    assert "hidden state h" in gate_heatmaps(plain).layout.annotations[0].text
