"""Recorded values against oracles, not against themselves: the loss, grad_h_last, overflow_grad_step, gamma, clipping."""

import numpy as np
import pytest
import torch
from definitions import params64, per_sequence_grad_norms, step_losses, targets_from_definition, task_batch, unroll

from engine import Config, Model, run
from engine.tasks import copy_delay
from engine.theory import GAMMA

SMALL = dict(seq_len=9, hidden_size=5, batch_size=4, dtype="float64", seed=2)


def autograd_of(cfg, target=None):
    """(model, batch, P, hs, (L, B) step losses) of batch 0, by autograd of the cell equations."""
    model = Model(cfg)
    batch = model.batch(0)
    P = params64(model)
    hs = unroll(cfg, P, batch.x)
    losses = step_losses(batch.kind, P, hs, batch.loss_steps, batch.target if target is None else target)
    return model, batch, P, hs, losses


def full_loss_grads(cfg):
    """{name: dL/dparam} of the batch-mean loss (mean over loss steps, then over sequences), as numpy."""
    _, _, P, _, losses = autograd_of(cfg)
    grads = torch.autograd.grad(losses.mean(0).mean(), list(P.values()))
    return {k: g.numpy() for k, g in zip(P, grads)}


@pytest.mark.parametrize("cell,task", [("rnn", "adding"), ("gru", "first"), ("lstm", "copy"), ("rnn", "sine")])
def test_loss_is_the_mean_over_steps_and_sequences_with_the_defined_targets(cell, task):
    cfg = Config(cell=cell, task=task, **SMALL)
    x = task_batch(cfg).x
    target = None if task == "sine" else targets_from_definition(task, x, copy_delay(cfg.seq_len))
    *_, losses = autograd_of(cfg, target)
    assert run(cfg).loss == pytest.approx(losses.mean().item(), rel=1e-12)


@pytest.mark.parametrize("cell,task", [("rnn", "copy"), ("lstm", "copy"), ("rnn", "sine"), ("gru", "sine")])
def test_grad_h_last_is_the_gradient_of_the_last_steps_loss_alone(cell, task):
    cfg = Config(cell=cell, task=task, **SMALL)
    trace = run(cfg)
    *_, hs, losses = autograd_of(cfg)
    L = losses.shape[0]
    assert L == cfg.seq_len > 1  # every step carries a loss: the last one alone is 1/L of the total
    np.testing.assert_allclose(trace.grad_h_last, per_sequence_grad_norms(hs, losses[-1].sum()), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(trace.grad_h, per_sequence_grad_norms(hs, losses.mean(0).sum()), rtol=1e-9, atol=1e-14)


def test_overflow_grad_step_is_the_latest_step_whose_gradient_is_not_finite():
    """Linear RNN, W_hh = 1.5 I: dL/dh_t = 1.5^(T-1-t) dL/dh_{T-1} exactly, until float32 overflows going back."""
    s, T, B, H = 1.5, 160, 16, 32
    cfg = Config(activation="linear", init="identity", recurrent_scale=s, seq_len=T, batch_size=B, hidden_size=H, task="first")
    trace = run(cfg)
    bad = np.nonzero(~np.isfinite(trace.grad_h))[0]
    assert trace.overflow_step is None and len(bad) > 0  # the forward pass stays finite, the backward one does not
    t = trace.overflow_grad_step
    assert t == bad.max() and np.all(np.isfinite(trace.grad_h[t + 1 :]))
    g = trace.grad_h[t + 1 :]
    np.testing.assert_allclose(g[:-1] / g[1:], s, rtol=1e-4)  # the closed form holds on the finite part
    big = np.finfo(np.float32).max  # one step further back some element passes float32's largest value
    assert big / (s * B) <= trace.grad_h[t + 1] <= np.sqrt(H) * big


def test_gamma_is_the_largest_slope_of_each_activation():
    a = torch.linspace(-10, 10, 200_001, dtype=torch.float64, requires_grad=True)
    phis = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda v: v * 1.0}
    for name, phi in phis.items():
        (slope,) = torch.autograd.grad(phi(a).sum(), a)
        sup = slope.abs().max().item()
        assert GAMMA[name] == pytest.approx(sup, abs=1e-8), name
        assert run(Config(activation=name, seq_len=3, hidden_size=2, batch_size=1)).gamma == pytest.approx(sup, abs=1e-8), name
    assert GAMMA == {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25, "linear": 1.0}  # DESIGN.md, theory overlay
    assert run(Config(cell="lstm", seq_len=3, hidden_size=2, batch_size=1)).gamma is None


