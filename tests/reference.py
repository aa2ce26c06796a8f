"""Independent autograd references for the engine's hand-written BPTT (torch is the truth)."""

from __future__ import annotations

import numpy as np
import torch

from engine.model import Model

NN_CELLS = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
CELL_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def nn_cell(model: Model) -> torch.nn.Module:
    """A torch.nn cell loaded with the model's weights (float64)."""
    cfg = model.cfg
    kwargs = {"nonlinearity": cfg.activation} if cfg.cell == "rnn" else {}
    I = model.params["weight_ih"].shape[1]
    cell = NN_CELLS[cfg.cell](I, cfg.hidden_size, **kwargs).double()
    cell.load_state_dict({k: model.params[k].detach().double().clone() for k in CELL_KEYS})
    return cell


def functional_step(cfg, P, x, state):
    """One cell step written directly from the equations (for activations torch.nn lacks)."""
    phi = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda a: a}[cfg.activation]
    return phi(x @ P["weight_ih"].T + P["bias_ih"] + state @ P["weight_hh"].T + P["bias_hh"])


def task_loss(batch, ys: list, per_step: bool = False):
    """Per-sequence loss (B,) of the predictions ys at the batch's loss steps, as in the task."""
    target = torch.as_tensor(batch.target)
    y = torch.stack(ys)  # (L, B, O)
    if batch.kind == "mse":
        step = ((y - target) ** 2).mean(-1)
    else:
        step = torch.nn.functional.cross_entropy(y.permute(1, 2, 0), target.long().T, reduction="none").T
    return step if per_step else step.mean(0)


def autograd_pass(model: Model, batch, detach_every: int = 0, use_nn: bool = True):
    """Unroll with torch autograd; return loss, parameter grads, dL_b/dh_t and dL_b/dc_t (T, B, H)."""
    cfg = model.cfg
    P = {k: v.detach().double().clone().requires_grad_(True) for k, v in model.params.items()}
    cell = None
    if use_nn:
        module = nn_cell(model)
        weights = {k: P[k] for k in CELL_KEYS}

        def cell(xt, state):
            return torch.func.functional_call(module, weights, (xt, state))

    x = torch.as_tensor(batch.x, dtype=torch.float64)
    T, B, _ = x.shape
    h = torch.zeros(B, cfg.hidden_size, dtype=torch.float64)
    c = torch.zeros_like(h)
    hs, cs = [], []
    for t in range(T):
        if detach_every and t % detach_every == 0:
            h, c = h.detach(), c.detach()
        if cfg.cell == "lstm":
            h, c = cell(x[t], (h, c))
            c.retain_grad()
            cs.append(c)
        elif cell is not None:
            h = cell(x[t], h)
        else:
            h = functional_step(cfg, P, x[t], h)
        h.retain_grad()
        hs.append(h)
    ys = [hs[t] @ P["head_weight"].T + P["head_bias"] for t in batch.loss_steps]
    loss = task_loss(batch, ys).mean()
    loss.backward()
    grads = {k: v.grad.detach().clone() for k, v in P.items()}
    dh = torch.stack([B * _grad(h) for h in hs])
    dc = torch.stack([B * _grad(c) for c in cs]) if cs else None
    return loss.item(), grads, dh, dc, torch.stack([h.detach() for h in hs])


def _grad(a: torch.Tensor) -> torch.Tensor:
    """a.grad, or zeros where no gradient reached a (beyond a truncation horizon)."""
    return a.grad if a.grad is not None else torch.zeros_like(a)


def per_seq_norm_mean(a: torch.Tensor) -> np.ndarray:
    return a.norm(dim=-1).mean(dim=-1).numpy()


def equation_step(cfg, P, x, state):
    """One step of every cell written straight from its equations (torch autograd differentiates it).

    state: (h,) or (h, c); the LRU's h is a complex tensor. Returns (new state, what the head reads).
    """
    phi = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda a: a}[cfg.activation]
    h = state[0]
    if cfg.cell == "rnn":
        h = phi(x @ P["weight_ih"].T + P["bias_ih"] + h @ P["weight_hh"].T + P["bias_hh"])
        return (h,), h
    if cfg.cell == "indrnn":
        h = phi(x @ P["weight_ih"].T + P["bias_ih"] + P["u"] * h)
        return (h,), h
    if cfg.cell == "lstm":
        i, f, g, o = (x @ P["weight_ih"].T + P["bias_ih"] + h @ P["weight_hh"].T + P["bias_hh"]).chunk(4, -1)
        c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return (h, c), h
    if cfg.cell == "gru":
        xr, xz, xn = (x @ P["weight_ih"].T + P["bias_ih"]).chunk(3, -1)
        hr, hz, hn = (h @ P["weight_hh"].T + P["bias_hh"]).chunk(3, -1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        return (h,), h
    if cfg.cell == "lru":
        lam = torch.exp(torch.complex(P["log_mag"], P["theta"]))
        b = torch.complex(P["B_re"], P["B_im"])
        c = torch.complex(P["C_re"], P["C_im"])
        h = lam * h + P["gamma_norm"] * (x.to(b.dtype) @ b.T)
        return (h,), (h @ c.T).real + x @ P["D"].T
    raise ValueError(cfg.cell)


def _start(model: Model, batch, requires_grad: bool):
    """float64 copies of the parameters, the inputs (T, B, I) and the zero state of equation_step."""
    cfg = model.cfg
    P = {k: v.detach().double().clone().requires_grad_(requires_grad) for k, v in model.params.items()}
    x = torch.as_tensor(batch.x, dtype=torch.float64)
    h = torch.zeros(x.shape[1], cfg.hidden_size, dtype=torch.complex128 if cfg.cell == "lru" else torch.float64)
    return P, x, (h, torch.zeros_like(h)) if cfg.cell == "lstm" else (h,)


def equation_pass(model: Model, batch, detach_every: int = 0):
    """Autograd through equation_step: loss, parameter grads, dL_b/dh_t (T, B, S; complex h as [Re | Im])."""
    cfg = model.cfg
    P, x, state = _start(model, batch, requires_grad=True)
    T, B, _ = x.shape
    hs, feats = [], []
    for t in range(T):
        if detach_every and t % detach_every == 0:
            state = tuple(s.detach() for s in state)
        state, feat = equation_step(cfg, P, x[t], state)
        state[0].retain_grad()
        hs.append(state[0])
        feats.append(feat)
    ys = [feats[t] @ P["head_weight"].T + P["head_bias"] for t in batch.loss_steps]
    loss = task_loss(batch, ys).mean()
    loss.backward()
    grads = {k: v.grad.detach().clone() for k, v in P.items()}

    def real(g):
        return torch.cat([g.real, g.imag], -1) if g.is_complex() else g

    dh = torch.stack([B * real(_grad(h)) for h in hs])
    return loss.item(), grads, dh, torch.stack([f.detach() for f in feats])


def per_step_grads(model: Model, batch, names) -> list:
    """[t] -> {name: dL/dP_t}: each step reads its own copy P_t of the named parameters, so dL/dP_t is step t's term of dL/dP."""
    cfg = model.cfg
    P, x, state = _start(model, batch, requires_grad=False)
    copies, feats = [], []
    for t in range(x.shape[0]):
        own = {k: P[k].clone().requires_grad_(True) for k in names}
        copies.append(own)
        state, feat = equation_step(cfg, {**P, **own}, x[t], state)
        feats.append(feat)
    ys = [feats[t] @ P["head_weight"].T + P["head_bias"] for t in batch.loss_steps]
    task_loss(batch, ys).mean().backward()
    return [{k: _grad(v) for k, v in own.items()} for own in copies]
