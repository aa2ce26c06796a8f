"""The per-unit decay view of diagonal cells shows the engine's own numbers: closed forms |λ|^k, |u|^k, and the measured ratio."""

import math
import re
from dataclasses import replace

import numpy as np
import pytest

from engine import Config, run
from viz.decay import decay_summary_text, num, power_text, representatives, unit_decay_figure

SMALL = dict(seq_len=30, hidden_size=6, batch_size=3, seed=2, dtype="float64")


@pytest.fixture(scope="module")
def traces():
    return {
        "lru_id": run(Config(cell="lru", init="identity", recurrent_scale=0.9, **SMALL)),
        "lru_ring": run(Config(cell="lru", recurrent_scale=0.97, **SMALL)),
        "ind_lin": run(Config(cell="indrnn", activation="linear", init="identity", recurrent_scale=1.05, **SMALL)),
        "ind_tanh": run(Config(cell="indrnn", init="normal", recurrent_scale=1.2, **SMALL)),
        "ind_sigmoid": run(Config(cell="indrnn", activation="sigmoid", init="normal", recurrent_scale=2.0, **SMALL)),
        "lru_sine": run(Config(cell="lru", task="sine", **SMALL)),
        "lru_copy": run(Config(cell="lru", task="copy", **SMALL)),
        "lru_trunc": run(Config(cell="lru", init="identity", recurrent_scale=0.9, truncation=10, **SMALL)),
    }


def _units(fig):
    return [d for d in fig.data if d.name.startswith("unit ")]


def _measured(fig):
    return [d for d in fig.data if d.name.startswith("measured")]


def _notes(fig):
    return " ".join(a.text for a in fig.layout.annotations)


def _y(d):
    return np.asarray(d.y, dtype=np.float64)


def test_lru_identity_init_every_unit_decays_by_exactly_the_scale(traces):
    tr = traces["lru_id"]
    k = np.arange(30)
    assert np.allclose(tr.unit_decay, 0.9, rtol=0, atol=1e-12)
    fig = unit_decay_figure(tr)
    (unit,) = _units(fig)  # all units equal: one curve, named for all three roles
    assert "smallest = median = largest" in unit.name and "|λᵢ|<sup>k</sup>" in unit.name
    assert np.array_equal(unit.x, k)
    assert np.allclose(_y(unit), 0.9**k, rtol=1e-12)  # closed form
    (measured,) = _measured(fig)
    assert np.allclose(_y(measured), 0.9**k, rtol=1e-10)  # the engine's measured gradient equals the closed form
    assert "every |λᵢ| = 0.9 (6 units)" in decay_summary_text(tr)
    assert "exactly |λᵢ|" in decay_summary_text(tr) and "neither vanishes nor explodes" in decay_summary_text(tr)


