"""Does the Training tab's default run visibly learn? LSTM at T=50 against RNN at T=100 on the adding problem, seeds 0-4.

Prints the mean loss per window of steps next to the trivial loss 1/6 (always answering 1, the mean of the sum):
with the defaults (Adam, Config's lr, TrainingConfig's default steps) the LSTM should fall far below it and the
RNN should not. Usage: .venv/bin/python bench/bench_training_defaults.py [--steps N] [--lr X] [--seeds K]
(about 1-3 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from engine import TASKS, Config, train  # noqa: E402
from engine.config import field_info  # noqa: E402


def losses(cfg: Config, steps: int) -> np.ndarray:
    """The training loss at every step."""
    out = []
    for snap in train(cfg, steps, every=steps):
        out.extend(snap.history["loss"])
    return np.asarray(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=field_info("steps")["default"])
    ap.add_argument("--lr", type=float, default=Config().lr)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    win = max(1, args.steps // 10)
    trivial = TASKS["adding"].trivial_loss
    print(f"adding problem, Adam lr={args.lr}, {args.steps} steps, windows of {win} steps; trivial loss 1/6 = {trivial:.3f}")
    for cell, T in (("lstm", 50), ("rnn", 100)):
        t0 = time.perf_counter()
        for seed in range(args.seeds):
            h = losses(Config(cell=cell, seq_len=T, lr=args.lr, seed=seed), args.steps)
            windows = [h[i : i + win].mean() for i in range(0, args.steps, win)]
            shown = " ".join(f"{w:.3f}" for w in windows)
            print(f"{cell:4s} T={T:3d} seed {seed}: {shown}   last window / trivial = {windows[-1] / trivial:.2f}")
        print(f"  ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
