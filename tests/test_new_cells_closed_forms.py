"""Closed forms for the diagonal cells: one step back scales the gradient by exactly the recurrent scale."""

import json

import numpy as np
import pytest

from engine import Config, run
from engine.__main__ import main
from engine.model import Model


@pytest.mark.parametrize("scale", [0.9, 1.0, 1.1])
def test_linear_identity_indrnn_scales_the_gradient_by_exactly_the_scale(scale):
    t = run(
        Config(
            cell="indrnn",
            activation="linear",
            init="identity",
            recurrent_scale=scale,
            task="first",
            seq_len=40,
            hidden_size=6,
            dtype="float64",
        )
    )
    np.testing.assert_allclose(t.grad_h[:-1] / t.grad_h[1:], scale, rtol=1e-12)
    assert t.spectral_radius == t.sigma_max == scale and t.gates == {}
    np.testing.assert_array_equal(t.unit_decay, np.full(6, scale))


@pytest.mark.parametrize("init", ["orthogonal", "normal", "torch", "identity"])
def test_indrnn_scale_is_the_largest_recurrent_weight(init):
    model = Model(Config(cell="indrnn", init=init, recurrent_scale=1.3, hidden_size=16))
    u = model.params["u"].detach().numpy()
    assert np.abs(u).max() == pytest.approx(1.3, rel=1e-6)
    if init == "orthogonal":
        np.testing.assert_allclose(np.abs(u), 1.3, rtol=1e-6)


@pytest.mark.parametrize("init", ["ring", "identity"])
def test_lru_unit_gradients_scale_by_exactly_their_lambda(init):
    cfg = Config(
        cell="lru",
        init="identity" if init == "identity" else "orthogonal",
        recurrent_scale=0.97,
        task="first",
        seq_len=30,
        hidden_size=5,
        dtype="float64",
    )
    model = Model(cfg)
    p = model.forward_backward(model.batch(0))
    d = p.dh.numpy()  # (T, B, 2H) as [Re | Im]
    unit = np.hypot(d[..., :5], d[..., 5:])  # |dL/dh_t,i| per sequence and unit
    lam = np.exp(model.params["log_mag"].detach().numpy())
    np.testing.assert_allclose(unit[:-1] / unit[1:], np.broadcast_to(lam, unit[1:].shape), rtol=1e-12)
    t = run(cfg)
    assert t.spectral_radius == pytest.approx(0.97, rel=1e-12)
    np.testing.assert_allclose(t.unit_decay, lam)
    if init == "identity":
        np.testing.assert_allclose(t.grad_h[:-1] / t.grad_h[1:], 0.97, rtol=1e-12)
    else:
        assert lam.min() >= 0.9 * 0.97 - 1e-12 and lam.max() == pytest.approx(0.97)


def test_lru_at_scale_one_neither_vanishes_nor_explodes():
    t = run(Config(cell="lru", init="identity", recurrent_scale=1.0, task="first", seq_len=200, hidden_size=4, dtype="float64"))
    np.testing.assert_allclose(t.grad_h, t.grad_h[-1], rtol=1e-12)


@pytest.mark.parametrize("cell", ["indrnn", "lru"])
def test_cli_runs_the_new_cells(cell, capsys):
    assert main(["run", "--cell", cell, "--seq-len", "8", "--hidden-size", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["cell"] == cell and len(out["grad_h"]) == 8 and out["gates"] == {} and len(out["unit_decay"]) == 4
