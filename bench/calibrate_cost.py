"""Fit engine/cost.py's COEF on this machine, or check the calibrated estimates against measured times on another grid.

`python bench/calibrate_cost.py` times runs and trainings chosen to expose each unit, solves
for seconds per unit and prints COEF to paste into engine/cost.py. The fit is non-negative
least squares on the relative error of every case (each row divided by its measured time).

`python bench/calibrate_cost.py --check` runs the host probe (engine/calibration.py, as the
server does at start), then prints estimated / measured for each case of CHECK_GRID, a grid
the fit never saw (other sizes, truncation, many-to-many tasks, float64, connectivity,
training), with the uncalibrated estimate beside it. Target: every ratio within 0.5-2.

Times are CPU seconds of this process with one BLAS/torch thread, the fastest of a few runs:
on a shared machine other jobs only add time, even CPU time (cache and memory bandwidth).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import engine  # noqa: E402
from engine import calibration, cost  # noqa: E402

torch.set_num_threads(1)
C = engine.Config
CHECK_GRID = [
    (C(cell="rnn", seq_len=150, hidden_size=48, batch_size=24), {}),
    (C(cell="lstm", seq_len=90, hidden_size=128, batch_size=48), {}),
    (C(cell="gru", seq_len=70, hidden_size=160, batch_size=16, task="copy"), {}),
    (C(cell="indrnn", seq_len=300, hidden_size=200, batch_size=32, activation="relu"), {}),
    (C(cell="lru", seq_len=120, hidden_size=80, batch_size=24, task="sine"), {}),
    (C(cell="rnn", seq_len=200, hidden_size=64, batch_size=16, truncation=20, dtype="float64"), {}),
    (C(cell="lstm", seq_len=120, hidden_size=32, batch_size=16, k1=10, k2=30), {}),
    (C(cell="rnn", seq_len=2, hidden_size=448, batch_size=2, init="torch"), {}),
    (C(cell="lstm", seq_len=2, hidden_size=320, batch_size=2, init="normal"), {}),
    (C(cell="lstm", seq_len=100, hidden_size=64, batch_size=16), {"connectivity": True}),
    (C(cell="gru", seq_len=80, hidden_size=48, batch_size=8, truncation=10), {"connectivity": True}),
    (C(cell="lru", seq_len=180, hidden_size=112, batch_size=48, dtype="float64"), {"connectivity": True}),
    (C(cell="rnn", seq_len=160, hidden_size=128, batch_size=64, init="normal", dtype="float64"), {"connectivity": True}),
    (C(cell="rnn", seq_len=30, hidden_size=64, batch_size=16), {"train_steps": 60, "every": 10}),
    (C(cell="lstm", seq_len=20, hidden_size=160, batch_size=8, init="normal"), {"train_steps": 10, "every": 2}),
    (C(cell="lstm", seq_len=2, hidden_size=1024, batch_size=2, init="normal"), {}),  # issue 5's example: 4 eig + SVD of 1024 x 1024
]


def measure(cfg: engine.Config, kw: dict, repeats: int) -> float:
    """Fastest CPU seconds of the run, or of the whole training, over `repeats` tries."""
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
        (C(cell="gru", seq_len=200, hidden_size=128, batch_size=64, init="normal", dtype="float64"), {"connectivity": True}),
    ]
    for cell in engine.config.CELLS:  # connectivity in float64 and at a size the page computes without asking
        out += [
            (C(cell=cell, seq_len=150, hidden_size=64, batch_size=32, dtype="float64"), {"connectivity": True}),
            (C(cell=cell, seq_len=200, hidden_size=96, batch_size=32), {"connectivity": True}),
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


def check(repeats: int) -> None:
    """Calibrate as the server does, then print calibrated estimate / measured for every case of CHECK_GRID."""
    engine.run(C())  # warm up: imports, first allocations
    found = calibration.calibrate()
    print(f"host scale: overhead x{found.scale.overhead:.2f}, arithmetic x{found.scale.arith:.2f}", end=" ")
    print(f"(probe: {found.cpu_seconds:.3f} s CPU, {found.rounds} rounds)")
    print("\nmeasured s  estimated s  ratio  uncalibrated  case")
    ratios = []
    for cfg, kw in CHECK_GRID:
        measured = measure(cfg, kw, repeats)
        est, raw = cost.estimate(cfg, **kw).seconds, cost.estimate(cfg, scale=cost.Scale(), **kw).seconds
        ratios.append(est / measured)
        label = f"{cfg.cell} T={cfg.seq_len} H={cfg.hidden_size} B={cfg.batch_size} {cfg.init} {cfg.dtype} {kw}"
        print(f"{measured:10.4f}  {est:11.4f}  {est / measured:5.2f}  {raw / measured:12.2f}  {label}")
    inside = sum(0.5 <= r <= 2 for r in ratios)
    print(f"\n{inside} of {len(ratios)} within a factor of 2; ratios {min(ratios):.2f} .. {max(ratios):.2f}")


def fit_coef() -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="calibrate on this host, then print estimated / measured on CHECK_GRID")
    parser.add_argument("--repeats", type=int, default=5, help="--check: each case's time is the fastest of this many runs")
    args = parser.parse_args()
    check(args.repeats) if args.check else fit_coef()


if __name__ == "__main__":
    main()
