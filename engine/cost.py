"""What a run or a training costs before it starts: (seconds, bytes) on one CPU thread, so a page can refuse or queue it.

The work is counted in terms the engine really does, then weighted by seconds per unit
fitted on the 2-core dev machine (`bench/calibrate_cost.py` measures and prints COEF), then
scaled to the host: another machine of the same kind ran 2-2.6x slower than the fit, so a
short probe (engine/calibration.py) times a few passes here and sets HOST, two factors, one
for the per-call overhead terms (the interpreter, torch's dispatch) and one for the
arithmetic terms (flops, bytes touched, eig/SVD). Until it has run, the factors are 1.

- one pass: T forward steps and the backward visits of the truncation blocks (plus the
  last-loss-only sweep of many-to-many tasks), each step costing the cell registry's
  ``cell.cost(H, B, I, itemsize)`` flops and stored elements, plus a Python overhead per step
  that differs by cell (a GRU step issues many more small kernels than an LSTM step);
- the spectra: eig + SVD of each H x H recurrent block (H^3), at initialisation for random
  inits and again at every training snapshot after the first (the weights have moved); an
  orthogonal init costs a QR per block;
- connectivity: each loss row t carried back to its horizon, sum over rows of (t - lowest + 1)
  row-steps (T^2 / 2 for full BPTT), each a step back on the rows' batch;
- training: steps x (one pass + one optimiser update) + snapshots x (record + spectra + connectivity).

Not foreseen: float32 gradients that vanish into the subnormal range (below ~1e-38) make the
CPU's arithmetic on them 10-100x slower. LSTM T=400, H=1024, B=16 measured 29 s where the
model says 3 s (3.6 s with torch.set_flush_denormal(True)); long float32 runs of large,
vanishing networks can take several times the estimate. Short runs and float64 are unaffected.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import NamedTuple

import numpy as np
import torch

from .cells import get_cell
from .config import Config
from .tasks import TASKS

# Seconds per unit of work on the 2-core dev machine, one BLAS/torch thread (bench/calibrate_cost.py). The last fit
# (2026-12-07, adding float64 connectivity) ran beside other work (load ~9); its figures were brought back to the quiet
# machine's level with the probe's own two factors (the probes' fitted times equal the previous quiet fit's: overhead
# x0.371, arithmetic x0.439), so only their ratios come from the busy fit. The host probe (HOST) scales them to a server.
COEF = {
    "run:gru": 0.00247,  # fixed cost of a run, by cell
    "run:indrnn": 0.00137,
    "run:lru": 0.00122,
    "run:lstm": 0.0018,
    "run:rnn": 0.0024,
    "step:gru": 2.11e-05,  # Python overhead of one forward step, by cell
    "step:indrnn": 1.19e-05,
    "step:lru": 2.66e-05,
    "step:lstm": 1.84e-05,
    "step:rnn": 1.38e-05,
    "back:gru": 2.31e-05,  # ... and of one step back of the BPTT sweep, by cell
    "back:indrnn": 1.19e-05,
    "back:lru": 2.66e-05,
    "back:lstm": 1.84e-05,
    "back:rnn": 1.09e-06,
    "elem:gru": 1.27e-09,  # a byte a step stores and touches, by cell
    "elem:indrnn": 7.86e-10,
    "elem:lru": 1.46e-09,
    "elem:lstm": 1.38e-09,
    "elem:rnn": 8.74e-10,
    "flop": 1.14e-11,  # a flop of the step GEMMs (cell.cost)
    "conn_step:gru": 0.000137,  # overhead of one step back of the connectivity pass, by cell
    "conn_step:indrnn": 4.45e-05,
    "conn_step:lru": 9.35e-05,
    "conn_step:lstm": 7.57e-05,
    "conn_step:rnn": 4.23e-05,
    "conn_flop:gru": 2.64e-12,  # a flop of a connectivity row-step (float64: counted twice), by cell
    "conn_flop:indrnn": 0,
    "conn_flop:lru": 5.49e-12,
    "conn_flop:lstm": 1.03e-12,
    "conn_flop:rnn": 1.86e-12,
    "conn_elem": 4.7e-10,  # a float32 element's worth of bytes a connectivity row-step touches
    "spectra": 7.07e-10,  # eigvals + the 2-norm (an SVD) of an n x n float64 block: n^3 of these
    "qr": 7.77e-11,  # torch's orthogonal_ init of an n x n block: n^3 of these
    "update": 3.92e-08,  # optimiser update, per parameter
    "snapshot": 0.00325,  # fixed cost of recording a training snapshot
}
TAPE_FACTOR = 2.25  # the tape keeps about this many times what one step's cost says it stores
# Units paid per call (Python and torch's dispatch), not per flop or byte: a host scales them by its own factor.
OVERHEAD_UNITS = ("run", "step", "back", "conn_step", "snapshot")


class Estimate(NamedTuple):
    """Predicted wall time (one thread) and peak memory of the work."""

    seconds: float
    bytes: float


class Parts(NamedTuple):
    """Fitted seconds of some work, split into per-call overhead and arithmetic."""

    overhead: float
    arith: float


class Scale(NamedTuple):
    """This host's seconds per fitted second, for each part (1, 1: the dev machine the COEF were fitted on)."""

    overhead: float = 1.0
    arith: float = 1.0


