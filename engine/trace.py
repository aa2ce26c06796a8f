"""Plain records of a run: numpy arrays in frozen dataclasses, cheap to pickle, strict JSON out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

import numpy as np

from .config import Config


@dataclass(frozen=True)
class Trace:
    """Everything one forward + BPTT pass records; per-step arrays have length T = seq_len."""

    config: Config
    loss: float  # batch-mean loss
    loss_steps: np.ndarray  # (L,) time steps that carry a loss
    grad_h: np.ndarray  # (T,) batch mean of ||dL_b/dh_t|| (what BPTT propagated)
    grad_h_band: np.ndarray  # (T, 2) 10th and 90th percentile over the batch
    grad_h_last: np.ndarray | None  # (T,) many-to-many tasks: ||d loss_{T-1} / dh_t|| alone
    grad_c: np.ndarray | None  # (T,) LSTM: the same for the cell state c_t
    contrib: np.ndarray  # (T,) ||step t's term of dL/dW_hh||_F
    gates: dict  # gate name -> (T, H) batch-mean activation ({} for the vanilla RNN)
    saturation: dict  # name -> (T,) share of (sequence, unit) pairs in a flat region
    hidden: np.ndarray  # (T, H) hidden states of the first sequence
    grad_norm_before_clip: float
    grad_norm_after_clip: float
    clipped: bool
    param_grad_norms: dict  # parameter name -> norm of its (clipped) gradient
    spectral_radius: float  # of W_hh (gated cells: the largest over the gate blocks)
    sigma_max: float  # largest singular value of W_hh (gated cells: largest over blocks)
    gamma: float | None  # bound of phi' (vanilla RNN only)
    block_radius: dict  # gate name -> spectral radius of its H x H recurrent block
    bound: np.ndarray | None  # (T,) theory bound on grad_h (vanilla RNN only)
    decay_factor: float | None  # fitted change of the gradient per step back in time
    overflow_step: int | None  # first time step whose hidden state is not finite
    overflow_grad_step: int | None  # first step reached by BPTT (from T-1 back) with a non-finite gradient
    conn_x: np.ndarray | None = None  # (R, T): ||d loss_t / d x_k|| for the rows t in conn_rows
    conn_h: np.ndarray | None = None  # (R, T): ||d loss_t / d h_k||
    conn_rows: np.ndarray | None = None  # (R,) the loss steps t of the connectivity rows
    conn_truncated: bool = False  # True: conn_x/conn_h show what truncated BPTT carries (zero beyond each row's horizon)
    blocks: np.ndarray | None = None  # (n, 3) truncation blocks (end, lowest step, first loss step), last first: Config.truncation_blocks()
    unit_decay: np.ndarray | None = None  # (H,) diagonal cells (IndRNN |u_i|, LRU |lambda_i|): each unit's factor per step back

    @property
    def nonfinite(self) -> bool:
        """True when values overflowed to inf/NaN somewhere in the pass."""
        return (
            self.overflow_step is not None
            or self.overflow_grad_step is not None
            or not np.isfinite(self.loss)
            or not np.isfinite(self.grad_norm_before_clip)
        )

    def overflow_message(self) -> str | None:
        """Where values became non-finite and why, in words; None when everything is finite."""
        if not self.nonfinite:
            return None
        cfg = self.config
        where = []
        if self.overflow_step is not None:
            where.append(f"the hidden state became non-finite at time step {self.overflow_step} of the forward pass")
        if self.overflow_grad_step is not None:
            where.append(f"the gradient became non-finite at time step {self.overflow_grad_step} going backwards")
        if not where:
            where.append("the loss or the gradient norm is not finite")
        why = f"values overflow {cfg.dtype}"
        if self.gamma is not None and np.isfinite(self.sigma_max) and self.gamma * self.sigma_max > 1:
            why = (
                f"gamma * sigma_max = {self.gamma:g} * {self.sigma_max:.3g} = {self.gamma * self.sigma_max:.3g} > 1: "
                f"the recurrent scale {cfg.recurrent_scale:g} lets products of Jacobians grow geometrically until {cfg.dtype} overflows"
            )
        elif np.isfinite(self.spectral_radius) and self.spectral_radius > 1:
            why = f"the recurrent scale {cfg.recurrent_scale:g} (> 1) makes the state or gradient grow until {cfg.dtype} overflows"
        return "Overflow: " + "; ".join(where) + f". Why: {why}."

    def to_dict(self) -> dict:
        """Strict-JSON-ready dict: non-finite numbers become None and 'nonfinite' says so."""
        flag = [False]
        out = {f.name: _plain(getattr(self, f.name), flag) for f in fields(self) if f.name != "config"}
        out["config"] = self.config.to_dict()
        out["overflow_message"] = self.overflow_message()
        out["nonfinite"] = flag[0] or self.nonfinite
        return out


@dataclass(frozen=True)
class Snapshot:
    """One streamed training update: the trace at `step` and the per-step history since the last one."""

    step: int  # training step whose batch the trace was measured on (before its update)
    trace: Trace
    history: dict = field(default_factory=dict)  # name -> (n,) arrays: step, loss, grad_norm_before, grad_norm_after, clipped
    diverged: bool = False  # training stopped here because values became non-finite

    @property
    def loss(self) -> float:
        return self.trace.loss

    def to_dict(self) -> dict:
        flag = [False]
        out = {"step": self.step, "diverged": self.diverged, "history": _plain(self.history, flag)}
        out.update(self.trace.to_dict())
        out["nonfinite"] = out["nonfinite"] or flag[0]
        return out


def to_json(record) -> str:
    """Strict JSON (no NaN/Infinity tokens) of a Trace or Snapshot."""
    return json.dumps(record.to_dict(), allow_nan=False)


def _plain(value, flag):
    if isinstance(value, dict):
        return {k: _plain(v, flag) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            ok = np.isfinite(value)
            if not ok.all():
                flag[0] = True
                return np.where(ok, value, None).tolist()
        return value.tolist()
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            flag[0] = True
            return None
        return float(value)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


class TrainingLog:
    """Everything a live training view needs, accumulated snapshot by snapshot (numpy only).

    per-step history (every training step) and per-snapshot rows (grad_h at each snapshot),
    so the time x training-step heatmap can grow row by row.
    """

    def __init__(self):
        self.history = {}  # name -> list of per-step values (step, loss, grad_norm_before, ...)
        self.snapshot_steps = []  # training step of each snapshot
        self.grad_rows = []  # (T,) grad_h of each snapshot
        self.last = None  # the latest Snapshot
        self.diverged = False

    def add(self, snapshot: Snapshot) -> None:
        for key, values in snapshot.history.items():
            self.history.setdefault(key, []).extend(np.asarray(values).tolist())
        self.snapshot_steps.append(snapshot.step)
        self.grad_rows.append(np.asarray(snapshot.trace.grad_h, dtype=np.float64))
        self.last = snapshot
        self.diverged = self.diverged or snapshot.diverged

    def arrays(self) -> dict:
        """history as arrays: step, loss, grad_norm_before, grad_norm_after, clipped."""
        return {k: np.asarray(v) for k, v in self.history.items()}

    def grad_matrix(self) -> np.ndarray:
        """(snapshots, T) grad_h rows, one per snapshot."""
        return np.vstack(self.grad_rows) if self.grad_rows else np.zeros((0, 0))

    def __len__(self) -> int:
        return len(self.snapshot_steps)
