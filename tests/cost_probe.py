"""Measure engine runs and trainings as the app runs them (one BLAS/torch thread): JSON cases on stdin, CPU seconds out.

Run in a fresh process by tests/test_cost.py: the BLAS thread count is read once, at import,
so only a process started with OMP/OPENBLAS/MKL_NUM_THREADS=1 measures what the app does.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import engine  # noqa: E402


def measure(cfg: engine.Config, kw: dict, repeats: int) -> float:
    """Fastest CPU seconds of the run, or of the whole training: other jobs on the machine only ever add time
    (cache and memory-bandwidth contention inflate even CPU time), so the minimum is the least disturbed."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        if kw.get("train_steps"):
            for _snap in engine.train(cfg, kw["train_steps"], kw.get("every", 1), connectivity=kw.get("connectivity", False)):
                pass
        else:
            engine.run(cfg, connectivity=kw.get("connectivity", False))
        times.append(time.process_time() - start)
    return float(np.min(times))


def main() -> None:
    torch.set_num_threads(1)
    cases = json.load(sys.stdin)
    out = []
    for fields, kw in cases:
        cfg = engine.Config(**fields)
        engine.run(cfg.replace(seq_len=4, hidden_size=4, batch_size=2, truncation=0, k1=0, k2=0))  # first-call allocations
        out.append(measure(cfg, kw, repeats=5))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
