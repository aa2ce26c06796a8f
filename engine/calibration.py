"""The cost model measured on its host: a short probe times a few small passes and scales engine/cost.py's fitted figures.

COEF was fitted on one dev machine; another machine of the same kind ran 2-2.6x slower, so a
page admitted or refused the wrong work. The probe runs PROBES (tiny passes of every cell,
where the per-step Python overhead is nearly all the time, and mid-sized ones, where GEMMs
and memory dominate), each the fastest of a few rounds (other jobs only ever add time), and
solves measured = a * fitted overhead + b * fitted arithmetic for the two factors of a
cost.Scale, clamped to [LOWEST, HIGHEST]. About 0.2-0.4 s of CPU on the dev machine; it stops
repeating once BUDGET_S is spent.

Times are the CPU time of the probing thread (time.thread_time): in a server, other threads'
work does not count against it. The engine uses one torch thread (engine/__init__.py and the
app set it), so a pass's work runs in that thread. The clock and the pass are parameters: a
test gives a fake clock and counts, and never reads a real time.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import cost
from .cells import CELLS
from .config import Config

PROBES = tuple(
    Config(cell=c, seq_len=32, hidden_size=8, batch_size=2, init="identity") for c in CELLS  # every registered cell
) + (
    Config(cell="lstm", seq_len=12, hidden_size=192, batch_size=32, init="identity"),
    Config(cell="gru", seq_len=12, hidden_size=256, batch_size=16, init="identity"),
    Config(cell="rnn", seq_len=12, hidden_size=256, batch_size=64, init="identity"),
)
WARM_UP = Config(seq_len=4, hidden_size=4, batch_size=2)  # a process's first pass pays one-off allocations
ROUNDS = 5  # each probe's time is the fastest of this many rounds ...
BUDGET_S = 0.8  # ... unless another round would take the probe past this much CPU
LOWEST, HIGHEST = 0.2, 10.0  # a factor outside this range is a disturbed measurement, not a machine
# The server's probe waits until the process is quiet (its first page drawn): at least FIRST_WAIT_S, then until
# a QUIET_WINDOW_S window in which the process used under QUIET_SHARE of a core, at most LONGEST_WAIT_S in all.
FIRST_WAIT_S, QUIET_WINDOW_S, QUIET_SHARE, LONGEST_WAIT_S = 1.0, 0.5, 0.25, 30.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calibration:
    """What the probe found: the factors, its own CPU seconds, and (config, fitted parts, measured seconds) per probe."""

    scale: cost.Scale
    cpu_seconds: float
    rounds: int
    cases: tuple

    def to_dict(self) -> dict:
        return {
            "overhead_factor": self.scale.overhead,
            "arith_factor": self.scale.arith,
            "probe_cpu_seconds": self.cpu_seconds,
            "rounds": self.rounds,
            "cases": [
                {"config": cfg.to_dict(), "fitted_seconds": sum(parts), "measured_seconds": measured} for cfg, parts, measured in self.cases
            ],
        }


def run_pass(cfg: Config) -> None:
    from .model import run

    run(cfg)


def probe(timer: Callable[[], float] = time.thread_time, work: Callable[[Config], object] = run_pass, probes=PROBES) -> Calibration:
    """Time every probe (fastest of ROUNDS rounds, within BUDGET_S of CPU) and fit this host's Scale to the times."""
    start = timer()
    work(WARM_UP)
    fastest = [math.inf] * len(probes)
    rounds = 0
    while rounds < ROUNDS:
        round_start = timer()
        for i, cfg in enumerate(probes):
            t = timer()
            work(cfg)
            fastest[i] = min(fastest[i], timer() - t)
        rounds += 1
        spent, last = timer() - start, timer() - round_start
        if spent + last > BUDGET_S:
            break
    parts = [cost.fitted_parts(cost.work_units(cfg)[0]) for cfg in probes]
    return Calibration(fit(parts, fastest), timer() - start, rounds, tuple(zip(probes, parts, fastest)))


def fit(parts: list[cost.Parts], measured: list[float]) -> cost.Scale:
    """Least squares of measured = a * overhead + b * arith, each case weighted by 1 / its fitted time (relative error).

    A solution that is not positive (noise, or probes that do not separate the parts) falls back
    to one factor for both: the geometric mean of measured / fitted. Then both are clamped.
    """
    P = np.array([[p.overhead, p.arith] for p in parts], dtype=np.float64)
    m = np.asarray(measured, dtype=np.float64)
    keep = np.isfinite(m) & (m >= 0) & (P.sum(1) > 0)
    if not keep.any():
        return cost.Scale()
    P, m = P[keep], m[keep]
    w = 1.0 / P.sum(1)
    ab = np.linalg.lstsq(P * w[:, None], m * w, rcond=None)[0]
    if not (np.isfinite(ab).all() and (ab > 0).all()):
        ratio = np.maximum(m, 1e-300) / P.sum(1)
        ab = np.full(2, float(np.exp(np.mean(np.log(ratio)))))
    a, b = (float(np.clip(v, LOWEST, HIGHEST)) for v in ab)
    return cost.Scale(a, b)


def calibrate(host: cost.HostScale | None = None, **probe_args) -> Calibration:
    """Probe this machine and make estimate() use what it found (cost.HOST unless `host` is given)."""
    found = probe(**probe_args)
    (cost.HOST if host is None else host).set(found.scale)
    return found


def quiet_moment(clock=time.monotonic, cpu=time.process_time, sleep=time.sleep) -> float:
    """Wait for a moment when this process is nearly idle (a cold server's first page costs seconds of CPU); -> seconds waited."""
    start = clock()
    sleep(FIRST_WAIT_S)
    while clock() - start < LONGEST_WAIT_S:
        used, begun = cpu(), clock()
        sleep(QUIET_WINDOW_S)
        if cpu() - used < QUIET_SHARE * (clock() - begun):
            break
    return clock() - start


class Starter:
    """Runs the probe once per process, in a daemon thread, at a quiet moment: the page is never kept waiting for it."""

    def __init__(self, calibrate_fn: Callable[[], Calibration] = calibrate, wait: Callable[[], object] = quiet_moment):
        self._calibrate, self._wait = calibrate_fn, wait
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.result: Calibration | None = None

    def start(self) -> threading.Thread:
        """Start the probe if no call has yet; every call returns the one thread."""
        with self._lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._work, name="cost-calibration", daemon=True)
                self.thread.start()
            return self.thread

    def _work(self) -> None:
        self._wait()
        try:
            self.result = self._calibrate()
        except Exception:  # the fitted figures stay; a failed probe must not take the page down
            log.exception("cost calibration failed; estimates keep the fitted figures")


SERVER = Starter()  # the app's: ui/page/compute.calibrate_in_background() starts it on the first page
