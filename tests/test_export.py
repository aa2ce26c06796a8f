"""Exports: the CSV parses back to the trace exactly; the command line and the snippet reproduce the run."""

import csv
import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import Config, run
from engine.__main__ import main
from engine.export import CSV_COLUMNS, command_line, python_snippet, trace_csv

ROOT = Path(__file__).resolve().parents[1]


def parse(text: str) -> dict:
    """CSV -> column name -> float64 array, or None for a column left empty."""
    rows = list(csv.DictReader(io.StringIO(text)))
    out = {}
    for name in CSV_COLUMNS:
        cells = [r[name] for r in rows]
        out[name] = None if all(c == "" for c in cells) else np.array([float(c) for c in cells])
    return out


def same(a, b) -> bool:
    """Bitwise-equal float64 values, NaN equal to NaN."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.mark.parametrize(
    "cfg",
    [
        Config(seq_len=30),  # RNN: a bound, no grad_c
        Config(cell="lstm", seq_len=30, task="copy", forget_bias=1.0),  # grad_c, no bound
        Config(activation="linear", recurrent_scale=8.0, seq_len=200, init="identity"),  # overflow: inf / nan cells
    ],
)
def test_csv_parses_back_to_the_trace_exactly(cfg):
    trace = run(cfg)
    back = parse(trace_csv(trace))
    T = cfg.seq_len
    assert same(back["t"], np.arange(T))
    assert same(back["grad_h"], trace.grad_h)
    assert same(back["grad_h_p10"], trace.grad_h_band[:, 0])
    assert same(back["grad_h_p90"], trace.grad_h_band[:, 1])
    assert same(back["contrib"], trace.contrib)
    for name in ("grad_c", "bound"):
        value = getattr(trace, name)
        assert (back[name] is None) == (value is None)
        if value is not None:
            assert same(back[name], value)


def test_csv_writes_non_finite_values_as_words():
    trace = run(Config(activation="linear", recurrent_scale=8.0, seq_len=200, init="identity"))
    text = trace_csv(trace)
    assert not np.isfinite(trace.grad_h).all()  # the case is meant to overflow float32
    assert "inf" in text or "nan" in text
    assert "None" not in text


def test_command_line_names_only_non_default_options_in_kebab_case():
    cfg = Config(cell="lstm", seq_len=80, forget_bias=1.0, clip="norm", clip_threshold=0.5)
    words = shlex.split(command_line(cfg))
    assert words[:4] == ["python", "-m", "engine", "run"] and words[-1] == "--json"
    assert words[4:-1] == ["--cell", "lstm", "--seq-len", "80", "--forget-bias", "1.0", "--clip", "norm", "--clip-threshold", "0.5"]
    assert command_line(Config()) == "python -m engine run --json"
    train = shlex.split(command_line(cfg, steps=20, every=5))
    assert train[3] == "train" and train[-5:] == ["--steps", "20", "--every", "5", "--json"]


def _subprocess(command: str) -> str:
    """stdout of the shown command run as a real process, as a user would paste it."""
    words = shlex.split(command)
    assert words[0] == "python"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _in_process(command: str, capsys) -> str:
    """stdout of the shown command through `python -m engine`'s own main(argv), in this process (no torch import to pay)."""
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "engine"]
    assert main(words[3:]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "cfg",
    [
        Config(cell="lstm", seq_len=40, forget_bias=1.0, hidden_size=16, truncation=7),
        Config(cell="gru", task="sine", seq_len=25, recurrent_scale=0.7, dtype="float64", seed=3),
        Config(cell="lru", seq_len=30, init="identity", recurrent_scale=0.95),
    ],
)
def test_command_line_reproduces_grad_h(cfg, capsys):
    """In-process: the train case below runs its command as a real process."""
    shown = json.loads(_in_process(command_line(cfg), capsys))
    assert Config(**shown["config"]) == cfg
    np.testing.assert_allclose(np.array(shown["grad_h"], dtype=np.float64), run(cfg).grad_h, rtol=1e-12, atol=0)


def test_train_command_line_reproduces_the_losses():
    from engine import train

    cfg = Config(cell="lstm", seq_len=20, hidden_size=8, lr=0.05)
    lines = [json.loads(line) for line in _subprocess(command_line(cfg, steps=6, every=2)).splitlines()]
    expected = {s.step: s.loss for s in train(cfg, 6, 2)}
    assert [line["step"] for line in lines] == list(expected)
    np.testing.assert_allclose([line["loss"] for line in lines], list(expected.values()), rtol=1e-12)


def test_python_snippet_runs_and_reproduces_the_run():
    cfg = Config(cell="indrnn", activation="relu", seq_len=33, recurrent_scale=1.1, init="identity")
    snippet = python_snippet(cfg)
    assert snippet.startswith("from engine import Config, run")
    scope = {}
    exec(compile(snippet.replace("print(", "(lambda *a: None)("), "<snippet>", "exec"), scope)
    assert scope["cfg"] == cfg
    np.testing.assert_array_equal(scope["trace"].grad_h, run(cfg).grad_h)


def test_python_training_snippet_runs():
    cfg = Config(seq_len=10, hidden_size=4)
    scope = {}
    exec(compile(python_snippet(cfg, steps=3, every=1).replace("print(", "(lambda *a: None)("), "<snippet>", "exec"), scope)
    assert scope["snapshot"].step == 2 and scope["cfg"] == cfg
