"""A Model holds the parameters of one Config and turns a pass over a batch into a Trace."""

from __future__ import annotations

import numpy as np
import torch

from . import memory
from .backend import keep_freed_memory, resolve_device
from .backward_terms import record_terms
from .bptt import forward_backward
from .cells import get_cell
from .clipping import clip_grads, safe_norm
from .config import Config
from .connectivity import connectivity
from .contrib import contributions
from .cost import estimate
from .data import ALPHABET, windows_for
from .example import example_record
from .tasks import TASKS, Batch, make_batch
from .theory import bptt_bound, decay_factor
from .trace import Trace

SATURATED = 0.95  # a gate above this (or below 1 - this) sits on a flat part of its sigmoid/tanh
FLAT_DERIV = 0.1  # a unit whose phi'(a) is below this passes almost no gradient


def initial_params(cfg: Config, cell) -> dict:
    """The cell's parameters (float64), then a linear read-out (head_weight, head_bias), all from the seed's generator."""
    task = TASKS[cfg.task]
    gen = torch.Generator().manual_seed(cfg.seed)
    bound = 1.0 / np.sqrt(cfg.hidden_size)

    def uniform(*shape):
        return (torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound

    params = cell.init_params(cfg, task.input_size, gen, uniform)
    params["head_weight"] = uniform(task.output_size, cfg.hidden_size)
    params["head_bias"] = uniform(task.output_size)
    return params


class Model:
    """Parameters (torch leaf tensors, so torch optimisers can train them) and the cell that steps them."""

    def __init__(self, cfg: Config, data=None):
        """data: the series or text of a data task (engine/data.py); None for synthetic tasks and bundled data. DataError when unusable."""
        keep_freed_memory()
        self.cfg = cfg
        self.windows = windows_for(cfg.task, cfg.seq_len, data)  # before any allocation: bad data fails fast
        self.device = resolve_device(cfg.device)
        self.dtype = getattr(torch, cfg.dtype)
        self.task = TASKS[cfg.task]
        self.cell = get_cell(cfg.cell, cfg.activation)
        self.version = 0  # bumped after every optimiser update: invalidates the cached spectra
        params = self._init_params()
        self.params = {k: v.to(self.device, self.dtype).requires_grad_(True) for k, v in params.items()}
        self.views = {k: v.detach() for k, v in self.params.items()}  # share memory: optimiser steps show up here
        self._spectral = (0, *self.cell.spectra(params, cfg, fresh=True))

    def _init_params(self) -> dict:
        return initial_params(self.cfg, self.cell)

    def batch(self, index: int = 0) -> Batch:
        """Batch number `index` of this seed (run uses 0, training step s uses s)."""
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, index])
        if self.windows is None:
            return make_batch(cfg.task, cfg.seq_len, cfg.batch_size, rng)
        return self.window_batch(self.windows.train_starts(cfg.batch_size, rng))

    def window_batch(self, starts) -> Batch:
        """Windows of a data task starting at `starts`: a loss at every step."""
        x, target = self.windows.window(np.asarray(starts))
        return Batch(x, target, np.arange(self.cfg.seq_len), self.task.kind)

    def example_batch(self) -> Batch:
        """The one sequence the task chart shows: the first test window of a data task, else sequence 0 of batch 0 (what run() measures)."""
        if self.windows is not None:
            return self.window_batch([self.windows.example_start()])
        b = self.batch(0)
        return Batch(b.x[:, :1], b.target[:, :1], b.loss_steps, b.kind)

    def predict(self, x) -> np.ndarray:
        """(T, B, O) float64 outputs of the read-out at every step for inputs x (T, B, I), with the current weights."""
        X = self.tensor(x)
        with torch.no_grad():
            tape = self.cell.unroll(self.views, X)
            feats = self.cell.features(self.views, tape.hs[1:], X)
            y = feats @ self.views["head_weight"].T + self.views["head_bias"]
        return _np(y).astype(np.float64)

    def tensor(self, a) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a), dtype=self.dtype, device=self.device)

    def inputs(self, batch: Batch):
        """Batch tensors on the device; class targets become one-hot rows."""
        target = np.eye(self.task.output_size)[batch.target] if batch.kind == "ce" else batch.target
        return self.tensor(batch.x), self.tensor(target)

    def forward_backward(self, batch: Batch):
        x, target = self.inputs(batch)
        with torch.no_grad():
            return forward_backward(
                self.cell, self.views, x, target, batch.loss_steps, batch.kind, self.cfg.truncation_blocks(), self.task.loss_at == "every"
            )

    def clip(self, grads: dict):
        return clip_grads(grads, self.cfg.clip, self.cfg.clip_threshold)

    def spectra(self):
        """(names, radii, sigma_maxes) of the recurrent blocks, recomputed only after an update."""
        if self._spectral[0] != self.version:
            self._spectral = (self.version, *self.cell.spectra(self.views, self.cfg, fresh=False))
        return self._spectral[1:]

    def record(
        self, batch: Batch, p, clip_result, conn=False, conn_rows=None, conn_batch=None, conn_full=False, terms=False, first_batch=False
    ) -> Trace:
        """Summarise a pass as a Trace of numpy arrays (the record boundary: tensors become numpy here).

        terms=True also records each step's backward-formula terms (engine/backward_terms.py): one more step_back sweep.
        first_batch=True: the pass ran on batch 0 (run(), training's step 0), so the task example reads its features.
        """
        cfg = self.cfg
        grads, before, after, clipped = clip_result
        blocks = cfg.truncation_blocks()
        with np.errstate(all="ignore"):
            dh = safe_norm(_np(p.dh), axis=-1)  # (T, B)
            grad_h = dh.mean(axis=1)
            band = np.percentile(dh, [10, 90], axis=1).T
            grad_c = safe_norm(_np(p.dc), axis=-1).mean(axis=1) if p.dc is not None else None
            grad_last = safe_norm(_np(p.dh_last), axis=-1).mean(axis=1) if p.dh_last is not None else None
            contrib = contributions(self.cell, self.views, p.tape, p.dah, cfg.batch_size)
            gates, saturation = self._gate_records(p.tape)
            feats = _np(p.feats)
            names, radii, sigmas = self.spectra()
            gamma = self.cell.gamma(cfg)
            bound = None if gamma is None else bptt_bound(safe_norm(_np(p.local), axis=-1), gamma * sigmas[0])
            fit_on = grad_h if grad_last is None else grad_last
            conn_x = conn_h = rows = None
            truncated = cfg.tbptt is not None and not conn_full
            if conn:
                x = self.inputs(batch)[0]
                wanted = np.array(batch.row_targets())  # a writable copy of a broadcast view
                row_targets = self.tensor(np.eye(self.task.output_size)[wanted] if batch.kind == "ce" else wanted)
                horizon = blocks if truncated else None
                conn_x, conn_h, rows = connectivity(
                    self.cell, self.views, p.tape, x, row_targets, batch.kind, conn_rows, self._conn_batch(conn_batch), horizon
                )
            loss = float(np.mean(_np(p.loss_seq).astype(np.float64)))
        finite_h = np.isfinite(_np(p.tape.hs[1:])).reshape(cfg.seq_len, -1).all(axis=1)
        finite_g = np.isfinite(dh).all(axis=1)
        decay = self.cell.unit_decay(self.views)
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
            hidden=feats[:, 0].astype(np.float64),
            grad_norm_before_clip=before,
            grad_norm_after_clip=after,
            clipped=bool(clipped),
            param_grad_norms={k: safe_norm(g) for k, g in grads.items()},
            spectral_radius=max(radii),
            sigma_max=max(sigmas),
            gamma=gamma,
            block_radius=dict(zip(names, radii)),
            bound=bound,
            decay_factor=decay_factor(fit_on, last=int(batch.loss_steps[-1]), first=blocks[0][1]),
            overflow_step=None if finite_h.all() else int(np.argmin(finite_h)),
            overflow_grad_step=None if finite_g.all() else int(np.nonzero(~finite_g)[0].max()),
            conn_x=conn_x,
            conn_h=conn_h,
            conn_rows=rows,
            conn_truncated=bool(conn and truncated),
            blocks=np.array(blocks, dtype=np.int64).reshape(-1, 3),
            unit_decay=decay,
            grad_h_units=unit_magnitudes(p.dh, self.cell.complex_state).astype(cfg.dtype),
            cell_info=self.cell.describe(),
            backward=record_terms(self.cell, self.views, p, blocks) if terms else None,
            data=self._data_record(batch),
            example=self.example(p.feats if first_batch else None),
        )

    def _conn_batch(self, conn_batch):
        """Text: connectivity of the first sequence alone, so its axes can name that sequence's characters."""
        return 1 if self.windows is not None and self.windows.kind == "text" else conn_batch

    def _data_record(self, batch: Batch) -> dict | None:
        """The data's source, hash, split and normalisation; for text also the first sequence's characters (connectivity's axes)."""
        if self.windows is None:
            return None
        info = dict(self.windows.info)
        if self.windows.kind == "text":
            info["input_chars"] = "".join(ALPHABET[i] for i in batch.x[:, 0].argmax(-1))
            info["target_chars"] = "".join(ALPHABET[i] for i in batch.target[:, 0])
        return info

    def example(self, feats=None) -> dict:
        """The task chart's record: one input sequence, its target and this model's prediction now (engine/example.py).

        feats: the pass's (T, B, H) features when that pass ran on batch 0 of a synthetic task, whose sequence 0
        is the example: the read-out of its row is the prediction, with no second unroll.
        """
        b = self.example_batch()
        if feats is None or self.windows is not None:
            return example_record(self.cfg.task, b, self.predict(b.x)[:, 0])
        with torch.no_grad():
            y = feats[:, :1] @ self.views["head_weight"].T + self.views["head_bias"]  # (T, 1, O)
        return example_record(self.cfg.task, b, _np(y).astype(np.float64)[:, 0])

    def _gate_records(self, tape):
        """Batch-mean gate activations (T, H) and the share of saturated entries per step."""
        if tape.gates is None:  # no gates: units are flat where phi'(a) is tiny (saturated tanh, dead ReLU); none for the LRU
            return {}, ({} if tape.deriv is None else {"h": _np((tape.deriv < FLAT_DERIV).double().mean((1, 2)))})
        names, kinds = list(self.cell.gates), [g.activation for g in self.cell.gates.values()]
        act = tape.gates
        T, B, GH = act.shape
        H = GH // len(names)
        means = _np(act.sum(1)).astype(np.float64) / B  # (T, G*H), gate values in [-1, 1]: a float32 sum loses nothing visible
        tanh_like = torch.tensor([k == "tanh" for k in kinds], device=act.device).repeat_interleave(H)
        centre = torch.where(tanh_like, 0.0, 0.5).to(act.dtype)
        half_width = torch.where(tanh_like, SATURATED, SATURATED - 0.5).to(act.dtype)
        flat = (act - centre).abs_().gt_(half_width)
        flat = _np(flat.view(T, B, len(names), H).sum((1, 3))).astype(np.float64) / (B * H)  # (T, G), counted as integers
        gates = {name: means[:, k * H : (k + 1) * H] for k, name in enumerate(names)}
        saturation = {name: flat[:, k] for k, name in enumerate(names)}
        return gates, saturation


