"""Command line: `python -m engine run|train|phase|estimate ... --json`, and `python -m engine calibrate --json`.

Options mirror the Config fields (kebab-cased) and come from the same field table, so the
CLI, the URL and the UI can never disagree. A bad option or value exits with code 2 and
one line naming the option and the allowed range; so does work whose estimated memory
(engine/cost.py) exceeds what is free now (engine/memory.py), refused before allocating.

BLAS and torch use one thread unless OMP_NUM_THREADS (or OPENBLAS/MKL_NUM_THREADS) says
otherwise: the thread rule of engine/threads.py, applied when the package is imported.
--steps and --every take TrainingConfig's ranges and defaults, the page's own.

`estimate` prints what a run (or, with --steps, a training) would cost before running it,
in seconds of the dev machine the cost model was fitted on, or of this one with --calibrate;
`calibrate` prints this machine's factors and what the probe cost (engine/calibration.py).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from .config import Config, ConfigError, TrainingConfig, field_info, parse_value
from .data import DataError
from .memory import TooBig


class OneLineParser(argparse.ArgumentParser):
    """argparse, but errors are a single line on stderr and exit code 2."""

    def error(self, message):
        sys.stderr.write(f"error: {message}\n")
        sys.exit(2)


def option(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m engine", description="RNN Gradient Flow Lab engine: BPTT traces as JSON.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    run_p = sub.add_parser("run", help="one forward + BPTT pass: one JSON object")
    train_p = sub.add_parser("train", help="train and stream snapshots: one JSON line each")
    phase_p = sub.add_parser("phase", help="the phase diagram: the last step's gradient k steps back, for many scales at once")
    est_p = sub.add_parser("estimate", help="seconds and bytes a run (or with --steps a training) would take, without running it")
    cal_p = sub.add_parser("calibrate", help="time a few small passes (under 1 s of CPU): this machine's speed over the fitted cost model")
    cal_p.add_argument("--json", action="store_true", help="print strict JSON (the only output format)")
    for p in (run_p, train_p, phase_p, est_p):
        for f in fields(Config):
            meta = f.metadata
            rng = f" ({meta['lo']}..{meta['hi']})" if meta["choices"] is None else ""
            metavar = None if meta["choices"] else ("N" if f.type in ("int", int) else "X")
            p.add_argument(
                option(f.name),
                dest=f.name,
                default=None,
                choices=meta["choices"],
                metavar=metavar,
                help=f"{meta['help']}{rng}; default {f.default}",
            )
        if p is not phase_p:
            p.add_argument("--connectivity", action="store_true", help="also record conn_x / conn_h (costs O(T^2))")
        p.add_argument("--json", action="store_true", help="print strict JSON (the only output format)")
    run_p.add_argument("--terms", action="store_true", help="also record `backward`: the parts of each step back (the formula view's)")
    for p in (run_p, train_p):
        p.add_argument("--series", metavar="FILE", help="your own series: a CSV or numbers (task series; at most 5 MB, 100000 values)")
        p.add_argument("--column", metavar="NAME", help="the --series file's column, by name or 0-based number; default: the last")
        p.add_argument(
            "--text", metavar="FILE", help="your own text for task text (UTF-8, at most 100000 characters); default: the bundled passage"
        )
    steps, every = field_info("steps"), field_info("every")  # TrainingConfig's table: the page's ranges and defaults
    for name, info in (("steps", steps), ("every", every)):
        text = f"{info['help']} (1..{info['hi']}); default {info['default']}"
        train_p.add_argument(f"--{name}", type=int, default=info["default"], help=text)
    est_p.add_argument("--steps", type=int, default=0, help=f"training steps to estimate (0..{steps['hi']}); default 0: one run")
    est_p.add_argument("--every", type=int, default=every["default"], help=f"the training's snapshot interval; default {every['default']}")
    est_p.add_argument("--calibrate", action="store_true", help="measure this machine first (under 1 s of CPU) and estimate its seconds")
    phase_p.add_argument(
        "--scales",
        default="0.5:1.5:41",
        help="swept values: A:B:N (N evenly spaced, ends included) or a comma list; write --scales=-1:4:21 for a negative start",
    )
    phase_p.add_argument("--axis", default="recurrent_scale", choices=("recurrent_scale", "forget_bias"), help="the swept Config field")
    return parser


def parse_scales(text: str) -> list[float]:
    """'0.5:1.5:41' -> 41 evenly spaced values from 0.5 to 1.5; '0.5,1,2' -> those values; ValueError with the allowed forms."""
    import numpy as np

    from .phase import MAX_VALUES

    usage = f"scales: must be A:B:N with N from 1 to {MAX_VALUES}, or a comma list of up to {MAX_VALUES} numbers (got {text!r})"
    try:
        if ":" in text:
            a, b, n = text.split(":")
            values = np.linspace(float(a), float(b), int(n)).tolist()
            if not 1 <= int(n) <= MAX_VALUES:
                raise ValueError
        else:
            values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(usage) from None
    if not 1 <= len(values) <= MAX_VALUES or not all(np.isfinite(values)):
        raise ValueError(usage)
    return values


def config_from(args) -> Config:
    values = {}
    for f in fields(Config):
        raw = getattr(args, f.name)
        if raw is not None:
            values[f.name] = parse_value(f, raw)
    return Config(**values)


def read_data(args, parser):
    """(task implied by --series/--text or None, the parsed Series/Text or None); bad files exit 2 with one line."""
    from .data import MAX_BYTES, parse_series, parse_text

    series, text = getattr(args, "series", None), getattr(args, "text", None)
    if series is not None and text is not None:
        parser.error("argument --text: give either --series or --text, not both")
    if getattr(args, "column", None) is not None and series is None:
        parser.error("argument --column: applies to --series only")
    name, path = ("series", series) if series is not None else ("text", text)
    if path is None:
        return None, None
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)  # one byte past the limit is enough to refuse a huge file without reading it all
        if name == "series":
            return "series", parse_series(raw, column=args.column, source=path, what="file")
        return "text", parse_text(raw, source=path, what="file")
    except OSError as err:
        parser.error(f"argument --{name}: cannot read {path!r}: {err.strerror or err}")
    except DataError as err:
        parser.error(f"argument --{name}: {err}")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "calibrate":
        return calibrate()
    data_task, data = read_data(args, parser)
    if data_task is not None:
        if args.task is None:
            args.task = data_task
        elif args.task != data_task:
            parser.error(f"argument --task: --{data_task} needs task {data_task} (got {args.task})")
    try:
        cfg = config_from(args)
    except ConfigError as err:
        parser.error(f"argument {option(err.field)}: {err.reason}")
    if args.command in ("train", "estimate"):
        one_run = args.command == "estimate" and args.steps == 0  # estimate --steps 0: one run, no training
        try:
            TrainingConfig(steps=1 if one_run else args.steps, every=args.every)
        except ConfigError as err:
            parser.error(f"argument {option(err.field)}: {err.reason}")
    if args.command == "estimate":
        return estimate(cfg, args)
    if args.command == "phase":
        from .phase import check_values

        try:
            values = check_values(cfg, parse_scales(args.scales), args.axis)
        except ValueError as err:
            name, _, reason = str(err).partition(": ")
            parser.error(f"argument --{name}: {reason}" if name in ("axis", "scales") else f"argument --scales: {err}")
    from . import run, to_json, train  # torch loads only once the options are valid

    mine = {} if data is None else {"data": data}  # --series / --text

    try:
        if args.command == "phase":
            from .phase import phase

            print(phase(cfg, values, args.axis).to_json())
        elif args.command == "run":
            print(to_json(run(cfg, connectivity=args.connectivity, terms=args.terms, **mine)))
        else:
            for snap in train(cfg, args.steps, args.every, connectivity=args.connectivity, **mine):
                print(to_json(snap), flush=True)
    except TooBig as err:  # the estimate exceeds the free memory: refused before allocating
        parser.error(str(err))
    except MemoryError:
        parser.error(f"out of memory: this setting needs about {estimate_gb(cfg):.1f} GB; reduce --seq-len, --hidden-size or --batch-size")
    except RuntimeError as err:  # torch's allocator says it with a RuntimeError
        if not out_of_memory(err):
            raise
        parser.error(f"out of memory: this setting needs about {estimate_gb(cfg):.1f} GB; reduce --seq-len, --hidden-size or --batch-size")
    except DataError as err:  # data too short for --seq-len, or task series without --series
        name, _, reason = str(err).partition(": ")
        parser.error(f"argument --seq-len: {reason}" if name == "seq_len" else f"argument --{cfg.task}: {err}")
    except ValueError as err:  # e.g. --device cuda without a GPU
        parser.error(str(err))
    except BrokenPipeError:
        pass
    return 0


def calibrate() -> int:
    """Probe this machine and print its factors, the probe's CPU seconds and each probe's fitted and measured time."""
    import json

    import torch

    from .calibration import calibrate as probe

    found = probe().to_dict()
    found["torch_threads"] = torch.get_num_threads()
    print(json.dumps(found))
    return 0


def estimate(cfg: Config, args) -> int:
    """Print {"seconds", "bytes", "calibrated", "scale"} of the run or training the options describe."""
    import json

    from . import cost

    if args.calibrate:
        from .calibration import calibrate as probe

        probe()
    seconds, nbytes = cost.estimate(cfg, connectivity=args.connectivity, train_steps=args.steps, every=args.every)
    scale = cost.HOST.get()
    out = {"seconds": seconds, "bytes": nbytes, "calibrated": cost.HOST.calibrated, "scale": scale._asdict(), "config": cfg.to_dict()}
    print(json.dumps(out))
    return 0


def out_of_memory(err: BaseException) -> bool:
    """True for torch's allocation failures (CPU: "can't allocate memory"; CUDA: "out of memory")."""
    text = str(err).lower()
    return "can't allocate memory" in text or "out of memory" in text or "not enough memory" in text


def estimate_gb(cfg: Config) -> float:
    from .cost import estimate

    return estimate(cfg).bytes / 1e9


if __name__ == "__main__":
    sys.exit(main())
