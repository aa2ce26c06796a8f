"""The phase diagram: how far back the gradient survives, for many recurrent scales at once, as one batched job.

Each swept value gets exactly the parameters run() builds for it (a Model per value, from
the same seed), and all S weight sets are stacked: the S x B sequences then advance
together through the one forward loop (Cell.unroll_projected) and the one backward sweep
(bptt.sweep) that run() uses, with the cell's own `step` and `step_back` (one baddbmm / bmm
per step), so the result equals S separate runs. The loss is the last step's alone: grad_h for a task
with a loss at the last step only, grad_h_last for a task with a loss at every step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

import numpy as np
import torch

from . import memory
from .bptt import loss_and_grad, sweep
from .config import Config, ConfigError
from .cost import estimate
from .model import Model, initial_params
from .trace import _plain

AXES = ("recurrent_scale", "forget_bias")  # Config fields a phase diagram can sweep
MAX_VALUES = 401  # swept values per diagram


@dataclass(frozen=True)
class Phase:
    """log10 of how much of the last step's gradient is left k steps back, for every swept value (numpy)."""

    config: Config  # the configuration the values are swept from (its own value of `axis` is the current one)
    axis: str  # the swept Config field: "recurrent_scale" (default) or "forget_bias" (LSTM)
    scales: np.ndarray  # (S,) the swept values of `axis`
    distance: np.ndarray  # (T,) k = 0 .. T-1 steps back from the last step
    log_ratio: np.ndarray  # (S, T) log10 grad_h[T-1-k] / grad_h[T-1]; -inf where the gradient is exactly 0
    grad_h: np.ndarray  # (S, T) batch mean of ||d loss_{T-1} / dh_t|| in time order t (= run().grad_h or .grad_h_last)
    loss: np.ndarray  # (S,) batch mean of the last step's loss
    spectral_radius: np.ndarray  # (S,) as run() reports it (gated cells: the largest over the gate blocks)
    sigma_max: np.ndarray  # (S,) largest singular value of the recurrent weights
    gamma: float | None  # bound of phi', where the (gamma sigma_max)^k bound applies (RNN, IndRNN, LRU); else None
    boundary: float | None  # the value of `axis` where gamma * sigma_max = 1 (recurrent_scale only); else None
    overflow_step: np.ndarray  # (S,) first step whose hidden state is non-finite; -1: finite throughout
    overflow_grad_step: np.ndarray  # (S,) first step back from T-1 with a non-finite gradient; -1: finite throughout
    horizon: int  # lowest step the last step's gradient reaches (truncated BPTT); 0 for full BPTT

    @property
    def overflow(self) -> np.ndarray:
        """(S,) True where the forward state or the gradient overflowed the run's dtype."""
        return (self.overflow_step >= 0) | (self.overflow_grad_step >= 0)

    def to_dict(self) -> dict:
        """Strict-JSON-ready dict: non-finite numbers and 'no overflow' (-1) become null; 'nonfinite' says whether any did."""
        flag = [False]
        steps = ("overflow_step", "overflow_grad_step")
        out = {f.name: _plain(getattr(self, f.name), flag) for f in fields(self) if f.name != "config" and f.name not in steps}
        for name in steps:
            out[name] = [None if v < 0 else int(v) for v in getattr(self, name)]
        out["overflow"] = self.overflow.tolist()
        out["config"] = self.config.to_dict()
        out["nonfinite"] = flag[0]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)


def default_axis(cell_name: str) -> str:
    """What teaches best: the forget-gate bias for a cell that has one (LSTM), else the recurrent scale."""
    from .cells import CELLS

    return "forget_bias" if CELLS[cell_name].has_forget_bias else "recurrent_scale"


def check_values(cfg: Config, values, axis: str = "recurrent_scale") -> np.ndarray:
    """The swept values as a float64 array; ValueError naming the axis or the bad value (Config checks each value's range)."""
    return _configs(cfg, values, axis)[0]


def _configs(cfg: Config, values, axis: str):
    """(values as float64, one Config per value), or ValueError naming the axis or the bad value."""
    from .cells import CELLS

    if axis not in AXES:
        raise ValueError(f"axis: must be one of {', '.join(AXES)} (got {axis!r})")
    if axis == "forget_bias" and not CELLS[cfg.cell].has_forget_bias:
        raise ValueError(f"axis: forget_bias applies to cells with a forget gate (LSTM) only, not to cell={cfg.cell!r}")
    v = np.asarray(values, dtype=np.float64).ravel()
    if not 1 <= len(v) <= MAX_VALUES:
        raise ValueError(f"scales: give 1 to {MAX_VALUES} values (got {len(v)})")
    cfgs = []
    for value in v:
        try:
            cfgs.append(cfg.replace(**{axis: float(value)}))
        except ConfigError as err:
            raise ValueError(f"scales: the value {value:g} of {axis} {err.reason}") from None
    return v, cfgs


