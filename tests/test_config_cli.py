"""Config validation names the field; URL round-trip; the command line contract of DESIGN.md section 3."""

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine import Config, ConfigError
from engine.__main__ import main

ROOT = Path(__file__).resolve().parents[1]

BAD = [
    ("cell", "cnn"),
    ("activation", "gelu"),
    ("task", "mnist"),
    ("seq_len", 0),
    ("seq_len", 2001),
    ("seq_len", 3.5),
    ("hidden_size", 0),
    ("hidden_size", 1025),
    ("batch_size", 513),
    ("init", "xavier"),
    ("recurrent_scale", 0.0),
    ("recurrent_scale", float("nan")),
    ("recurrent_scale", float("inf")),
    ("recurrent_scale", -1.0),
    ("clip", "sometimes"),
    ("clip_threshold", 0.0),
    ("lr", -0.1),
    ("lr", True),
    ("seed", -1),
    ("dtype", "float16"),
    ("device", "tpu"),
    ("truncation", -1),
]


@pytest.mark.parametrize("name,value", BAD)
def test_out_of_range_field_is_named(name, value):
    with pytest.raises(ConfigError) as err:
        Config(**{name: value})
    assert err.value.field == name
    assert str(err.value).startswith(f"{name}: ")


@pytest.mark.parametrize(
    "kwargs,field",
    [
        (dict(cell="lstm", activation="relu"), "activation"),
        (dict(cell="gru", forget_bias=1.0), "forget_bias"),
        (dict(seq_len=10, truncation=11), "truncation"),
        (dict(truncation=3, k1=2, k2=4), "truncation"),
        (dict(k1=3), "k2"),
        (dict(k1=5, k2=3), "k2"),
        (dict(task="adding", seq_len=1), "seq_len"),
    ],
)
def test_inconsistent_combinations_are_named(kwargs, field):
    with pytest.raises(ConfigError) as err:
        Config(**kwargs)
    assert err.value.field == field


def test_tbptt_property():
    assert Config().tbptt is None
    assert Config(truncation=5).tbptt == (5, 5)
    assert Config(k1=2, k2=6).tbptt == (2, 6)


def test_query_round_trip_and_readable_values():
    cfg = Config(cell="lstm", seq_len=123, recurrent_scale=1.25, clip="norm", forget_bias=1.0)
    q = cfg.to_query()
    assert q["cell"] == "lstm" and q["seq_len"] == "123" and q["recurrent_scale"] == "1.25"
    assert "hidden_size" not in q  # defaults are left out of the URL
    assert Config.from_query(q) == cfg
    assert Config.from_query({**q, "unrelated": "x"}) == cfg
    with pytest.raises(ConfigError, match="seq_len"):
        Config.from_query({"seq_len": "many"})


def cli(*args):
    """The real process: `python -m engine ...` (pays a torch import; used where only a process can show it)."""
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def cli_here(capsys, *args) -> SimpleNamespace:
    """The same main(argv) as `python -m engine`, in this process: returncode, stdout, stderr as a process would give."""
    try:
        code = main(list(args))
    except SystemExit as stop:
        code = stop.code
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)


def test_cli_run_json_contract(capsys):
    r = cli_here(capsys, "run", "--cell", "lstm", "--seq-len", "12", "--hidden-size", "4", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for key in (
        "config",
        "loss",
        "grad_h",
        "grad_h_band",
        "grad_c",
        "contrib",
        "gates",
        "grad_norm_before_clip",
        "grad_norm_after_clip",
        "clipped",
        "spectral_radius",
        "sigma_max",
        "gamma",
        "nonfinite",
    ):
        assert key in d, key
    assert len(d["grad_h"]) == 12 and len(d["grad_h_band"]) == 12 and len(d["grad_c"]) == 12
    assert set(d["gates"]) == {"i", "f", "g", "o"} and len(d["gates"]["f"]) == 12 and len(d["gates"]["f"][0]) == 4
    assert d["config"] == {f.name: getattr(Config(cell="lstm", seq_len=12, hidden_size=4), f.name) for f in fields(Config)}


def test_cli_train_streams_json_lines(capsys):
    r = cli_here(capsys, "train", "--seq-len", "6", "--hidden-size", "4", "--steps", "5", "--every", "2", "--truncation", "3", "--json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [d["step"] for d in lines] == [0, 2, 4]
    assert all(d["config"]["truncation"] == 3 for d in lines)


def test_cli_overflow_is_strict_json_with_nulls(capsys):
    r = cli_here(capsys, "run", "--activation", "linear", "--init", "identity", "--recurrent-scale", "1.5", "--seq-len", "500", "--json")
    assert r.returncode == 0, r.stderr
    assert "NaN" not in r.stdout and "Infinity" not in r.stdout
    d = json.loads(r.stdout)
    assert d["nonfinite"] is True and None in d["grad_h"]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["run", "--seq-len", "5000"], "--seq-len"),
        (["run", "--cell", "cnn"], "--cell"),
        (["run", "--recurrent-scale", "abc"], "--recurrent-scale"),
        (["run", "--cell", "gru", "--activation", "relu"], "--activation"),
        (["train", "--steps", "0"], "--steps"),
        (["run", "--bogus"], "--bogus"),
    ],
)
def test_cli_bad_option_exits_2_with_one_line(args, needle, capsys):
    r = cli_here(capsys, *args)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr
    assert r.stdout == ""


def test_the_real_process_exits_2_with_one_line():
    """What only a process shows: its exit status and its two streams (the cases above call the same main in this process)."""
    r = cli("run", "--seq-len", "5000")
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "--seq-len" in r.stderr
    assert r.stdout == ""


def test_cli_help_documents_every_option():
    r = cli("train", "--help")
    assert r.returncode == 0
    for f in fields(Config):
        assert "--" + f.name.replace("_", "-") in r.stdout
    assert "--steps" in r.stdout and "--every" in r.stdout
