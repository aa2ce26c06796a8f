"""Each step's backward formula: every number equals the trace, for every cell, read here straight from the trace's fields."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Config, run
from engine.cells import CELLS
from viz.formula import kind_of, step_formula

SMALL = dict(seq_len=14, hidden_size=5, batch_size=3, task="adding")
KINDS = {"rnn": "matrix", "lstm": "cell path", "gru": "direct path", "indrnn": "diagonal", "lru": "complex diagonal"}


def _expected(trace, source: str, t: int) -> float:
    """The trace's own number for a row's source, by an explicit table (not viz.formula.lookup)."""
    b, g = trace.backward, np.asarray(trace.grad_h, dtype=np.float64)
    table = {
        "grad_h[t]": g[t],
        "grad_h[t-1]": g[t - 1],
        "sigma_max": trace.sigma_max,
        "unit_decay.max": None if trace.unit_decay is None else np.max(trace.unit_decay),
        "unit_decay.min": None if trace.unit_decay is None else np.min(trace.unit_decay),
        "grad_c[t]": None if trace.grad_c is None else trace.grad_c[t],
        "grad_c[t-1]": None if trace.grad_c is None else trace.grad_c[t - 1],
    }
    for name, values in b.items():
        table[f"backward.{name}[t]"] = values[t]
    for name, values in trace.gates.items():
        table[f"gates.{name}[t].mean"] = np.mean(np.asarray(values[t], dtype=np.float64))
    return float(table[source])


@pytest.mark.parametrize("cell", list(CELLS))
def test_every_number_is_the_traces(cell):
    trace = run(Config(cell=cell, **SMALL), terms=True)
    assert kind_of(trace) == KINDS.get(cell, kind_of(trace))
    for t in (1, 7, SMALL["seq_len"] - 1):
        f = step_formula(trace, t)
        assert f.latex and f.rows and all(isinstance(x, str) and x for x in f.latex)
        for row in f.rows:
            assert row.value == _expected(trace, row.source, t), (cell, t, row)
        g = trace.grad_h
        assert f"a factor of {g[t - 1] / g[t]:.4g}" in f.summary
        sources = {r.source for r in f.rows}
        assert {"grad_h[t]", "grad_h[t-1]", "backward.carried[t]"} <= sources


def test_rnn_formula_reads_phi_prime_sigma_and_the_result():
    trace = run(Config(cell="rnn", **SMALL), terms=True)
    f = step_formula(trace, 5)
    assert r"W_{hh}^{\top}\left(\varphi'(a_t) \odot" in f.latex[0]
    by = {r.source: r.value for r in f.rows}
    assert by["backward.deriv_max[t]"] == trace.backward["deriv_max"][5]
    assert by["sigma_max"] == trace.sigma_max
    assert by["backward.carried[t]"] == pytest.approx(trace.grad_h[4], rel=1e-5)  # the resulting norm: loss only at the end
    bound = trace.sigma_max * trace.backward["deriv_max"][5]
    assert f"= {bound:.4g} per step" in f.summary


def test_lstm_formula_has_the_cell_path_and_mean_f():
    trace = run(Config(cell="lstm", forget_bias=1.0, **SMALL), terms=True)
    f = step_formula(trace, 6)
    assert r"f_t \odot \frac{\partial L}{\partial c_t}" in f.latex[0]
    by = {r.source: r.value for r in f.rows}
    assert by["gates.f[t].mean"] == float(np.mean(trace.gates["f"][6]))
    assert by["backward.carried_inner[t]"] == trace.backward["carried_inner"][6]
    assert f"f̄ = {np.mean(trace.gates['f'][6]):.3g}" in f.summary


@pytest.mark.parametrize("t", [0, 14, -1, 2.0, True])
def test_steps_out_of_range_are_refused(t):
    trace = run(Config(cell="rnn", **SMALL), terms=True)
    with pytest.raises(ValueError, match="step must be an integer from 1 to 13"):
        step_formula(trace, t)


def test_a_trace_without_terms_says_how_to_get_them():
    trace = run(Config(cell="rnn", **SMALL), terms=False)
    with pytest.raises(ValueError, match="terms=True"):
        step_formula(trace, 3)
