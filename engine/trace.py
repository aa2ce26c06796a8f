"""Plain records of a run: numpy arrays in frozen dataclasses, cheap to pickle, strict JSON out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

import numpy as np

from .config import Config

RECORDS = (  # measured per-step records and how the overflow message names them
    ("grad_h", "‖∂L/∂h_t‖ (the gradient BPTT carries)"),
    ("grad_h_band", "the 10–90 % band of ‖∂L/∂h_t‖"),
    ("grad_h_last", "‖∂loss_{T−1}/∂h_t‖"),
    ("grad_c", "‖∂L/∂c_t‖ (the cell state's gradient)"),
    ("contrib", "contrib (each time step's term of the recurrent weights' gradient)"),
    ("hidden", "the hidden state (first sequence)"),
    ("conn_x", "connectivity ‖∂loss_t/∂x_k‖"),
    ("conn_h", "connectivity ‖∂loss_t/∂h_k‖"),
)


def _ranges(steps) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2, 5, 7-8' (at most 6 runs, then how many more)."""
    runs, start = [], None
    for i, s in enumerate(steps):
        if start is None:
            start = s
        if i + 1 == len(steps) or steps[i + 1] != s + 1:
            runs.append(f"{start}" if start == s else f"{start}-{s}")
            start = None
    more = f" and {len(runs) - 6} more runs" if len(runs) > 6 else ""
    return ", ".join(runs[:6]) + more


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
    grad_h_units: np.ndarray | None = None  # (T, H) batch mean of |dL_b/dh_t,i| per unit (complex units: modulus); run's dtype
    data: dict | None = None  # data tasks: source, sha256, count, split and normalisation (engine/data.py windows().info)
    example: dict | None = None  # the task chart: one input, its target, the prediction with these weights (engine/example.py)
    backward: dict | None = None  # name -> (T,) parts of each step back (engine/backward_terms.py); None: not recorded
    cell_info: dict = field(default_factory=dict)  # the cell's declarations (Cell.describe()): gate meanings, direct path, products

    @property
    def nonfinite(self) -> bool:
        """True when values overflowed to inf/NaN (or beyond the dtype's range) somewhere in the measured records."""
        return (
            self.overflow_step is not None
            or self.overflow_grad_step is not None
            or not np.isfinite(self.loss)
            or not np.isfinite(self.grad_norm_before_clip)
            or bool(self.out_of_range())
        )

    def out_of_range(self) -> list[str]:
        """One sentence per measured record with a number that is inf/NaN or beyond the dtype's largest: which, and at which steps."""
        dtype = self.config.dtype
        limit = float(np.finfo(dtype).max)
        found = []
        for name, words in RECORDS:
            a = getattr(self, name)
            if a is None:
                continue
            a = np.asarray(a, dtype=np.float64)
            with np.errstate(invalid="ignore"):
                bad = ~np.isfinite(a) | (np.abs(a) > limit)
            if not bad.any():
                continue
            per_step = bad.any(axis=0) if name.startswith("conn") else bad.reshape(len(a), -1).any(axis=1)
            kinds = "not a number" if np.isnan(a[bad]).all() else f"infinite or beyond {dtype}'s largest number ({limit:.2g})"
            where = "input steps k" if name.startswith("conn") else "time steps"
            found.append(f"{words} is {kinds} at {where} {_ranges(np.flatnonzero(per_step))}")
        return found

    def bound_note(self) -> str | None:
        """Words for a theory bound that overflows float64 (it is a bound, not a measurement); None when it is finite."""
        if self.bound is None:
            return None
        b = np.asarray(self.bound, dtype=np.float64)
        bad = ~np.isfinite(b)
        if not bad.any():
            return None
        return (
            f"The theory bound (γ·σ_max)^k = ({self.gamma:g}·{self.sigma_max:.3g})^k, summed over the loss steps, "
            f"exceeds float64's range (about 1.8e308) at time steps {_ranges(np.flatnonzero(bad))}: it is an upper bound, "
            "not a measurement; it says the gradient could explode, not that it does."
        )

    def overflow_message(self) -> str | None:
        """Where values became non-finite or out of range and why, in words; None when everything is finite."""
        if not self.nonfinite:
            return self.bound_note()
        cfg = self.config
        where = []
        if self.overflow_step is not None:
            where.append(f"the hidden state became non-finite at time step {self.overflow_step} of the forward pass")
        if self.overflow_grad_step is not None:
            where.append(f"the gradient became non-finite at time step {self.overflow_grad_step} going backwards")
        if not np.isfinite(self.loss) or not np.isfinite(self.grad_norm_before_clip):
            where.append("the loss or the gradient norm is not finite")
        where += [w for w in self.out_of_range() if not w.startswith(("‖∂L/∂h_t‖", "the hidden state"))] if where else self.out_of_range()
        why = f"values overflow {cfg.dtype}"
        if self.gamma is not None and np.isfinite(self.sigma_max) and self.gamma * self.sigma_max > 1:
            why = (
                f"γ·σ_max = {self.gamma:g}·{self.sigma_max:.3g} = {self.gamma * self.sigma_max:.3g} > 1: "
                f"the recurrent scale {cfg.recurrent_scale:g} lets products of Jacobians grow geometrically until {cfg.dtype} overflows"
            )
        elif np.isfinite(self.spectral_radius) and self.spectral_radius > 1:
            why = f"the recurrent scale {cfg.recurrent_scale:g} (> 1) makes the state or gradient grow until {cfg.dtype} overflows"
        note = self.bound_note()
        return "Overflow: " + "; ".join(where) + f". Why: {why}." + (f" {note}" if note else "")

    def to_dict(self) -> dict:
        """Strict-JSON-ready dict: non-finite numbers become None and 'nonfinite' says so."""
        flag = [False]
        out = {f.name: _plain(getattr(self, f.name), flag) for f in fields(self) if f.name != "config"}
        out["config"] = self.config.to_dict()
        out["overflow_message"] = self.overflow_message()
        out["bound_note"] = self.bound_note()
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

    per-step history (every training step) and per-snapshot rows (grad_h, one gate's unit-mean
    activation, the share of saturated units), so time x training-step heatmaps can grow row by row.
    """

    def __init__(self, gate: str | None = None):
        self.history = {}  # name -> list of per-step values (step, loss, grad_norm_before, ...)
        self.snapshot_steps = []  # training step of each snapshot
        self.grad_rows = []  # (T,) grad_h of each snapshot
        self.gate = gate  # the gate whose rows are kept; None: chosen from the first snapshot
        self.gate_signed = False  # the chosen gate is declared tanh (values in -1..1)
        self.gate_rows = []  # (T,) unit-mean of that gate (or, without gates, the share of flat units) per snapshot
        self.saturation_share = []  # share of saturated (sequence, unit) entries, over all gates and steps, per snapshot
        self.last = None  # the latest Snapshot
        self.diverged = False

    def add(self, snapshot: Snapshot) -> None:
        for key, values in snapshot.history.items():
            self.history.setdefault(key, []).extend(np.asarray(values).tolist())
        self.snapshot_steps.append(snapshot.step)
        trace = snapshot.trace
        self.grad_rows.append(np.asarray(trace.grad_h, dtype=np.float64))
        gates, saturation = getattr(trace, "gates", None) or {}, getattr(trace, "saturation", None) or {}
        info = getattr(trace, "cell_info", None) or {}
        if self.gate is None:
            self.gate = self._choose(gates, saturation, info)
        self.gate_signed = info.get("gates", {}).get(self.gate, {}).get("activation") == "tanh"
        self.gate_rows.append(self._gate_row(gates, saturation, len(trace.grad_h)))
        shares = [np.asarray(v, dtype=np.float64).ravel() for v in saturation.values()]
        with np.errstate(all="ignore"):
            self.saturation_share.append(float(np.mean(np.concatenate(shares))) if shares and sum(map(len, shares)) else float("nan"))
        self.last = snapshot
        self.diverged = self.diverged or snapshot.diverged

    def _choose(self, gates: dict, saturation: dict, info: dict) -> str | None:
        """The gate of the declared direct path (LSTM f, GRU z), else the first gate; gate-less cells: the share of flat units."""
        path = info.get("direct") or {}
        if path.get("factor") in gates:
            return path["factor"]
        if gates:
            return next(iter(gates))
        return "flat" if "h" in saturation else None

    def _gate_row(self, gates: dict, saturation: dict, T: int) -> np.ndarray:
        with np.errstate(all="ignore"):
            if self.gate in gates:
                return np.asarray(gates[self.gate], dtype=np.float64).mean(axis=1)
            if self.gate == "flat" and "h" in saturation:
                return np.asarray(saturation["h"], dtype=np.float64)
        return np.full(T, np.nan)  # this snapshot lacks the chosen gate

    def arrays(self) -> dict:
        """history as arrays: step, loss, grad_norm_before, grad_norm_after, clipped."""
        return {k: np.asarray(v) for k, v in self.history.items()}

    def grad_matrix(self) -> np.ndarray:
        """(snapshots, T) grad_h rows, one per snapshot."""
        return np.vstack(self.grad_rows) if self.grad_rows else np.zeros((0, 0))

    def gate_matrix(self) -> np.ndarray:
        """(snapshots, T) rows of the chosen gate's unit-mean (or the share of flat units), one per snapshot."""
        return np.vstack(self.gate_rows) if self.gate_rows else np.zeros((0, 0))

    def __len__(self) -> int:
        return len(self.snapshot_steps)
