"""Fit engine/cost.py's COEF on this machine: time runs and trainings chosen to expose each unit, solve for seconds per unit.

Run `python bench/calibrate_cost.py`, paste the printed COEF into engine/cost.py, then run
tests/test_cost.py (estimates within a factor of 2 of measured times on another grid).
Times are CPU seconds of this process with one BLAS/torch thread, the fastest of 3 (other jobs
on a shared machine only add time, even CPU time). The fit is non-negative least squares on the
relative error of every case (each row divided by its measured time).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from cost_probe import measure  # noqa: E402 (the test's probe: one way to time a case)

import engine  # noqa: E402
from engine import cost  # noqa: E402

torch.set_num_threads(1)
C = engine.Config


def cases() -> list[tuple[engine.Config, dict]]:
    """(config, {connectivity, train_steps, every}) chosen so that each unit dominates a few of them."""
    out = []
    for cell in engine.config.CELLS:
        out += [
            (C(cell=cell, seq_len=2, hidden_size=1, batch_size=1), {}),
            (C(cell=cell, seq_len=400, hidden_size=4, batch_size=1), {}),
            (C(cell=cell, seq_len=120, hidden_size=4, batch_size=1), {"connectivity": True}),
            (C(cell=cell, seq_len=40, hidden_size=256, batch_size=64), {}),
            (C(cell=cell, seq_len=40, hidden_size=32, batch_size=512), {}),
            (C(cell=cell, seq_len=60, hidden_size=96, batch_size=32), {"connectivity": True}),
            (C(cell=cell, seq_len=10, hidden_size=64, batch_size=8), {"train_steps": 40, "every": 40}),
        ]
    out += [
        (C(seq_len=2, hidden_size=512, batch_size=1, init="normal"), {}),
        (C(cell="lstm", seq_len=80, hidden_size=192, batch_size=64), {"connectivity": True}),
        (C(seq_len=80, hidden_size=256, batch_size=64), {"connectivity": True}),
        (C(cell="gru", seq_len=60, hidden_size=192, batch_size=32), {"connectivity": True}),
        (C(cell="gru", seq_len=2, hidden_size=384, batch_size=1, init="torch"), {}),
        (C(seq_len=2, hidden_size=768, batch_size=1), {}),
        (C(cell="lstm", seq_len=5, hidden_size=192, batch_size=4), {"train_steps": 12, "every": 1}),
        (C(seq_len=5, hidden_size=256, batch_size=4, init="normal"), {"train_steps": 20, "every": 2}),
        (C(cell="gru", seq_len=100, hidden_size=32, batch_size=64), {"train_steps": 10, "every": 1}),
        (C(cell="indrnn", seq_len=100, hidden_size=64, batch_size=64), {"train_steps": 10, "every": 1}),
        (C(cell="lstm", seq_len=2, hidden_size=640, batch_size=2, init="normal"), {}),
        (C(seq_len=250, hidden_size=32, batch_size=16, truncation=10, dtype="float64"), {}),
        (C(cell="lstm", seq_len=100, hidden_size=64, batch_size=32, dtype="float64"), {}),
        (C(cell="gru", seq_len=100, hidden_size=64, batch_size=16, k1=5, k2=20), {}),
        (C(cell="indrnn", seq_len=400, hidden_size=128, batch_size=32), {}),
    ]
    return out


def nnls(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares with x >= 0: solve on the free columns, fix the most negative at 0, repeat."""
    free = np.ones(A.shape[1], dtype=bool)
    while True:
        x = np.zeros(A.shape[1])
        x[free] = np.linalg.lstsq(A[:, free], b, rcond=None)[0]
        if (x[free] >= 0).all():
            return x
        worst = np.flatnonzero(free)[np.argmin(x[free])]
        free[worst] = False


def main() -> None:
    engine.run(C())  # warm up: imports, first allocations
    rows, times, labels = [], [], []
    for cfg, kw in cases():
        work, _ = cost.work_units(cfg, **kw)
        rows.append(work)
        times.append(measure(cfg, kw, 3))
        labels.append(f"{cfg.cell} T={cfg.seq_len} H={cfg.hidden_size} B={cfg.batch_size} {cfg.init} {kw}")
    names = sorted({n for r in rows for n in r})
    A = np.array([[r.get(n, 0.0) for n in names] for r in rows]) / np.array(times)[:, None]
    scale = A.max(axis=0)
    coef = nnls(A / scale, np.ones(len(rows))) / scale
    fitted = dict(zip(names, coef))
    print("COEF = {")
    for n in names:
        print(f'    "{n}": {fitted[n]:.3g},')
    print("}")
    print("\nmeasured s  estimated s  ratio  case")
    for r, t, label in zip(rows, times, labels):
        est = sum(fitted[n] * u for n, u in r.items())
        print(f"{t:10.4f}  {est:11.4f}  {est / t:5.2f}  {label}")


if __name__ == "__main__":
    main()