def test_ring_init_panels_hold_the_sorted_factors_and_their_powers(traces):
    tr = traces["lru_ring"]
    fig = unit_decay_figure(tr)
    dots = [d for d in fig.data if d.xaxis == "x"]
    assert np.array_equal(np.concatenate([_y(d) for d in dots]), np.sort(tr.unit_decay))
    assert np.array_equal(np.concatenate([np.asarray(d.customdata) for d in dots]), np.argsort(tr.unit_decay, kind="stable"))
    order = np.argsort(tr.unit_decay, kind="stable")
    expected = [order[0], order[(len(order) - 1) // 2], order[-1]]
    units = _units(fig)
    assert [int(re.match(r"unit (\d+)", d.name).group(1)) for d in units] == expected
    k = np.arange(30)
    for d, i in zip(units, expected, strict=True):
        assert np.allclose(_y(d), tr.unit_decay[i] ** k, rtol=1e-12)
        assert num(tr.unit_decay[i]) in d.name
    lo, hi = tr.unit_decay.min() ** k, tr.unit_decay.max() ** k
    m = _y(_measured(fig)[0])
    assert np.all(m >= lo * (1 - 1e-9)) and np.all(m <= hi * (1 + 1e-9))  # a mix of the units, each exactly |λ_i|^k
    text = decay_summary_text(tr)
    assert f"ranges {num(tr.unit_decay.min())}–{num(tr.unit_decay.max())} over 6 units" in text
    assert power_text(tr.unit_decay.min(), 29) in text


def test_linear_indrnn_measured_is_exactly_u_to_the_k(traces):
    tr = traces["ind_lin"]
    k = np.arange(30)
    fig = unit_decay_figure(tr)
    assert np.allclose(_y(_measured(fig)[0]), 1.05**k, rtol=1e-10)
    assert np.allclose(_y(_units(fig)[0]), 1.05**k, rtol=1e-12)
    assert [d.name for d in fig.data if d.xaxis == "x"] == ["|uᵢ| > 1: grows (6 of 6 units)"]
    assert "6 of them above 1" in decay_summary_text(tr)


def test_nonlinear_indrnn_draws_an_upper_bound_and_says_so(traces):
    k = np.arange(30)
    tr = traces["ind_tanh"]
    fig = unit_decay_figure(tr)
    assert all("≥ the true factor (φ′ ≤ 1)" in d.name for d in _units(fig))
    assert "upper bound" in fig.layout.annotations[1].text and "φ′" in _notes(fig)
    top = tr.unit_decay.max()
    assert np.all(_y(_measured(fig)[0]) <= top**k * (1 + 1e-9))  # the bound holds for the measured gradient
    assert "at most" in decay_summary_text(tr) and "tanh φ" in decay_summary_text(tr)
    sig = traces["ind_sigmoid"]
    fig = unit_decay_figure(sig)
    largest = [d for d in _units(fig) if "largest" in d.name][0]
    assert np.allclose(_y(largest), (0.25 * sig.unit_decay.max()) ** k, rtol=1e-12, equal_nan=True)
    assert "(γ·|uᵢ|)<sup>k</sup>" in largest.name and "γ = 0.25" in largest.name


def test_log_axis_labels_decades_and_notes_are_readable(traces):
    fig = unit_decay_figure(traces["lru_ring"])
    axis = fig.layout.yaxis2
    assert axis.type == "log" and axis.exponentformat == "power" and axis.tick0 == 0 and float(axis.dtick).is_integer()
    assert any(s.y0 == 1 and s.y1 == 1 for s in fig.layout.shapes)  # the edge between vanishing and exploding
    assert "1: neither vanishes nor explodes" in _notes(fig)
    assert all(a.font.size >= 14 for a in fig.layout.annotations)
    assert "‖∂L/∂hₜ‖" in _notes(fig) and "real and imaginary" in _notes(fig)


def test_measured_curve_only_where_it_is_one_loss(traces):
    sine = unit_decay_figure(traces["lru_sine"])
    assert "the last step's loss alone" in _measured(sine)[0].name
    g = traces["lru_sine"].grad_h_last
    assert np.allclose(_y(_measured(sine)[0]), g[::-1] / g[-1], rtol=1e-12)
    tr = traces["lru_copy"]
    assert len(tr.loss_steps) > 1 and "the last step's loss alone" in _measured(unit_decay_figure(tr))[0].name
    mixed = unit_decay_figure(replace(tr, grad_h_last=None))  # several losses, nothing that isolates one
    assert not _measured(mixed) and "losses sit at several steps" in _notes(mixed)


def test_truncation_zeros_are_said_not_drawn(traces):
    fig = unit_decay_figure(traces["lru_trunc"])
    m = _y(_measured(fig)[0])
    assert np.allclose(m[:10], 0.9 ** np.arange(10), rtol=1e-10) and np.isnan(m[10:]).all()
    assert "exactly 0 beyond the truncation horizon, 10 steps back" in _notes(fig)


def test_zero_scale_and_non_finite_factors_are_said_in_words(traces):
    zero = replace(traces["ind_lin"], unit_decay=np.zeros(6))  # Config keeps the scale above 0; training could reach u = 0
    fig = unit_decay_figure(zero)
    assert "|uᵢ| = 0, so no gradient passes even one step back" in _notes(fig)
    assert np.isnan(_y(_units(fig)[0])[1:]).all() and _y(_units(fig)[0])[0] == 1.0
    bad = replace(traces["lru_ring"], unit_decay=np.array([np.nan, 0.5, 0.9, np.inf, 0.7, 0.95]))
    fig = unit_decay_figure(bad)
    assert "2 of 6 values of |λᵢ| are non-finite" in _notes(fig)
    assert "(2 non-finite, left out)" in decay_summary_text(bad)
    assert sum(len(d.y) for d in fig.data if d.xaxis == "x") == 4


def test_overflowing_run_still_draws_and_explains():
    tr = run(Config(cell="indrnn", activation="linear", init="identity", recurrent_scale=5.0, seq_len=80, hidden_size=3, batch_size=2))
    assert tr.nonfinite
    fig = unit_decay_figure(tr)
    assert "float32 overflow: " in _notes(fig)
    assert "beyond float64's largest number" not in _notes(fig)  # 5^79 fits in float64: drawn, not dropped
    assert np.allclose(_y(_units(fig)[0]), 5.0 ** np.arange(80), rtol=1e-6)


def test_cells_without_a_per_unit_factor_get_words_not_a_chart():
    tr = run(Config(cell="rnn", seq_len=5, hidden_size=3, batch_size=2))
    fig = unit_decay_figure(tr)
    assert not fig.data and "no per-unit factor" in _notes(fig)
    assert "no per-unit factor" in decay_summary_text(tr)


def test_helpers_keep_numbers_true():
    assert num(0.9996) == "0.9996" and num(1.0) == "1" and num(0.912345) == "0.912"
    assert power_text(1.5, 1999) == f"about 1e{round(1999 * math.log10(1.5))}"
    assert power_text(0.9, 100) == "3e-5" and power_text(0.0, 3) == "0" and power_text(0.0, 0) == "1"
    assert representatives(np.array([0.5, np.nan, 0.2, 0.9])) == [("smallest", 2), ("median", 0), ("largest", 3)]
    assert representatives(np.array([0.7, 0.7])) == [("smallest = median = largest", 0)]