def unit_magnitudes(dh: torch.Tensor, complex_state: bool) -> np.ndarray:
    """(T, H) float64 batch mean of |dL_b/dh_t,i| from (T, B, S); a unit stored as a real pair (LRU) counts with its modulus."""
    d = dh.detach().double()
    if complex_state:  # the cell declares its state complex, stored as [Re | Im]
        H = d.shape[-1] // 2
        mag = torch.hypot(d[..., :H], d[..., H:])  # hypot: no overflow from squaring
    else:
        mag = d.abs()
    return _np(mag.mean(1))


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy()


def run(
    cfg: Config,
    connectivity: bool = False,
    conn_rows=None,
    conn_batch: int | None = None,
    conn_full: bool = False,
    terms: bool = False,
    data=None,
) -> Trace:
    """One forward + BPTT pass on batch 0 of the seed, recording every per-step trace.

    data: the series (array, CSV text) or text (str) of task 'series' or 'text' (engine/data.py); a bad one raises DataError.
    connectivity=True also records conn_x / conn_h. Under truncated BPTT they show what the
    truncated training gradient carries (exactly zero beyond each loss step's horizon), unless
    conn_full=True asks for the full dependence; trace.conn_truncated says which.
    terms=True also records trace.backward, the parts of each step back that only the formula view and the backward
    animation show (one more step_back sweep; off by default: pay for it where it is shown, see step_terms).
    Raises engine.memory.TooBig (a MemoryError) before allocating when the estimate exceeds the free memory.
    """
    memory.check_config(cfg, estimate(cfg, connectivity, conn_rows=conn_rows, conn_batch=conn_batch).bytes)
    model = Model(cfg, data)
    batch = model.batch(0)
    p = model.forward_backward(batch)
    clip = model.clip(p.grads)
    return model.record(
        batch, p, clip, conn=connectivity, conn_rows=conn_rows, conn_batch=conn_batch, conn_full=conn_full, terms=terms, first_batch=True
    )


def step_terms(cfg: Config, data=None) -> dict:
    """run(cfg, terms=True).backward without the rest of the record: the pass, then the terms of each step back.

    For a page that shows the formula view only when asked: it adds these to the Trace it already has
    (dataclasses.replace(trace, backward=step_terms(cfg))), the same numbers as run(cfg, terms=True).backward.
    """
    memory.check_config(cfg, estimate(cfg).bytes)
    model = Model(cfg, data)
    p = model.forward_backward(model.batch(0))
    return record_terms(model.cell, model.views, p, cfg.truncation_blocks())