def _norms(grads):
    return {k: float(np.linalg.norm(g)) for k, g in grads.items()}


def _global(grads):
    return float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_clip_by_norm_rescales_to_the_threshold(cell):
    cfg = Config(cell=cell, task="sine", **SMALL)
    g = full_loss_grads(cfg)
    total = _global(g)
    theta = 0.3 * total
    trace = run(cfg.replace(clip="norm", clip_threshold=theta))
    assert trace.clipped and trace.grad_norm_before_clip == pytest.approx(total, rel=1e-10)
    assert trace.grad_norm_after_clip == pytest.approx(theta, rel=1e-10)
    want = _norms({k: v * theta / total for k, v in g.items()})
    assert trace.param_grad_norms == pytest.approx(want, rel=1e-10)
    loose = run(cfg.replace(clip="norm", clip_threshold=2 * total))
    assert not loose.clipped and loose.param_grad_norms == pytest.approx(_norms(g), rel=1e-10)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_clip_by_value_clamps_each_element_like_np_clip(cell):
    cfg = Config(cell=cell, task="adding", **SMALL)
    g = full_loss_grads(cfg)
    theta = float(np.median(np.abs(np.concatenate([v.ravel() for v in g.values()]))))
    clipped = {k: np.clip(v, -theta, theta) for k, v in g.items()}
    trace = run(cfg.replace(clip="value", clip_threshold=theta))
    assert trace.clipped and trace.grad_norm_before_clip == pytest.approx(_global(g), rel=1e-10)
    assert trace.grad_norm_after_clip == pytest.approx(_global(clipped), rel=1e-10)
    assert trace.param_grad_norms == pytest.approx(_norms(clipped), rel=1e-10)
    big = run(cfg.replace(clip="value", clip_threshold=10 * theta + max(np.abs(v).max() for v in g.values())))
    assert not big.clipped and big.param_grad_norms == pytest.approx(_norms(g), rel=1e-10)


WAVE = np.sin(0.3 * np.arange(60)) * np.linspace(1, 2, 60)  # your own series, passed as an array


@pytest.mark.parametrize(
    "cell,task,data",
    [
        ("rnn", "nile", None),
        ("lstm", "text", None),
        ("gru", "series", WAVE),
        ("lstm", "co2", None),
        ("rnn", "text", "abcab cabca bcabc " * 3),
    ],
)
def test_real_data_gradients_match_autograd_of_torch_nn(cell, task, data):
    """Real series and text, like every synthetic task: the loss, every parameter gradient and dL_b/dh_t against torch.nn + autograd."""
    from reference import autograd_pass

    cfg = Config(cell=cell, task=task, **SMALL)
    model = Model(cfg, data)
    batch = model.batch(0)
    p = model.forward_backward(batch)
    loss, grads, dh, dc, hs = autograd_pass(model, batch)
    np.testing.assert_allclose(p.tape.hs[1:].numpy(), hs.numpy(), rtol=0, atol=1e-10)
    assert float(p.loss_seq.mean()) == pytest.approx(loss, rel=1e-12)
    for name, g in grads.items():
        np.testing.assert_allclose(p.grads[name].numpy(), g.numpy(), rtol=0, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(p.dh.numpy(), dh.numpy(), rtol=0, atol=1e-10)
    if cell == "lstm":
        np.testing.assert_allclose(p.dc.numpy(), dc.numpy(), rtol=0, atol=1e-10)
    assert run(cfg, data=data).loss == pytest.approx(loss, rel=1e-12)
