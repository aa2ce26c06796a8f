"""`python -m engine phase ... --json` prints the same numbers as engine.phase, as strict JSON; bad options exit 2 with one line."""

import json

import numpy as np
import pytest
from test_cli_flags import BASE, FIELD_CASES, argv, cli_json

from engine import Config, phase
from engine.__main__ import main, parse_scales


def _cli(capsys, *args: str) -> str:
    """stdout of `python -m engine phase ...`, through the same main(argv) in this process (exit code 0 asserted)."""
    assert main(["phase", *args]) == 0
    return capsys.readouterr().out


def _nulls(a: np.ndarray):
    return np.where(np.isfinite(a), a, None).tolist()


def test_cli_json_equals_the_api(capsys):
    """An overflowing linear RNN, so the JSON also shows nulls for -inf / NaN and the overflow flags."""
    sizes = ("--seq-len", "40", "--hidden-size", "4", "--batch-size", "2")
    out = _cli(capsys, "--activation", "linear", *sizes, "--scales", "0.5:9:3", "--json")
    got = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON token {c}"))
    record = phase(Config(activation="linear", seq_len=40, hidden_size=4, batch_size=2), np.linspace(0.5, 9, 3))
    assert got["scales"] == record.scales.tolist()
    assert got["distance"] == list(range(40))
    assert got["log_ratio"] == _nulls(record.log_ratio)
    assert got["grad_h"] == _nulls(record.grad_h)
    assert got["sigma_max"] == record.sigma_max.tolist() and got["boundary"] == record.boundary == 1.0
    assert got["overflow"] == record.overflow.tolist() == [False, True, True]  # the gradient overflows float32 (h_T-1 ~ 1e26)
    assert got["overflow_grad_step"] == [None, *record.overflow_grad_step[1:].tolist()]
    assert got["overflow_step"] == [None if s < 0 else int(s) for s in record.overflow_step]
    assert got["nonfinite"] is True and got["axis"] == "recurrent_scale"
    assert got["config"] == record.config.to_dict()


def test_cli_forget_bias_axis(capsys):
    sizes = ("--seq-len", "8", "--hidden-size", "3", "--batch-size", "2")
    got = json.loads(_cli(capsys, "--cell", "lstm", *sizes, "--axis", "forget_bias", "--scales=-1,0,2", "--json"))
    record = phase(Config(cell="lstm", seq_len=8, hidden_size=3, batch_size=2), [-1.0, 0.0, 2.0], axis="forget_bias")
    assert got["axis"] == "forget_bias" and got["scales"] == [-1.0, 0.0, 2.0]
    assert got["log_ratio"] == _nulls(record.log_ratio) and got["gamma"] is None and got["boundary"] is None


@pytest.mark.parametrize(
    "args, words",
    [
        (["--scales", "0:1:3"], "argument --scales: the value 0 of recurrent_scale must be greater than 0.0"),
        (["--scales", "1:2"], "argument --scales: must be A:B:N"),
        (["--scales", "1:2:0"], "argument --scales: must be A:B:N"),
        (["--scales", "0.5:1.5:402"], "argument --scales: must be A:B:N with N from 1 to 401"),
        (["--scales", "x,1"], "argument --scales: must be A:B:N"),
        (["--scales", "nan"], "argument --scales: must be A:B:N"),
        (["--axis", "forget_bias", "--scales", "0,1"], "argument --axis: forget_bias applies to cells with a forget gate"),
        (["--axis", "seq_len"], "argument --axis: invalid choice"),
        (["--seq-len", "0"], "argument --seq-len: must be an integer from 1 to 2000"),
    ],
)
def test_bad_options_exit_2_with_one_line(args, words, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["phase", *args, "--json"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err


def test_parse_scales():
    assert parse_scales("0.5:1.5:3") == [0.5, 1.0, 1.5]
    assert parse_scales("2") == [2.0]
    assert parse_scales("0.5,1,3") == [0.5, 1.0, 3.0]
    assert len(parse_scales("0.5:1.5:41")) == 41


@pytest.mark.parametrize("name", sorted(FIELD_CASES))
def test_each_config_flag_reaches_the_phase_diagram(capsys, name):
    """Every Config flag of `phase` lands in the record's config and, where it can, in its numbers."""
    raw, needs = FIELD_CASES[name]
    base = {**BASE, **needs}
    cfg = Config.from_query({k: str(v) for k, v in {**base, name: raw}.items()})
    axis = "forget_bias" if name == "recurrent_scale" else "recurrent_scale"  # the swept field overrides its own flag
    if axis == "forget_bias":
        cfg, base = cfg.replace(cell="lstm"), {**base, "cell": "lstm"}
    values = "0.5,1.5" if axis == "recurrent_scale" else "0,2"
    got = cli_json(capsys, "phase", *argv({**base, name: raw}), "--axis", axis, "--scales", values, "--json")[0]
    assert got == json.loads(phase(cfg, [float(v) for v in values.split(",")], axis).to_json())
    assert got["config"] == cfg.to_dict()


def test_phase_axis_and_scales_flags_are_used(capsys):
    got = cli_json(capsys, "phase", *argv({**BASE, "cell": "lstm"}), "--axis", "forget_bias", "--scales", "0.5:1.5:3", "--json")[0]
    assert got["axis"] == "forget_bias" and got["scales"] == [0.5, 1.0, 1.5]
