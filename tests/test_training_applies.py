"""What training really applies: one SGD step moves the weights by exactly -lr x the clipped gradient.

The training generator keeps its Model private, so the update is read from what the next
snapshot measures with the new weights (loss, hidden states, spectral radius), each
recomputed here by autograd from W1 = W0 - lr * clip(dL/dW0).
"""

import numpy as np
import pytest
import torch
from definitions import params64, step_losses, unroll

from engine import Config, Model, train
from engine.theory import spectral_radius

LR = 0.5


def loss_and_grads(cfg, P, batch):
    hs = unroll(cfg, P, batch.x)
    loss = step_losses(batch.kind, P, hs, batch.loss_steps, batch.target).mean(0).mean()
    grads = torch.autograd.grad(loss, list(P.values()))
    return loss.item(), {k: g for k, g in zip(P, grads)}, torch.stack([h.detach() for h in hs])


def clipped(grads, mode, theta):
    if mode == "value":
        return {k: g.clamp(-theta, theta) for k, g in grads.items()}
    total = torch.sqrt(sum((g**2).sum() for g in grads.values()))
    scale = theta / total if mode == "norm" and total > theta else 1.0
    return {k: g * scale for k, g in grads.items()}


def after_one_step(cfg, grads_of_step0):
    """Loss, hidden states of sequence 0 and W_hh after one SGD step with the given gradients, measured on batch 1."""
    model = Model(cfg)
    P1 = {k: (v.detach().double() - LR * grads_of_step0[k]).requires_grad_(True) for k, v in model.params.items()}
    loss, _, hs = loss_and_grads(cfg, P1, model.batch(1))
    return loss, hs[:, 0].numpy(), P1["weight_hh"].detach().numpy()


@pytest.mark.parametrize("mode", ["norm", "value", "none"])
@pytest.mark.parametrize("cell,task", [("rnn", "adding"), ("lstm", "sine")])
def test_one_sgd_step_applies_lr_times_the_clipped_gradient(cell, task, mode):
    base = Config(cell=cell, task=task, seq_len=7, hidden_size=4, batch_size=3, dtype="float64", optimizer="sgd", lr=LR, seed=5)
    model = Model(base)
    loss0, g0, _ = loss_and_grads(base, params64(model), model.batch(0))
    flat = torch.cat([g.abs().flatten() for g in g0.values()])
    total = torch.sqrt((flat**2).sum()).item()
    theta = {"norm": 0.25 * total, "value": float(flat.median()), "none": 1.0}[mode]
    cfg = base.replace(clip=mode, clip_threshold=theta)
    snaps = list(train(cfg, steps=2, every=1))
    assert [s.step for s in snaps] == [0, 1]
    first, second = snaps[0].trace, snaps[1].trace
    assert first.loss == pytest.approx(loss0, rel=1e-12)  # same initial weights, same batch
    assert first.clipped == (mode != "none")
    applied = clipped(g0, mode, theta)
    loss1, hidden1, w_hh1 = after_one_step(cfg, applied)
    assert second.loss == pytest.approx(loss1, rel=1e-10)
    np.testing.assert_allclose(second.hidden, hidden1, rtol=1e-10, atol=1e-13)
    assert second.spectral_radius == pytest.approx(max(spectral_radius(b) for b in np.split(w_hh1, w_hh1.shape[0] // 4)), rel=1e-10)
    if mode != "none":  # the oracle tells the clipped update from the raw one
        raw_loss, raw_hidden, _ = after_one_step(cfg, g0)
        assert abs(raw_loss - loss1) > 1e-6 * abs(loss1) or not np.allclose(raw_hidden, hidden1, rtol=1e-8)
