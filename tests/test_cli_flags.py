"""Every command-line flag has a test that fails if the flag is ignored; the flags are read from the parser itself."""

import argparse
import json

import pytest

from engine import Config, run, to_json, train
from engine.__main__ import build_parser, main

BASE = dict(seq_len=6, hidden_size=3, batch_size=2)
# flag's field -> (value on the command line, settings the base run needs for the flag to matter)
FIELD_CASES = {
    "cell": ("lstm", {}),
    "activation": ("relu", {}),
    "task": ("copy", {}),
    "seq_len": ("9", {}),
    "hidden_size": ("5", {}),
    "batch_size": ("3", {}),
    "init": ("identity", {}),
    "recurrent_scale": ("0.7", {}),
    "forget_bias": ("1.5", {"cell": "lstm"}),
    "truncation": ("2", {}),
    "k1": ("2", {"k1": 4, "k2": 4}),
    "k2": ("5", {"k1": 2, "k2": 2}),
    "clip": ("value", {"clip_threshold": 0.001}),
    "clip_threshold": ("0.001", {"clip": "norm"}),
    "optimizer": ("sgd", {}),
    "lr": ("0.5", {}),
    "seed": ("7", {}),
    "dtype": ("float64", {}),
    "device": ("cpu", {}),
}
TRAIN_ONLY = {"optimizer", "lr"}  # a single pass never updates the weights: they show in the second training snapshot
SAME_NUMBERS = {"device"}  # auto is the CPU on a machine without CUDA: only the recorded config changes
OTHER_FLAGS = {"--connectivity", "--json", "--steps", "--every"}
DATA_FLAGS = {"--series", "--column", "--text"}  # your own data: cases in tests/test_data_tasks.py
NUMBERS = ("loss", "grad_h", "hidden", "param_grad_norms", "grad_norm_after_clip", "contrib")


def flags_of(parser: argparse.ArgumentParser) -> dict:
    """{subcommand: set of long options} as argparse knows them (help excluded)."""
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: {o for a in p._actions for o in a.option_strings if o not in ("-h", "--help")} for name, p in sub.choices.items()}


def argv(values: dict) -> list:
    return [part for k, v in values.items() for part in ("--" + k.replace("_", "-"), str(v))]


def cli_json(capsys, *args) -> list:
    assert main(list(args)) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def numbers(d: dict) -> dict:
    return {k: d[k] for k in NUMBERS}


def test_every_flag_of_the_parser_has_a_case():
    flags = flags_of(build_parser())
    assert set(flags) == {"run", "train", "phase", "estimate", "calibrate"}
    wanted = {"--" + name.replace("_", "-") for name in FIELD_CASES}
    terms = {"--terms"}  # its case: tests/test_backward_terms.py (the JSON's backward, null without it)
    assert flags["run"] == wanted | {"--connectivity", "--json"} | terms | DATA_FLAGS, "a new flag needs a case in this file"
    assert flags["train"] == wanted | OTHER_FLAGS | DATA_FLAGS, "a new flag needs a case in this file"
    assert flags["phase"] == wanted | {"--json", "--scales", "--axis"}, "a new flag needs a case in tests/test_phase_cli.py"
    estimate = wanted | OTHER_FLAGS | {"--calibrate"}
    assert flags["estimate"] == estimate and flags["calibrate"] == {"--json"}, "a new flag needs a case in tests/test_cost.py"


@pytest.mark.parametrize("name", sorted(FIELD_CASES))
def test_each_config_flag_reaches_the_config_and_the_numbers(capsys, name):
    raw, needs = FIELD_CASES[name]
    base = {**BASE, **needs}
    changed = {**base, name: raw}
    cfg = Config.from_query({k: str(v) for k, v in changed.items()})
    assert getattr(cfg, name) != getattr(Config.from_query({k: str(v) for k, v in base.items()}), name)
    command = ["train", "--steps", "2", "--every", "1"] if name in TRAIN_ONLY else ["run"]
    (*_, got), (*_, ref) = cli_json(capsys, *command, *argv(changed), "--json"), cli_json(capsys, *command, *argv(base), "--json")
    assert got["config"] == cfg.to_dict()
    api = list(train(cfg, 2, 1))[-1] if name in TRAIN_ONLY else run(cfg)
    assert got == json.loads(to_json(api))  # the run itself used the value, not only the recorded config
    if name in SAME_NUMBERS:
        assert numbers(got) == numbers(ref)
    else:
        assert numbers(got) != numbers(ref)


def test_connectivity_flag_records_the_connectivity(capsys):
    (plain,) = cli_json(capsys, "run", *argv(BASE), "--json")
    (conn,) = cli_json(capsys, "run", *argv(BASE), "--connectivity", "--json")
    assert plain["conn_x"] is None and conn["conn_x"] is not None
    assert conn == json.loads(to_json(run(Config(**BASE), connectivity=True)))
    lines = cli_json(capsys, "train", *argv(BASE), "--steps", "2", "--every", "1", "--connectivity", "--json")
    assert all(d["conn_x"] is not None and len(d["conn_x"]) == d["config"]["seq_len"] for d in lines)


@pytest.mark.parametrize("steps,every,want", [(5, 2, [0, 2, 4]), (3, 2, [0, 2]), (4, 1, [0, 1, 2, 3]), (4, 3, [0, 3])])
def test_steps_and_every_decide_which_snapshots_come_out(capsys, steps, every, want):
    lines = cli_json(capsys, "train", *argv(BASE), "--steps", str(steps), "--every", str(every), "--json")
    assert [d["step"] for d in lines] == want
    assert sum(len(d["history"]["step"]) for d in lines) == steps  # every step is in exactly one snapshot's history


def test_json_is_the_only_format_and_strict(capsys):
    (a,) = cli_json(capsys, "run", *argv(BASE), "--json")
    (b,) = cli_json(capsys, "run", *argv(BASE))
    assert a == b == json.loads(to_json(run(Config(**BASE))))
