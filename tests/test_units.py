"""Per-unit gradient: the engine's grad_h_units against torch autograd, and the heatmap's data against the trace."""

import dataclasses
import json

import numpy as np
import pytest
from reference import equation_pass

from engine import Config, run, to_json
from engine.cells import CELLS
from engine.model import Model
from viz.notes import NOTE_PX
from viz.units import decade_label, unit_heatmap


def autograd_units(cfg: Config, detach_every: int = 0) -> np.ndarray:
    """Oracle: batch mean of |dL_b/dh_t,i| from torch autograd of the cell's equations (complex units: modulus)."""
    model = Model(cfg)
    dh = equation_pass(model, model.batch(0), detach_every=detach_every)[2].numpy()  # (T, B, S)
    H = cfg.hidden_size
    mag = np.hypot(dh[..., :H], dh[..., H:]) if model.cell.complex_state else np.abs(dh)
    return mag.mean(axis=1)


@pytest.mark.parametrize("cell", list(CELLS))
def test_grad_h_units_equals_autograd(cell):
    cfg = Config(cell=cell, seq_len=25, hidden_size=6, batch_size=5, dtype="float64", recurrent_scale=0.9, task="sine")
    got = run(cfg).grad_h_units
    assert got.shape == (25, 6)
    np.testing.assert_allclose(got, autograd_units(cfg), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("cell", list(CELLS))
def test_grad_h_units_under_truncation_equals_autograd(cell):
    cfg = Config(cell=cell, seq_len=24, hidden_size=5, batch_size=3, dtype="float64", truncation=5)
    np.testing.assert_allclose(run(cfg).grad_h_units, autograd_units(cfg, detach_every=5), rtol=1e-10, atol=1e-300)


def test_grad_h_units_in_json():
    trace = run(Config(seq_len=6, hidden_size=3))
    back = np.array(json.loads(to_json(trace))["grad_h_units"], dtype=np.float64)
    np.testing.assert_array_equal(back, trace.grad_h_units.astype(np.float64))


def heat_z(fig) -> np.ndarray:
    return np.asarray(fig.data[0].z, dtype=np.float64)


def test_heatmap_data_equals_the_trace():
    trace = run(Config(cell="lstm", seq_len=40, hidden_size=12, forget_bias=1.0))
    fig = unit_heatmap(trace)
    expected = np.log10(trace.grad_h_units.astype(np.float64).T).astype(np.float32)
    np.testing.assert_array_equal(heat_z(fig), expected)
    assert list(fig.data[0].x) == list(range(40)) and list(fig.data[0].y) == list(range(12))
    assert "|∂L/∂hₜ,ᵢ|" in fig.layout.title.text


def test_heatmap_pools_long_runs_by_block_max():
    trace = run(Config(seq_len=1000, hidden_size=4, recurrent_scale=0.5))
    fig = unit_heatmap(trace)
    m = trace.grad_h_units.astype(np.float64).T  # (4, 1000); 400 columns at most -> blocks of 3 steps
    padded = np.concatenate([m, np.full((4, 2), np.nan)], axis=1).reshape(4, 334, 3)
    block_max = np.nanmax(padded, axis=2)
    with np.errstate(divide="ignore"):
        expected = np.where(block_max > 0, np.log10(block_max), np.nan).astype(np.float32)  # 0 (underflow) has no log: empty
    np.testing.assert_array_equal(heat_z(fig), expected)
    assert list(fig.data[0].x) == list(range(0, 1000, 3))
    assert "max over blocks of 3 steps" in fig.layout.xaxis.title.text


def test_colour_bar_labels_whole_decades_in_unicode():
    trace = run(Config(seq_len=100, recurrent_scale=0.6))
    bar = unit_heatmap(trace).data[0].colorbar
    vals = list(bar.tickvals)
    assert all(float(v).is_integer() for v in vals) and len(vals) <= 8
    assert list(bar.ticktext) == [decade_label(v) for v in vals]
    assert decade_label(-12) == "10⁻¹²" and decade_label(3) == "10³"


def test_zero_units_are_said_in_words():
    trace = run(Config(seq_len=20, hidden_size=5))
    units = trace.grad_h_units.copy()
    units[:, 2] = 0.0  # a unit that never gets a gradient
    fig = unit_heatmap(dataclasses.replace(trace, grad_h_units=units))
    assert np.isnan(heat_z(fig)[2]).all()
    texts = [a.text for a in fig.layout.annotations]
    assert any("1 of 5 units get no gradient" in t for t in texts)
    assert all(a.font.size >= NOTE_PX for a in fig.layout.annotations)


def test_overflow_is_red_and_said_in_words():
    trace = run(Config(activation="linear", init="identity", recurrent_scale=8.0, seq_len=200, hidden_size=8))
    assert not np.isfinite(trace.grad_h_units).all()
    fig = unit_heatmap(trace)
    assert any(d.name == "non-finite" for d in fig.data)
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "non-finite" in texts and "overflow" in texts.lower()
