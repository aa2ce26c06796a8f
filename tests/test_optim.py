"""The engine's SGD and Adam take exactly the steps torch.optim takes with the same gradients."""

from __future__ import annotations

import pytest
import torch

from engine.optim import make_optimizer


@pytest.mark.parametrize("name, lr", [("sgd", 0.1), ("adam", 0.01), ("adam", 1e-4)])
def test_matches_torch_optim_over_several_steps(name, lr):
    gen = torch.Generator().manual_seed(0)
    ours = [torch.randn(5, 3, generator=gen, dtype=torch.float64), torch.randn(7, generator=gen, dtype=torch.float64)]
    theirs = [p.clone().requires_grad_(True) for p in ours]
    mine = make_optimizer(name, ours, lr)
    ref = (torch.optim.SGD if name == "sgd" else torch.optim.Adam)(theirs, lr=lr)
    for _ in range(6):
        grads = [torch.randn(p.shape, generator=gen, dtype=torch.float64) * 10 for p in ours]
        mine.step(grads)
        for p, g in zip(theirs, grads):
            p.grad = g.clone()
        ref.step()
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a, b.detach(), rtol=1e-12, atol=1e-12)
