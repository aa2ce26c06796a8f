"""Exports a lecturer hands out: the trace as CSV, and the command line or Python that reproduces a run.

CSV cells hold Python's shortest round-trip repr of each float64 value, so `float(cell)`
gives back exactly the recorded number. A non-finite value is written `nan`, `inf` or
`-inf` (which `float` reads back); a column the run does not record (grad_c for cells
without a cell state, bound where no theory bound applies) is left empty in every row.
"""

from __future__ import annotations

import csv
import io
import shlex
from dataclasses import fields

import numpy as np

from .config import Config

CSV_COLUMNS = ("t", "grad_h", "grad_h_p10", "grad_h_p90", "grad_c", "contrib", "bound")


def _cell(value) -> str:
    """repr of a float64: exact round trip; nan / inf / -inf stay readable by float()."""
    return repr(float(value))


def trace_csv(trace) -> str:
    """One row per time step t: grad_h, its 10-90 % band, grad_c, contrib and the theory bound (see the module docstring)."""
    T = len(trace.grad_h)
    band = np.asarray(trace.grad_h_band, dtype=np.float64).reshape(T, 2)
    columns = {
        "grad_h": trace.grad_h,
        "grad_h_p10": band[:, 0],
        "grad_h_p90": band[:, 1],
        "grad_c": trace.grad_c,
        "contrib": trace.contrib,
        "bound": trace.bound,
    }
    values = {k: None if v is None else np.asarray(v, dtype=np.float64) for k, v in columns.items()}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in range(T):
        writer.writerow([t, *("" if v is None else _cell(v[t]) for v in values.values())])
    return out.getvalue()


def config_options(cfg: Config) -> list[str]:
    """The CLI options (kebab-case, as engine/__main__.py parses them) of every field that differs from the default."""
    default = Config()
    options = []
    for f in fields(Config):
        value = getattr(cfg, f.name)
        if value != getattr(default, f.name):
            options += ["--" + f.name.replace("_", "-"), repr(value) if isinstance(value, float) else str(value)]
    return options


def command_line(cfg: Config, steps: int | None = None, every: int | None = None, data_file: str | None = None) -> str:
    """The `python -m engine run ... --json` line (or `train` when steps or every is given) that reproduces cfg.

    data_file: the file that holds your own data (task series or text), as the page offers it for download.
    """
    if steps is None and every is None:
        words = ["python", "-m", "engine", "run", *config_options(cfg)]
    else:
        words = ["python", "-m", "engine", "train", *config_options(cfg)]
        words += [] if steps is None else ["--steps", str(int(steps))]
        words += [] if every is None else ["--every", str(int(every))]
    if data_file is not None and cfg.task in ("series", "text"):
        words += ["--" + cfg.task, data_file]
    return shlex.join([*words, "--json"])


def config_call(cfg: Config) -> str:
    """`Config(cell='lstm', seq_len=200)`: the non-default fields as Python literals."""
    default = Config()
    args = [f"{f.name}={getattr(cfg, f.name)!r}" for f in fields(Config) if getattr(cfg, f.name) != getattr(default, f.name)]
    return f"Config({', '.join(args)})"


def python_snippet(cfg: Config, steps: int | None = None, every: int | None = None, data_file: str | None = None) -> str:
    """A few lines of Python (run from the repository root) that reproduce the run, or the training when steps is given.

    data_file: the file that holds your own data (task series or text), read with engine.data's parser as the page read it.
    """
    load, arg = "", ""
    if data_file is not None and cfg.task in ("series", "text"):
        parser = "parse_series" if cfg.task == "series" else "parse_text"
        load = f"from engine.data import {parser}\n\ndata = {parser}(open({data_file!r}, 'rb').read(), source={data_file!r})\n"
        arg = ", data=data"
    if steps is None:
        return (
            "from engine import Config, run\n"
            f"{load}\n"
            f"cfg = {config_call(cfg)}\n"
            f"trace = run(cfg{arg})\n"
            "print(trace.grad_h)  # ||dL/dh_t||, batch mean, t = 0 .. T-1\n"
        )
    every_arg = f", every={int(every)}" if every is not None else ""
    return (
        "from engine import Config, train\n"
        f"{load}\n"
        f"cfg = {config_call(cfg)}\n"
        f"for snapshot in train(cfg, steps={int(steps)}{every_arg}{arg}):\n"
        "    print(snapshot.step, snapshot.loss)\n"
    )
