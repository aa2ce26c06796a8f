"""SGD and Adam as a few tensor updates: the same arithmetic as torch.optim's defaults, without its import cost.

The first torch.optim optimiser built in a process imports torch._dynamo and sympy: about
2.5 s on an idle 2-core machine and over 10 s on a busy one, paid by the first Run click.
These two rules need none of it. tests/test_optim.py checks them against torch.optim.
"""

from __future__ import annotations

import torch


class SGD:
    """p <- p - lr g (torch.optim.SGD with no momentum, dampening or weight decay)."""

    def __init__(self, params: list[torch.Tensor], lr: float):
        self.params, self.lr = params, lr

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        for p, g in zip(self.params, grads):
            p.sub_(g, alpha=self.lr)


class Adam:
    """Adam (Kingma & Ba 2015) with torch's defaults: betas (0.9, 0.999), eps 1e-8, bias correction, no weight decay."""

    def __init__(self, params: list[torch.Tensor], lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m.lerp_(g, 1 - b1)  # m <- b1 m + (1 - b1) g
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / c2**0.5).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / c1)


def make_optimizer(name: str, params: list[torch.Tensor], lr: float):
    """The optimiser a Config names ("sgd" or "adam")."""
    return SGD(params, lr) if name == "sgd" else Adam(params, lr)