def phase(cfg: Config, scales, axis: str = "recurrent_scale") -> Phase:
    """Sweep `axis` over `scales` from cfg: one batched forward + BPTT of the last step's loss for all values at once."""
    values, cfgs = _configs(cfg, scales, axis)
    memory.check_config(cfg, estimate(cfg).bytes * len(values), "this phase diagram")  # all values' tapes at once
    model = Model(cfg)  # the data, device and dtype; they do not depend on the swept value
    cell, T = model.cell, cfg.seq_len
    raw = [initial_params(c, cell) for c in cfgs]  # float64, exactly as run() draws them for each value
    spectra = [cell.spectra(p, c, fresh=True) for p, c in zip(raw, cfgs)]
    batch = model.batch(0)
    x, target = model.inputs(batch)
    with torch.no_grad():
        flat = {k: torch.stack([p[k] for p in raw]).to(model.device, model.dtype) for k in raw[0]}  # (S, *shape)
        each = [{k: v[s] for k, v in flat.items()} for s in range(len(values))]  # value s's parameters, as run() holds them
        P = {k: v.unsqueeze(1) if v.dim() == 2 else v for k, v in flat.items()}  # vectors (S, 1, n) broadcast over sequences
        xp = torch.stack([cell.project(p, x) for p in each], 1)  # (T, S, B, P), each exactly as run() projects it
        tape = cell.unroll_projected(P, xp)  # the generic forward loop, on all S weight sets at once
        peak = tape.hs[1:].abs().amax(-1)  # (T, S, B) largest |h_t| per sequence, NaN if any is
        local, loss = _last_loss(cell, each, tape.hs[-1], x, target[-1:], batch.kind)
        block = cfg.truncation_blocks()[0]  # the block that holds step T-1
        horizon = block[1]  # it reaches back to here
        norms = _norms(sweep(cell, P, tape, {T - 1: local}, [block], pre=False).dh)  # (T, S, B) ||dL/dh_t|| per sequence
    with np.errstate(all="ignore"):
        grad_h = norms.mean(axis=-1).T  # (S, T)
        log_ratio = np.log10(grad_h[:, ::-1] / grad_h[:, -1:])
    radius = np.array([max(r) for _, r, _ in spectra])
    sigma = np.array([max(s) for _, _, s in spectra])
    gamma = cell.gamma(cfg)
    return Phase(
        config=cfg,
        axis=axis,
        scales=values,
        distance=np.arange(T),
        log_ratio=log_ratio,
        grad_h=grad_h,
        loss=loss,
        spectral_radius=radius,
        sigma_max=sigma,
        gamma=gamma,
        boundary=_boundary(values, sigma, gamma) if axis == "recurrent_scale" else None,
        overflow_step=_first_bad(peak, forward=True),
        overflow_grad_step=_first_bad(norms, forward=False),
        horizon=int(horizon),
    )


def _last_loss(cell, each, h_last, x, target, kind):
    """dL/dh_{T-1} (S, B, W) of the last step's loss, and that loss (S,), per value exactly as forward_backward computes it."""
    steps = torch.as_tensor([0], device=x.device)
    grads, losses = [], []
    for s, P in enumerate(each):  # the read-out of one step: a few small ops per value, outside the time loop
        hl = h_last[s].unsqueeze(0)
        y = cell.features(P, hl, x[-1:]) @ P["head_weight"].T + P["head_bias"]
        loss_seq, dy = loss_and_grad(kind, y, target, per_step=False)
        dstate, _ = cell.features_back(P, dy @ P["head_weight"], hl, x[-1:], steps)
        grads.append(dstate[0])
        losses.append(float(np.mean(loss_seq.cpu().numpy().astype(np.float64))))
    return torch.stack(grads), np.array(losses)


def _norms(d: torch.Tensor) -> np.ndarray:
    """||d[..., :]|| in float64 as clipping.safe_norm computes it (scaled by the largest magnitude), in torch on d's device."""
    m = d.abs().amax(-1, keepdim=True)  # largest |d|, NaN if any is (vector_norm's ord=inf is ~6x slower here)
    ok = torch.isfinite(m) & (m > 0)
    scale = torch.where(ok, m, torch.ones_like(m))
    n = torch.linalg.vector_norm(d / scale, dim=-1, keepdim=True).double() * scale  # entries in [0, 1]: squares cannot overflow
    return torch.where(ok, n, m.double()).squeeze(-1).cpu().numpy()  # an inf or NaN element: inf / NaN, as safe_norm


def _first_bad(a, forward: bool) -> np.ndarray:
    """(S,) first step (forward: from t = 0; backward: from T-1 down) with a non-finite value in any sequence; -1 if none."""
    a = a.cpu().numpy() if isinstance(a, torch.Tensor) else a
    bad = ~np.isfinite(a).all(axis=-1)  # (T, S)
    order = bad if forward else bad[::-1]
    first = np.argmax(order, axis=0)
    step = first if forward else a.shape[0] - 1 - first
    return np.where(bad.any(axis=0), step, -1).astype(np.int64)


def _boundary(values, sigma, gamma) -> float | None:
    """The scale where gamma * sigma_max = 1: sigma_max grows in proportion to the scale (W_hh = scale * W0 / rho(W0))."""
    ok = np.isfinite(sigma) & (sigma > 0) & (values > 0)
    if gamma is None or not ok.any():
        return None
    per_scale = sigma[ok] / values[ok]  # sigma_max(W0) / rho(W0), the same for every scale
    return float(1.0 / (gamma * per_scale[-1]))
