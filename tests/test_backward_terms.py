"""trace.backward (the parts of each step back) against torch autograd of the cells' own equations, for every cell."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference import autograd_pass, equation_pass

from engine import Config, run, step_terms
from engine.cells import CELLS
from engine.model import Model

SMALL = dict(seq_len=12, hidden_size=5, batch_size=3, task="adding", dtype="float64", recurrent_scale=1.1)


def _norm_mean(a: torch.Tensor) -> np.ndarray:
    return a.norm(dim=-1).mean(dim=-1).numpy()


@pytest.mark.parametrize("cell", list(CELLS))
def test_carried_is_the_next_steps_gradient(cell):
    """A loss only at the last step: what step t hands back is the whole dL/dh_{t-1}, both from the trace and from autograd."""
    cfg = Config(cell=cell, **SMALL)
    trace = run(cfg, terms=True)
    b = trace.backward
    np.testing.assert_allclose(b["carried"][1:], trace.grad_h[:-1], rtol=1e-10)
    assert b["carried"][0] == 0.0  # nothing flows on from h_0
    model = Model(cfg)
    _, _, dh, _ = equation_pass(model, model.batch(0))
    np.testing.assert_allclose(b["carried"][1:], _norm_mean(dh[:-1]), rtol=1e-8)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_rnn_gated_and_deriv(activation):
    """RNN: gated = ‖φ′(a_t) ⊙ ∂L/∂h_t‖ and deriv_max/mean = max/mean of φ′(a_t), with φ′ from autograd's own states."""
    cfg = Config(cell="rnn", activation=activation, **SMALL)
    b = run(cfg, terms=True).backward
    model = Model(cfg)
    batch = model.batch(0)
    _, _, dh, _, hs = autograd_pass(model, batch, use_nn=activation != "sigmoid")  # torch.nn.RNNCell has no sigmoid
    P = {k: v.detach().double() for k, v in model.params.items()}
    x = torch.as_tensor(batch.x, dtype=torch.float64)
    hprev = torch.cat([torch.zeros_like(hs[:1]), hs[:-1]])
    a = x @ P["weight_ih"].T + P["bias_ih"] + hprev @ P["weight_hh"].T + P["bias_hh"]
    a.requires_grad_(True)
    phi = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[activation]
    (d,) = torch.autograd.grad(phi(a).sum(), a)  # φ′(a) elementwise
    np.testing.assert_allclose(b["gated"], _norm_mean(d * dh), rtol=1e-8, atol=1e-300)
    np.testing.assert_allclose(b["deriv_max"], d.amax(-1).mean(-1).numpy(), rtol=1e-10)
    np.testing.assert_allclose(b["deriv_mean"], d.mean((-1, -2)).numpy(), rtol=1e-10)


def test_rnn_bound_holds_per_sequence():
    """One sequence: ‖∂L/∂h_{t−1}‖ ≤ σ_max · max φ′(a_t) · ‖∂L/∂h_t‖ (the formula's bound, a property)."""
    trace = run(Config(cell="rnn", **{**SMALL, "batch_size": 1, "init": "normal"}), terms=True)
    b = trace.backward
    bound = trace.sigma_max * b["deriv_max"][1:] * trace.grad_h[1:]
    assert np.all(b["carried"][1:] <= bound * (1 + 1e-12))


def test_lstm_cell_path_is_f_times_dc():
    """LSTM: carried_inner = ‖f_t ⊙ ∂L/∂c_t‖ with f_t from the equations and ∂L/∂c_t from autograd (torch.nn.LSTMCell)."""
    cfg = Config(cell="lstm", forget_bias=1.0, **SMALL)
    b = run(cfg, terms=True).backward
    model = Model(cfg)
    batch = model.batch(0)
    _, _, _, dc, hs = autograd_pass(model, batch)
    P = {k: v.detach().double() for k, v in model.params.items()}
    x = torch.as_tensor(batch.x, dtype=torch.float64)
    hprev = torch.cat([torch.zeros_like(hs[:1]), hs[:-1]])
    H = cfg.hidden_size
    pre = x @ P["weight_ih"].T + P["bias_ih"] + hprev @ P["weight_hh"].T + P["bias_hh"]
    f = torch.sigmoid(pre[..., H : 2 * H])
    want = _norm_mean(f * dc)
    np.testing.assert_allclose(b["carried_inner"][1:], want[1:], rtol=1e-8)
    assert b["carried_inner"][0] == 0.0


def test_gru_direct_path_is_z_times_dh():
    """GRU: direct = ‖z_t ⊙ ∂L/∂h_t‖, the part of the step back that skips W_hh (autograd through torch.nn.GRUCell)."""
    cfg = Config(cell="gru", **SMALL)
    b = run(cfg, terms=True).backward
    model = Model(cfg)
    batch = model.batch(0)
    _, _, dh, _, hs = autograd_pass(model, batch)
    P = {k: v.detach().double() for k, v in model.params.items()}
    x = torch.as_tensor(batch.x, dtype=torch.float64)
    hprev = torch.cat([torch.zeros_like(hs[:1]), hs[:-1]])
    H = cfg.hidden_size
    pre = x @ P["weight_ih"].T + P["bias_ih"] + hprev @ P["weight_hh"].T + P["bias_hh"]
    z = torch.sigmoid(pre[..., H : 2 * H])
    np.testing.assert_allclose(b["direct"][1:], _norm_mean(z * dh)[1:], rtol=1e-8)
    assert "direct" not in run(Config(cell="rnn", **SMALL), terms=True).backward  # no path around W_hh: not recorded


@pytest.mark.parametrize("cell", list(CELLS))
def test_truncation_cuts_the_carry(cell):
    """TBPTT(4, 4): nothing crosses a block's lowest step, and inside the last block the carry is dL/dh_{t-1}."""
    trace = run(Config(cell=cell, truncation=4, **SMALL), terms=True)
    b = trace.backward
    T = SMALL["seq_len"]
    for _end, lo, _ in trace.blocks:
        assert b["carried"][lo] == 0.0
    lo = int(trace.blocks[0][1])
    np.testing.assert_allclose(b["carried"][lo + 1 :], trace.grad_h[lo : T - 1], rtol=1e-10)


def test_not_recorded_unless_asked():
    """run() leaves the terms out by default (only the formula view shows them); the CLI's --terms and step_terms ask for them."""
    assert run(Config(cell="rnn", **SMALL)).backward is None
    assert run(Config(cell="rnn", **SMALL), terms=False).backward is None


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("truncation", [0, 4])
def test_step_terms_are_the_runs_terms(cell, truncation):
    """step_terms(cfg), the page's separate call for the formula view, gives run(cfg, terms=True).backward to the last bit."""
    cfg = Config(cell=cell, truncation=truncation, **SMALL)
    want, got = run(cfg, terms=True).backward, step_terms(cfg)
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])


def test_cli_records_terms_only_with_the_flag(capsys):
    """`python -m engine run --terms --json` carries `backward`, the same numbers as the API; without the flag it is null."""
    import json

    from engine.__main__ import main

    argv = ["run", "--cell", "lstm", "--seq-len", "12", "--hidden-size", "5", "--batch-size", "3", "--dtype", "float64", "--json"]
    main(argv)
    assert json.loads(capsys.readouterr().out)["backward"] is None
    main([*argv, "--terms"])
    got = json.loads(capsys.readouterr().out)["backward"]
    want = run(Config(cell="lstm", seq_len=12, hidden_size=5, batch_size=3, dtype="float64"), terms=True).backward
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-15)
