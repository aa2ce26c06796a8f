"""Truncated BPTT against autograd with detached states, and the truncation horizon."""

import numpy as np
import pytest
import torch
from reference import autograd_pass, nn_cell, task_loss

from engine import Config, run
from engine.model import Model


@pytest.mark.parametrize("cell,task,K", [("rnn", "sine", 4), ("lstm", "copy", 3), ("gru", "adding", 5), ("lstm", "first", 7)])
def test_detach_every_k_matches_autograd(cell, task, K):
    cfg = Config(cell=cell, task=task, seq_len=14, hidden_size=5, batch_size=3, dtype="float64", truncation=K)
    model = Model(cfg)
    batch = model.batch(0)
    p = model.forward_backward(batch)
    _, grads, dh, dc, _ = autograd_pass(model, batch, detach_every=K)
    for name, g in grads.items():
        np.testing.assert_allclose(p.grads[name], g.numpy(), atol=1e-10, err_msg=name)
    np.testing.assert_allclose(p.dh, dh.numpy(), atol=1e-10)
    if dc is not None:
        np.testing.assert_allclose(p.dc, dc.numpy(), atol=1e-10)


def tbptt_reference(model, batch, k1, k2):
    """Sutskever's TBPTT(k1, k2) by brute force: each block's losses backpropagated k2 steps from its end."""
    cfg = model.cfg
    P = {k: v.detach().double().clone().requires_grad_(True) for k, v in model.params.items()}
    module = nn_cell(model)
    x = torch.as_tensor(batch.x)
    T, B, _ = x.shape
    with torch.no_grad():  # the states the forward pass reaches
        h = torch.zeros(B, cfg.hidden_size, dtype=torch.float64)
        states = [h]
        for t in range(T):
            h = module(x[t], h)
            states.append(h)
    total = {k: torch.zeros_like(v) for k, v in P.items()}
    for first in range(0, T, k1):  # every k1 steps, back k2 steps from the block's full-length end
        end, lo = min(first + k1, T) - 1, max(0, first + k1 - k2)
        h = states[lo].clone()
        hs = {}
        for t in range(lo, end + 1):
            h = torch.func.functional_call(module, {k: P[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}, (x[t], h))
            hs[t] = h
        steps = [int(s) for s in batch.loss_steps if first <= s <= end]
        if not steps:
            continue
        ys = [hs[s] @ P["head_weight"].T + P["head_bias"] for s in steps]
        sub = type(batch)(batch.x, batch.target[[list(batch.loss_steps).index(s) for s in steps]], np.array(steps), batch.kind)
        # the engine's loss is the mean over all loss steps, so weight each block's share accordingly
        loss = task_loss(sub, ys).mean() * len(steps) / len(batch.loss_steps)
        for k, g in zip(P, torch.autograd.grad(loss, list(P.values()), allow_unused=True)):
            if g is not None:
                total[k] += g
    return total


@pytest.mark.parametrize("k1,k2", [(3, 5), (2, 7), (4, 4)])
def test_general_tbptt_k1_k2_matches_brute_force(k1, k2):
    cfg = Config(task="sine", seq_len=13, hidden_size=4, batch_size=2, dtype="float64", k1=k1, k2=k2)
    model = Model(cfg)
    batch = model.batch(0)
    p = model.forward_backward(batch)
    ref = tbptt_reference(model, batch, k1, k2)
    for name, g in ref.items():
        np.testing.assert_allclose(p.grads[name], g.numpy(), atol=1e-10, err_msg=name)


@pytest.mark.parametrize("K", [1, 5, 10])
def test_gradient_is_zero_beyond_the_horizon(K):
    trace = run(Config(task="first", seq_len=30, hidden_size=8, batch_size=4, truncation=K))
    assert np.all(trace.grad_h[: 30 - K] == 0)
    assert np.all(trace.grad_h[30 - K :] > 0)
    assert np.all(trace.contrib[: 30 - K] == 0)


def test_full_bptt_reaches_step_zero():
    assert run(Config(task="first", seq_len=30, hidden_size=8)).grad_h[0] > 0


def test_blocks_cover_every_loss_step_once():
    for T in (1, 7, 12, 13):
        for k1, k2 in [(1, 1), (3, 3), (3, 5), (5, 13)]:
            if k1 > T or k2 > T:
                continue
            blocks = Config(task="first", seq_len=T, k1=k1, k2=k2).truncation_blocks()
            covered = sorted(s for end, lo, first in blocks for s in range(first, end + 1))
            assert covered == list(range(T))
            assert all(lo == max(0, first + k1 - k2) for _, lo, first in blocks)
            assert all(end - first + 1 == k1 for end, _, first in blocks[1:])
