"""Trust-badge cost: engine.check.verify (autograd on a sub-batch) against the run it checks, at a few sizes.

Run `python bench/bench_check.py [--repeat N]`. Target: under 0.3 s at the defaults.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from engine import Config, run  # noqa: E402
from engine.check import verify  # noqa: E402

CASES = [
    Config(),
    Config(cell="lstm"),
    Config(cell="gru"),
    Config(cell="indrnn"),
    Config(cell="lru"),
    Config(cell="lstm", seq_len=200, hidden_size=128),
    Config(cell="lstm", task="copy", seq_len=200, truncation=1),
    Config(seq_len=1000, hidden_size=256, k1=1, k2=100),
]


def median_s(fn, cfg: Config, repeat: int) -> float:
    fn(cfg)  # warm
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(cfg)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'config (non-default fields)':58} {'verify':>9} {'run':>9}  verdict")
    for cfg in CASES:
        t_check = median_s(verify, cfg, args.repeat)
        t_run = median_s(run, cfg, args.repeat)
        label = ", ".join(f"{k}={v}" for k, v in cfg.to_query().items()) or "defaults"
        print(f"{label:58} {t_check * 1e3:7.0f}ms {t_run * 1e3:7.0f}ms  {verify(cfg).text}")


if __name__ == "__main__":
    main()