class HostScale:
    """The Scale that estimate() applies: the fitted figures until this host's calibration sets its own (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._scale, self._calibrated = Scale(), False

    def get(self) -> Scale:
        with self._lock:
            return self._scale

    @property
    def calibrated(self) -> bool:
        with self._lock:
            return self._calibrated

    def set(self, scale: Scale) -> None:
        with self._lock:
            self._scale, self._calibrated = Scale(float(scale.overhead), float(scale.arith)), True


HOST = HostScale()  # one per process: the server's background probe or `python -m engine calibrate` sets it


def estimate(
    cfg: Config,
    connectivity: bool | str = False,
    train_steps: int = 0,
    every: int = 1,
    conn_rows=None,
    conn_batch=None,
    scale: Scale | None = None,
) -> Estimate:
    """Seconds and bytes of engine.run(cfg, connectivity, conn_rows, conn_batch), or with train_steps > 0 of
    engine.train(cfg, train_steps, every, connectivity, ...) as a whole, on this host (HOST) unless `scale` is given.

    connectivity="full" is engine.run's conn_full=True: every row reaches back to step 0 despite truncation.
    """
    work, nbytes = work_units(cfg, connectivity, train_steps, every, conn_rows, conn_batch)
    part, factor = fitted_parts(work), HOST.get() if scale is None else scale
    return Estimate(factor.overhead * part.overhead + factor.arith * part.arith, nbytes)


def fitted_parts(work: dict) -> Parts:
    """Seconds of the work on the machine COEF was fitted on, overhead and arithmetic apart."""
    overhead = arith = 0.0
    for name, units in work.items():
        seconds = (COEF[name] if name in COEF else _fallback(name)) * units
        if name.split(":")[0] in OVERHEAD_UNITS:
            overhead += seconds
        else:
            arith += seconds
    return Parts(overhead, arith)


def _fallback(name: str) -> float:
    """A cell without its own fitted overhead (a new cell) gets the largest of the other cells'."""
    kind = name.split(":")[0] + ":"
    return max(v for k, v in COEF.items() if k.startswith(kind))


def work_units(cfg: Config, connectivity=False, train_steps=0, every=1, conn_rows=None, conn_batch=None) -> tuple[dict, float]:
    """({unit name: how many}, bytes): the work of a run or a training, before weighting by seconds."""
    cell = get_cell(cfg.cell, cfg.activation)
    itemsize = 8 if cfg.dtype == "float64" else 4
    H, B, I = cfg.hidden_size, cfg.batch_size, TASKS[cfg.task].input_size
    per = cell.cost(H, B, I, itemsize)
    steps, elems = pass_steps(cfg), per.bytes  # bytes: a float64 element moves twice the memory
    one_pass = {
        f"step:{cfg.cell}": cfg.seq_len,
        f"back:{cfg.cell}": backward_visits(cfg),
        "flop": steps * per.flops,
        f"elem:{cfg.cell}": steps * elems,
    }
    cubes = cell.recurrent_blocks * float(H) ** 3
    init = {"spectra": cubes} if cfg.init in ("normal", "torch") else {"qr": cubes} if cfg.init == "orthogonal" else {}
    full = connectivity == "full"  # connectivity ignoring truncation (engine.run's conn_full)
    conn, conn_bytes = connectivity_units(cfg, cell, itemsize, conn_rows, conn_batch, full) if connectivity else ({}, 0.0)
    params = param_count(cell, H, I, TASKS[cfg.task].output_size)
    tape = cfg.seq_len * per.bytes * TAPE_FACTOR
    work = {f"run:{cfg.cell}": 1.0}
    _add(work, init)
    if not train_steps:
        _add(work, one_pass)
        _add(work, conn)
        return work, tape + conn_bytes + 8 * params
    snaps = snapshot_count(train_steps, every)
    _add(work, one_pass, train_steps)
    _add(work, {"update": params}, train_steps)
    _add(work, {"snapshot": 1.0}, snaps)
    _add(work, {"spectra": cubes}, snaps - 1)  # after the first snapshot the weights have moved: eig + SVD again
    _add(work, conn, snaps)
    return work, tape + conn_bytes + 8 * 4 * params  # parameters, gradients and Adam's two moments


