"""App benchmark: server-side latency of a page rerun (AppTest) and the rate of streamed training updates.

Run `python bench/bench_app.py [--reruns N] [--steps N]`. Targets on the 2-core dev machine:
a warm rerun at the defaults under 0.3 s, and at least 10 streamed chart updates a second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as app.py does under `streamlit run`; BLAS reads these once, at import
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from engine import TASKS, Config, TrainingLog, train  # noqa: E402
from viz.training import training_dashboard  # noqa: E402

TABS = ("Gradient flow", "Training", "Gates", "Connectivity", "Unrolled graph", "Learn")
SIZES = {"defaults": {}, "T=500, H=128": {"seq_len": "500", "hidden_size": "128"}}


def timed_run(at: AppTest) -> float:
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    return elapsed


def rerun_latency(query: dict, reruns: int) -> None:
    """First draw of each tab (cold: the caches start empty for each size), then the median of warm reruns (cache hits)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params.update(query)
    start = timed_run(at)
    print(f"  session start (cold): {start:6.3f} s")
    for tab in TABS:
        at.session_state["tab"] = tab
        cold = timed_run(at)
        warm = [timed_run(at) for _ in range(reruns)]
        print(f"  {tab:15s} first draw {cold:6.3f} s; warm rerun median {statistics.median(warm):6.3f} s over {reruns}")


def stream_rate(steps: int) -> None:
    """What the app does per snapshot with every=1: one engine step + record, the dashboard figure, its JSON.

    Wall time and CPU time (all threads of this process) are both given: on a shared machine
    other processes inflate the wall time, while the CPU time is what an idle machine would need.
    """
    cfg = Config()
    baseline = TASKS[cfg.task].trivial_loss
    list(train(cfg, 2, 1))  # warm-up: first allocations
    log = TrainingLog()
    wall, cpu = dict.fromkeys(("engine", "figure", "json"), 0.0), dict.fromkeys(("engine", "figure", "json"), 0.0)
    snapshots = train(cfg, steps, 1)
    marks = [(time.perf_counter(), time.process_time())]

    def mark(part):
        marks.append((time.perf_counter(), time.process_time()))
        wall[part] += marks[-1][0] - marks[-2][0]
        cpu[part] += marks[-1][1] - marks[-2][1]

    while (snap := next(snapshots, None)) is not None:
        log.add(snap)
        mark("engine")
        fig = training_dashboard(log, baseline=baseline)
        mark("figure")
        fig.to_json()
        mark("json")
    n = len(log)
    for name, t in (("wall", wall), ("CPU", cpu)):
        total = sum(t.values())
        per = ", ".join(f"{k} {1e3 * v / n:.1f} ms" for k, v in t.items())
        print(f"  {name:4s}: {n} snapshots in {total:.2f} s = {n / total:.1f} chart updates/s (target >= 10); per snapshot: {per}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reruns", type=int, default=7, help="warm reruns per tab (median reported)")
    ap.add_argument("--steps", type=int, default=100, help="training steps streamed with every=1")
    args = ap.parse_args(argv)
    print(f"BLAS/OpenMP threads: {os.environ['OPENBLAS_NUM_THREADS']}/{os.environ['OMP_NUM_THREADS']} (app.py's default is 1)")
    for name, query in SIZES.items():
        print(f"Page rerun latency, server side (AppTest), {name}:")
        rerun_latency(query, args.reruns)
    print("Streamed training updates, default config, every=1:")
    stream_rate(args.steps)


if __name__ == "__main__":
    main()
