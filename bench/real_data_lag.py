"""Can a network see a cycle of p steps in real data? How much of the last step's gradient reaches p steps back, per seed.

The material for a lesson on real data (issue 19 item 6), measured, not assumed: on the bundled
monthly CO2 series (a yearly cycle, p = 12) and the yearly sunspots (a cycle of about 11), for
each seed the untrained (or briefly trained) network's ||d loss_{T-1} / dh_{T-1-p}|| over
||d loss_{T-1} / dh_{T-1}|| (grad_h_last), as log10, for a tanh RNN and an LSTM. Prints the range
over the seeds, so a claim can name it ("over seeds 0-49 the RNN keeps 10^a..10^b of it"). The number is
viz.measures.lag_ratio, the same function the "real-cycle" lesson's check (ui/teaching/lessons.py, kind "lag") reads.

    .venv/bin/python bench/real_data_lag.py [--seeds 50] [--steps 0] [--task co2] [--lag 12]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import Config, run, train  # noqa: E402
from viz.measures import lag_ratio as ratio_at_lag  # noqa: E402  the lesson's check reads the same function

CELLS = {
    "tanh RNN (orthogonal, scale 1)": dict(cell="rnn"),
    "LSTM (forget bias 0)": dict(cell="lstm"),
    "LSTM (forget bias 2)": dict(cell="lstm", forget_bias=2.0),
}


def lag_ratio(cfg: Config, lag: int, steps: int) -> float:
    """log10 of the last step's own gradient `lag` steps back over its value at T-1 (after `steps` training steps)."""
    trace = run(cfg) if steps == 0 else list(train(cfg, steps, steps))[-1].trace
    return float(np.log10(ratio_at_lag(trace, lag)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="co2", choices=("co2", "sunspots", "nile"))
    parser.add_argument("--lag", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--steps", type=int, default=0, help="training steps before measuring (0: untrained)")
    parser.add_argument("--seq-len", type=int, default=48)
    args = parser.parse_args()
    print(f"task {args.task}, T = {args.seq_len}, lag p = {args.lag}, seeds 0-{args.seeds - 1}, {args.steps} training steps")
    print("log10 ||d loss_{T-1}/dh_{T-1-p}|| / ||d loss_{T-1}/dh_{T-1}||: min / median / max over the seeds")
    for label, kw in CELLS.items():
        ratios = [
            lag_ratio(Config(task=args.task, seq_len=args.seq_len, hidden_size=32, batch_size=16, seed=s, **kw), args.lag, args.steps)
            for s in range(args.seeds)
        ]
        lo, mid, hi = np.min(ratios), np.median(ratios), np.max(ratios)
        print(f"  {label:32s} {lo:7.2f} {mid:7.2f} {hi:7.2f}")


if __name__ == "__main__":
    main()
