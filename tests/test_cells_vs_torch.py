"""Every cell against its torch.nn twin: hidden states, loss, every parameter gradient, grad_h."""

import numpy as np
import pytest
import torch
from reference import autograd_pass, per_seq_norm_mean

from engine import Config
from engine.model import Model

TOL = 1e-10
CASES = [
    ("rnn", "tanh", "adding"),
    ("rnn", "relu", "sine"),
    ("lstm", "tanh", "adding"),
    ("lstm", "tanh", "copy"),
    ("gru", "tanh", "first"),
    ("gru", "tanh", "sine"),
]


def engine_pass(cfg):
    model = Model(cfg)
    batch = model.batch(0)
    return model, batch, model.forward_backward(batch)


def to_np(a):
    return a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


@pytest.mark.parametrize("cell,activation,task", CASES)
def test_matches_torch_nn_cell(cell, activation, task):
    cfg = Config(
        cell=cell,
        activation=activation,
        task=task,
        seq_len=9,
        hidden_size=5,
        batch_size=3,
        dtype="float64",
        seed=3,
        recurrent_scale=1.1,
        forget_bias=1.0 if cell == "lstm" else 0.0,
    )
    model, batch, p = engine_pass(cfg)
    loss, grads, dh, dc, hs = autograd_pass(model, batch)
    np.testing.assert_allclose(to_np(p.tape.hs[1:]), hs.numpy(), rtol=0, atol=TOL)
    assert abs(float(to_np(p.loss_seq).mean()) - loss) < TOL
    for name, g in grads.items():
        np.testing.assert_allclose(to_np(p.grads[name]), g.numpy(), rtol=0, atol=TOL, err_msg=name)
    np.testing.assert_allclose(to_np(p.dh), dh.numpy(), rtol=0, atol=TOL)
    if cell == "lstm":
        np.testing.assert_allclose(to_np(p.dc), dc.numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("activation", ["sigmoid", "linear", "tanh", "relu"])
def test_rnn_activations_match_autograd_of_the_equations(activation):
    cfg = Config(activation=activation, task="sine", seq_len=7, hidden_size=4, batch_size=2, dtype="float64")
    model, batch, p = engine_pass(cfg)
    loss, grads, dh, _, hs = autograd_pass(model, batch, use_nn=False)
    np.testing.assert_allclose(to_np(p.tape.hs[1:]), hs.numpy(), atol=TOL)
    for name, g in grads.items():
        np.testing.assert_allclose(to_np(p.grads[name]), g.numpy(), atol=TOL, err_msg=name)
    np.testing.assert_allclose(to_np(p.dh), dh.numpy(), atol=TOL)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_trace_grad_h_is_per_sequence_norm_of_autograd(cell):
    cfg = Config(cell=cell, task="first", seq_len=12, hidden_size=6, batch_size=4, dtype="float64", seed=1)
    from engine import run

    trace = run(cfg)
    model = Model(cfg)
    _, _, dh, dc, _ = autograd_pass(model, model.batch(0))
    np.testing.assert_allclose(trace.grad_h, per_seq_norm_mean(dh), rtol=1e-9)
    norms = dh.norm(dim=-1).numpy()
    np.testing.assert_allclose(trace.grad_h_band, np.percentile(norms, [10, 90], axis=1).T, rtol=1e-9)
    if cell == "lstm":
        np.testing.assert_allclose(trace.grad_c, per_seq_norm_mean(dc), rtol=1e-9)
    else:
        assert trace.grad_c is None


def test_float32_close_to_float64():
    cfg = Config(cell="lstm", seq_len=20, hidden_size=8, batch_size=4)
    from engine import run

    a, b = run(cfg), run(cfg.replace(dtype="float64"))
    np.testing.assert_allclose(a.grad_h, b.grad_h, rtol=1e-4)
    assert abs(a.loss - b.loss) < 1e-5