def _add(total: dict, part: dict, times: float = 1.0) -> None:
    for name, units in part.items():
        total[name] = total.get(name, 0.0) + times * units


def pass_steps(cfg: Config) -> float:
    """Forward + backward of one pass in units of a full-BPTT step: (T forward steps + backward visits) / 2."""
    return (cfg.seq_len + backward_visits(cfg)) / 2


def backward_visits(cfg: Config) -> int:
    """Steps the BPTT sweeps step back through in one pass.

    A truncation block is swept from its highest loss step down to its lowest step; a block
    without a loss step (every block but the last of a many-to-one task) costs nothing.
    """
    T = cfg.seq_len
    every = TASKS[cfg.task].loss_at == "every"
    visits = 0
    for end, lo, first in cfg.truncation_blocks():
        top = min(end, T - 1) if every else (T - 1 if first <= T - 1 <= end else None)
        visits += 0 if top is None or top < first else top - lo + 1
    if every and T > 1:  # a second sweep: the last step's loss alone, through the last block
        visits += T - cfg.truncation_blocks()[0][1]
    return visits


def connectivity_units(cfg: Config, cell, itemsize: int, rows=None, max_batch=None, full: bool = False) -> tuple[dict, float]:
    """Work and bytes of the connectivity pass: every alive row carried one step back, for each step k."""
    T = cfg.seq_len
    rows = np.arange(T) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    rows = rows[(rows >= 0) & (rows < T)]  # rows outside the sequence are refused by the engine, with its own message
    if not len(rows):
        return {}, 0.0
    nb = cfg.batch_size if max_batch is None else min(cfg.batch_size, int(max_batch))
    lowest = np.zeros(len(rows), dtype=np.int64)
    if cfg.tbptt is not None and not full:
        blocks = cfg.truncation_blocks()
        lowest = np.array([next(lo for _, lo, first in blocks if t >= first) for t in rows], dtype=np.int64)
    row_steps = float(np.sum(rows - lowest + 1))
    alive = np.zeros(T + 1, dtype=np.int64)  # rows alive at step k: +1 where a row's reach starts, -1 past its end
    np.add.at(alive, lowest, 1)
    np.add.at(alive, rows + 1, -1)
    per = cell.cost(cfg.hidden_size, nb, TASKS[cfg.task].input_size, itemsize)
    wide = itemsize / 4  # float64 arithmetic and traffic cost twice float32's: GRU T=200 H=128 B=64 float64 ran 5x its dtype-blind estimate
    work = {
        f"conn_step:{cfg.cell}": float(np.count_nonzero(np.cumsum(alive)[:T])),  # the steps k where some row is carried
        f"conn_flop:{cfg.cell}": row_steps * per.flops * wide,  # by cell: each cell's step back has its own mix of kernels
        "conn_elem": row_steps * per.bytes / 4,  # float32 elements' worth of bytes touched
    }
    carried = len(rows) * nb * cell.state_size(cfg.hidden_size) * itemsize * (len(cell.state_names) + 4)
    return work, carried + 2 * 8 * len(rows) * T


def snapshot_count(steps: int, every: int) -> int:
    """Snapshots engine.train yields: step 0, every `every` steps, and the last step."""
    every = max(int(every), 1)
    return math.ceil(steps / every) + (1 if (steps - 1) % every else 0)


def param_count(cell, H: int, I: int, O: int) -> int:
    """Parameters of the cell and its read-out (O x H weights and O biases)."""
    a, b, c, d, e = _param_polynomial(cell.name)
    return int(a * H * H + b * H * I + c * H + d * I + e + O * (H + 1))


@functools.cache
def _param_polynomial(name: str) -> tuple:
    """The cell's parameter count as a polynomial in (H^2, H*I, H, I, 1), read from its own init_params at six tiny sizes.

    Exact for any cell whose tensors are at most H x H or H x I blocks, vectors and scalars (all of
    ours: the LRU's output map alone has 2 H^2); a cell beyond that shape is refused here, loudly.
    """
    cell = get_cell(name)

    def zeros(*shape):
        return torch.zeros(*shape, dtype=torch.float64)

    rows, counts = [], []
    for H, I in ((1, 1), (2, 1), (3, 1), (1, 2), (2, 3), (3, 2)):
        params = cell.init_params(Config(cell=name, hidden_size=H, init="identity"), I, torch.Generator().manual_seed(0), zeros)
        rows.append((H * H, H * I, H, I, 1))
        counts.append(sum(p.numel() for p in params.values()))
    coef = np.linalg.lstsq(np.array(rows, dtype=np.float64), np.array(counts, dtype=np.float64), rcond=None)[0].round()
    if not np.array_equal(np.array(rows) @ coef, counts):
        raise ValueError(f"cell {name!r}: its parameter count is not a polynomial in H^2, H*I, H, I")
    return tuple(int(v) for v in coef)
