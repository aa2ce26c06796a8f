"""A Model holds the parameters of one Config and turns a pass over a batch into a Trace."""

from __future__ import annotations

import numpy as np
import torch

from .backend import make_ops, resolve_device
from .bptt import contrib_norms, forward_backward, truncation_blocks
from .cells import GATES, init_params, make_cell
from .clipping import clip_grads, safe_norm
from .config import Config
from .connectivity import connectivity
from .tasks import TASKS, Batch, make_batch
from .theory import GAMMA, bptt_bound, decay_factor, sigma_max, spectral_radius
from .trace import Trace

SATURATED = 0.95  # a gate above this (or below 1 - this) sits on a flat part of its sigmoid/tanh
FLAT_DERIV = 0.1  # a unit whose phi'(a) is below this passes almost no gradient


class Model:
    """Parameters (torch leaf tensors, so torch optimisers can train them) and the cell math."""

    def __init__(self, cfg: Config, backend: str = "auto", params: dict | None = None):
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        self.ops = make_ops(cfg.dtype, self.device, backend)
        self.task = TASKS[cfg.task]
        self.version = 0  # bumped after every optimiser update: invalidates the cached spectra
        self._spectral = None
        if params is None:
            params = init_params(cfg, self.task.input_size, self.task.output_size)
            self._spectral = (0, *self._initial_spectra(params["weight_hh"].numpy()))
        dtype = getattr(torch, cfg.dtype)
        self.params = {k: v.detach().to(self.device, dtype).clone().requires_grad_(True) for k, v in params.items()}
        # Views share memory with the tensors, so optimiser steps show up in them.
        if self.ops.name == "numpy":
            self.views = {k: v.detach().numpy() for k, v in self.params.items()}
        else:
            self.views = {k: v.detach() for k, v in self.params.items()}
        self.cell = make_cell(cfg.cell, cfg.activation)

    def batch(self, index: int = 0) -> Batch:
        """Batch number `index` of this seed (run uses 0, training step s uses s)."""
        cfg = self.cfg
        return make_batch(cfg.task, cfg.seq_len, cfg.batch_size, np.random.default_rng([cfg.seed, index]))

    def inputs(self, batch: Batch):
        """Batch arrays on the backend; class targets become one-hot rows."""
        ops = self.ops
        target = batch.target
        if batch.kind == "ce":
            target = np.eye(self.task.output_size)[target]
        return ops.asarray(batch.x), ops.asarray(target), ops.asindex(batch.loss_steps)

    def forward_backward(self, batch: Batch):
        x, target, loss_steps = self.inputs(batch)
        with np.errstate(all="ignore"):
            return forward_backward(
                self.cell, self.ops, self.views, x, target, loss_steps, batch.kind, self.cfg.tbptt, self.task.loss_at == "every"
            )

    def clip(self, grads: dict):
        return clip_grads(self.ops, grads, self.cfg.clip, self.cfg.clip_threshold)

    def record(self, batch: Batch, p, clip_result, conn: bool = False, conn_rows=None, conn_batch=None) -> Trace:
        """Summarise a pass as a Trace of numpy arrays."""
        cfg, ops = self.cfg, self.ops
        H = cfg.hidden_size
        grads, before, after, clipped = clip_result
        with np.errstate(all="ignore"):
            dh = safe_norm(ops.to_numpy(p.dh), axis=-1)  # (T, B)
            grad_h = dh.mean(axis=1)
            band = np.percentile(dh, [10, 90], axis=1).T
            grad_c = safe_norm(ops.to_numpy(p.dc), axis=-1).mean(axis=1) if p.dc is not None else None
            grad_last = safe_norm(ops.to_numpy(p.dh_last), axis=-1).mean(axis=1) if p.dh_last is not None else None
            hprev = p.tape.hs[:-1]
            contrib = contrib_norms(ops.to_numpy(p.dah), ops.to_numpy(hprev), cfg.batch_size)
            act = ops.to_numpy(p.tape.act)
            gates, saturation = self._gate_records(act, H)
            hs = ops.to_numpy(p.tape.hs[1:])
            radii, sigmas = self.spectra()
            gamma = GAMMA[cfg.activation] if cfg.cell == "rnn" else None
            bound = None if gamma is None else bptt_bound(safe_norm(ops.to_numpy(p.local), axis=-1), gamma * sigmas[0])
            fit_on = grad_h if grad_last is None else grad_last
            conn_x = conn_h = rows = None
            if conn:
                x = self.inputs(batch)[0]
                wanted = np.array(batch.row_targets())  # a writable copy of a broadcast view
                row_targets = ops.asarray(np.eye(self.task.output_size)[wanted] if batch.kind == "ce" else wanted)
                conn_x, conn_h, rows = connectivity(self.cell, ops, self.views, p.tape, x, row_targets, batch.kind, conn_rows, conn_batch)
            loss = float(np.mean(ops.to_numpy(p.loss_seq).astype(np.float64)))
        finite_h = np.isfinite(hs).reshape(cfg.seq_len, -1).all(axis=1)
        finite_g = np.isfinite(dh).all(axis=1)
        return Trace(
            config=cfg,
            loss=loss,
            loss_steps=np.asarray(batch.loss_steps),
            grad_h=grad_h,
            grad_h_band=band,
            grad_h_last=grad_last,
            grad_c=grad_c,
            contrib=contrib,
            gates=gates,
            saturation=saturation,
            hidden=hs[:, 0].astype(np.float64),
            grad_norm_before_clip=before,
            grad_norm_after_clip=after,
            clipped=bool(clipped),
            param_grad_norms={k: safe_norm(ops.to_numpy(g)) for k, g in grads.items()},
            spectral_radius=max(radii),
            sigma_max=max(sigmas),
            gamma=gamma,
            block_radius=dict(zip(GATES[cfg.cell] or ("h",), radii)),
            bound=bound,
            decay_factor=decay_factor(fit_on, last=int(batch.loss_steps[-1]), first=truncation_blocks(cfg.seq_len, cfg.tbptt)[0][1]),
            overflow_step=None if finite_h.all() else int(np.argmin(finite_h)),
            overflow_grad_step=None if finite_g.all() else int(np.nonzero(~finite_g)[0].max()),
            conn_x=conn_x,
            conn_h=conn_h,
            conn_rows=rows,
        )

    def blocks(self, w=None) -> list:
        """The H x H recurrent blocks of W_hh (one per gate; one for the vanilla RNN)."""
        H = self.cfg.hidden_size
        w = self.ops.to_numpy(self.views["weight_hh"]) if w is None else w
        w = np.asarray(w, dtype=np.float64)
        return [w[k * H : (k + 1) * H] for k in range(w.shape[0] // H)]

    def spectra(self):
        """Spectral radius and sigma_max of each recurrent block, recomputed only after an update."""
        if self._spectral is None or self._spectral[0] != self.version:
            blocks = self.blocks()
            self._spectral = (self.version, [spectral_radius(b) for b in blocks], [sigma_max(b) for b in blocks])
        return self._spectral[1], self._spectral[2]

    def _initial_spectra(self, w):
        """Fresh weights were rescaled to radius = recurrent_scale; orthogonal/identity blocks also have sigma_max = scale."""
        scale = self.cfg.recurrent_scale
        blocks = self.blocks(w)
        sigmas = [scale] * len(blocks) if self.cfg.init in ("orthogonal", "identity") else [sigma_max(b) for b in blocks]
        return [scale] * len(blocks), sigmas

    def _gate_records(self, act: np.ndarray, H: int):
        """Batch-mean gate activations (T, H) and the share of saturated entries per step."""
        names = GATES[self.cfg.cell]
        if not names:  # vanilla RNN: act holds phi'(a); flat where it is tiny (saturated tanh, dead ReLU)
            return {}, {"h": (act < FLAT_DERIV).mean(axis=(1, 2))}
        T, B, G = act.shape[0], act.shape[1], len(names)
        means = act.sum(axis=1).astype(np.float64) / B  # (T, G*H), one pass over all gates (values in [-1, 1])
        # One pass for saturation too: sigmoid gates sit flat near 0 and 1, tanh candidates near -1 and 1.
        tanh_like = [n in ("g", "n") for n in names]
        dtype = getattr(torch, act.dtype.name)
        centre = torch.tensor(np.repeat([0.0 if t else 0.5 for t in tanh_like], H), dtype=dtype)
        half_width = torch.tensor(np.repeat([SATURATED if t else SATURATED - 0.5 for t in tanh_like], H), dtype=dtype)
        flat = torch.from_numpy(act).sub(centre).abs_().gt_(half_width)  # 1 where flat, 0 elsewhere (torch: ~2x numpy here)
        flat = flat.view(T, B, G, H).sum((1, 3)).numpy().astype(np.float64) / (B * H)  # (T, G)
        gates = {name: means[:, k * H : (k + 1) * H] for k, name in enumerate(names)}
        saturation = {name: flat[:, k] for k, name in enumerate(names)}
        return gates, saturation


def run(cfg: Config, connectivity: bool = False, conn_rows=None, conn_batch: int | None = None, backend: str = "auto") -> Trace:
    """One forward + BPTT pass on batch 0 of the seed, recording every per-step trace."""
    model = Model(cfg, backend=backend)
    batch = model.batch(0)
    p = model.forward_backward(batch)
    return model.record(batch, p, model.clip(p.grads), conn=connectivity, conn_rows=conn_rows, conn_batch=conn_batch)
