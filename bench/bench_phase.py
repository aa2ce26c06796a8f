"""Phase-diagram benchmark: engine.phase (all scales as one batched job) against looping run() over the scales.

Run `python bench/bench_phase.py [--threads N] [--clock cpu|wall] [--repeats R]`. The default job is the
issue's: 41 scales x T=200 x H=32 x B=16, RNN tanh, float32, one thread. Also times the same job on
CUDA when a GPU is present, and the other cells at the same sizes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    ap.add_argument("--clock", choices=("cpu", "wall"), help="cpu: process time, robust to other jobs (default with 1 thread)")
    ap.add_argument("--repeats", type=int, default=5, help="alternating phase / loop pairs; the median is printed (default 5)")
    ap.add_argument("--cells", action="store_true", help="also time every cell of the registry at the same sizes")
    args = ap.parse_args(argv)
    args.clock = args.clock or ("cpu" if args.threads == 1 else "wall")
    return args


ARGS = parse_args() if __name__ == "__main__" else parse_args([])
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)  # BLAS reads these once, at import: set them first

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine import Config, phase, run  # noqa: E402
from engine.cells import CELLS  # noqa: E402

SCALES = np.linspace(0.5, 1.5, 41)
BIASES = np.linspace(-2, 6, 41)  # the LSTM's forget-bias axis
JOB = Config(cell="rnn", activation="tanh", seq_len=200, hidden_size=32, batch_size=16, device="cpu")
CLOCK = time.process_time if ARGS.clock == "cpu" else time.perf_counter


def timed(fn) -> float:
    start = CLOCK()
    fn()
    return CLOCK() - start


def loop_runs(cfg: Config, values, axis: str = "recurrent_scale"):
    """What phase replaces: one run() per swept value."""
    return [run(cfg.replace(**{axis: float(v)})) for v in values]


def compare(cfg: Config, values=SCALES, axis: str = "recurrent_scale") -> tuple[float, float]:
    """Median seconds of phase and of the loop, timed alternately so a shared machine's drift hits both alike."""
    phase(cfg, values, axis), run(cfg)  # warm-up
    pairs = [(timed(lambda: phase(cfg, values, axis)), timed(lambda: loop_runs(cfg, values, axis))) for _ in range(ARGS.repeats)]
    p, loop = np.median(np.array(pairs), axis=0)
    return float(p), float(loop)


def gpu_time(cfg: Config) -> float | None:
    """Median wall seconds of the same job on CUDA (synchronised), or None without a GPU."""
    if not torch.cuda.is_available():
        return None
    gcfg = cfg.replace(device="cuda")
    phase(gcfg, SCALES)
    times = []
    for _ in range(ARGS.repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        phase(gcfg, SCALES)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    torch.set_num_threads(ARGS.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {ARGS.threads} thread(s), clock={ARGS.clock}, load average {load:.1f} on {os.cpu_count()} cores")
    print(f"job: {len(SCALES)} scales {SCALES[0]:g}..{SCALES[-1]:g} x T={JOB.seq_len} x H={JOB.hidden_size} x B={JOB.batch_size}, ", end="")
    print(f"{JOB.cell} {JOB.activation}, {JOB.dtype}; median of {ARGS.repeats}")
    p, loop = compare(JOB)
    verdict = "ok" if loop / p >= 5 and p <= 1 else "MISSES the target (>= 5x and <= 1 s)"
    print(f"  phase (one batched job): {p * 1e3:8.1f} ms")
    print(f"  loop of {len(SCALES)} run() calls: {loop * 1e3:8.1f} ms")
    print(f"  speed-up: {loop / p:.1f}x  [{verdict}]")
    g = gpu_time(JOB)
    print(f"  phase on CUDA ({torch.cuda.get_device_name(0)}): {g * 1e3:.1f} ms" if g is not None else "  CUDA: no GPU here")
    if ARGS.cells:
        print("other cells, same sizes (LSTM: also its forget-bias axis):")
        for name in CELLS:
            jobs = [("recurrent_scale", JOB.replace(cell=name, activation="tanh"))]
            if CELLS[name].has_forget_bias:
                jobs.append(("forget_bias", JOB.replace(cell=name)))
            for axis, cfg in jobs:
                values = SCALES if axis == "recurrent_scale" else BIASES
                p, loop = compare(cfg, values, axis)
                print(f"  {name:7s} {axis:15s} phase {p * 1e3:7.1f} ms   loop {loop * 1e3:7.1f} ms   {loop / p:5.1f}x")


if __name__ == "__main__":
    main()
