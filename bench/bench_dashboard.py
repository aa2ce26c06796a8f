"""Build time and JSON size of the live training figures at 5000 steps, T=200 (what each streamed update costs).

Run: .venv/bin/python bench/bench_dashboard.py. Prints one row per figure: median build ms, to_json ms, JSON kB.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import Config, TrainingLog, run  # noqa: E402
from engine.trace import Snapshot  # noqa: E402
from viz import training, training_gates  # noqa: E402

STEPS, EVERY, T = 5000, 10, 200


def synthetic_log() -> TrainingLog:
    """A log as 5000 steps of training would leave it (one snapshot every 10 steps), built from one real trace."""
    cfg = Config(cell="lstm", seq_len=T, hidden_size=32, batch_size=4, clip="norm", clip_threshold=1.0)
    base = run(cfg)
    rng = np.random.default_rng(0)
    log = TrainingLog()
    for start in range(0, STEPS, EVERY):
        steps = np.arange(start, min(start + EVERY, STEPS))
        before = np.exp(rng.normal(0.5, 1.0, len(steps)))
        history = dict(
            step=steps,
            loss=np.exp(-steps / 2000) + 0.01 * rng.random(len(steps)),
            grad_norm_before=before,
            grad_norm_after=np.minimum(before, 1.0),
            clipped=before > 1.0,
        )
        grad_h = base.grad_h * np.exp(rng.normal(0, 0.3, T))
        gates = {k: np.clip(v + rng.normal(0, 0.01, v.shape), 0, 1) for k, v in base.gates.items()}
        log.add(Snapshot(step=int(start), trace=replace(base, grad_h=grad_h, gates=gates), history=history))
    return log


def measure(build, repeats: int = 7) -> tuple[float, float, int]:
    builds, dumps, size = [], [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        fig = build()
        t1 = time.perf_counter()
        js = fig.to_json()
        t2 = time.perf_counter()
        builds.append(t1 - t0)
        dumps.append(t2 - t1)
        size = len(js)
    return statistics.median(builds) * 1e3, statistics.median(dumps) * 1e3, size


def main() -> None:
    log = synthetic_log()
    figures = {"training_dashboard": lambda: training.training_dashboard(log, baseline=1.0, threshold=1.0)}
    figures["gate_dashboard"] = lambda: training_gates.gate_dashboard(log)
    print(f"{STEPS} steps, a snapshot every {EVERY} ({len(log)} rows), T = {T}")
    print(f"{'figure':<22}{'build ms':>10}{'to_json ms':>12}{'JSON kB':>10}")
    for name, build in figures.items():
        b, d, size = measure(build)
        print(f"{name:<22}{b:>10.1f}{d:>12.1f}{size / 1024:>10.1f}")


if __name__ == "__main__":
    main()
