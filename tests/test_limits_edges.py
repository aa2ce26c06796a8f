"""Every limit, exactly at its edge: the value on the limit is accepted unchanged, one step beyond is refused by name.

Each range is read from its one source (the Config field table, ui.serving.limits, the CLI's own constants),
never restated here, so a limit moved by one (an off-by-one `<` for `<=`) fails a test on
every path that reads it: Config, the page's links, the command line. "One step" is 1 for an
integer and the next float (math.nextafter) for a number: nothing lies between the two values.
"""

import json
import math
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from engine import Config, ConfigError, train
from engine.__main__ import build_parser, config_from, main, parse_scales
from engine.config import field_info
from engine.phase import MAX_VALUES, check_values
from ui.page import links, widget_values
from ui.serving import limits

ROOT = Path(__file__).resolve().parents[1]
RANGED = tuple(f.name for f in fields(Config) if f.metadata["lo"] is not None)
CLOSED_FLOATS = ("forget_bias",)  # Config accepts both ends; every other float field must be strictly above its lo
CAP = limits.caps({})


def context(name: str, value) -> dict:
    """The other settings a value of `name` needs to be legal on its own (k <= T, k1 with k2, forget_bias on an LSTM)."""
    T = field_info("seq_len")["hi"]
    if name == "truncation":
        return dict(seq_len=T)
    if name == "k1":
        return dict(seq_len=T, k2=T)
    if name == "k2":
        return dict(seq_len=T, k1=1)
    if name == "forget_bias":
        return dict(cell="lstm")
    if name == "seq_len":
        return dict(task="first")  # the adding problem needs T >= 2; the field's own lower limit is 1
    return {}


def is_int(name: str) -> bool:
    return field_info(name)["type"] in ("int", int)


def edges(name: str) -> tuple[list, list]:
    """(values on the limits, values one step outside) of a Config field, from its own table entry."""
    info = field_info(name)
    lo, hi = info["lo"], info["hi"]
    if is_int(name):
        inside = [lo, hi] if name not in ("k1", "k2") else [1, hi]  # 0 means "not given" for k1/k2: 1 is the least real value
        return inside, [lo - 1, hi + 1]
    if name in CLOSED_FLOATS:
        return [float(lo), float(hi)], [math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)]
    return [math.nextafter(lo, math.inf), float(hi)], [float(lo), math.nextafter(hi, math.inf)]


def test_the_ranged_fields_are_the_ones_the_design_names():
    assert set(RANGED) == {
        "seq_len",
        "hidden_size",
        "batch_size",
        "recurrent_scale",
        "forget_bias",
        "truncation",
        "k1",
        "k2",
        "clip_threshold",
        "lr",
        "seed",
    }
    assert (field_info("seq_len")["hi"], field_info("hidden_size")["hi"], field_info("batch_size")["hi"]) == (2000, 1024, 512)


@pytest.mark.parametrize("name", RANGED)
def test_config_accepts_each_limit_unchanged(name):
    for value in edges(name)[0]:
        cfg = Config(**context(name, value), **{name: value})
        assert getattr(cfg, name) == value and type(getattr(cfg, name)) is type(value), (name, value)


@pytest.mark.parametrize("name", RANGED)
def test_config_refuses_one_step_beyond_each_limit_by_name(name):
    for value in edges(name)[1]:
        with pytest.raises(ConfigError) as err:
            Config(**context(name, value), **{name: value})
        assert err.value.field == name and str(err.value).startswith(f"{name}: "), (name, value)
        hi = field_info(name)["hi"]
        assert (f"{hi:g}" if isinstance(hi, float) else str(hi)) in err.value.reason  # the message gives the range


def test_k_may_equal_t_and_not_exceed_it():
    for name in ("truncation", "k1", "k2"):
        pair = {"k1": dict(k2=7), "k2": dict(k1=1)}.get(name, {})
        assert getattr(Config(seq_len=7, **pair, **{name: 7}), name) == 7
        with pytest.raises(ConfigError) as err:
            Config(seq_len=7, **pair, **{name: 8})
        assert err.value.field == name
    assert Config(k1=4, k2=4).tbptt == (4, 4)
    with pytest.raises(ConfigError) as err:
        Config(k1=5, k2=4)
    assert err.value.field == "k2"
    assert Config(task="adding", seq_len=2).seq_len == 2
    assert Config(task="first", seq_len=1).seq_len == 1


# ---- the page's links ---------------------------------------------------------------------------------------------------


def link_edges(name: str, rng: dict) -> tuple[list, list]:
    """(values on the widget's limits, values one step outside) as the link parser sees them."""
    lo, hi = rng[name]
    if name in ("steps", "every", "truncation", "k1", "k2") or is_int(name):
        return [lo, hi], [lo - 1, hi + 1]
    return [float(lo), float(hi)], [math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)]


def link_text(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


LINK_NAMES = ("seq_len", "hidden_size", "batch_size", "recurrent_scale", "forget_bias", "clip_threshold", "lr", "seed")
LINK_NAMES += ("truncation", "k1", "k2", "steps", "every")


@pytest.mark.parametrize("name", LINK_NAMES)
def test_a_link_exactly_at_a_limit_is_taken_unchanged(name):
    rng = limits.ranges(CAP)
    for value in link_edges(name, rng)[0]:
        values, errors, warnings = links.parse({name: [link_text(value)]}, CAP)
        assert errors == [] and warnings == [], (name, value, errors, warnings)
        assert values[name] == value and type(values[name]) is type(value), (name, value)


@pytest.mark.parametrize("name", LINK_NAMES)
def test_a_link_one_step_outside_a_limit_is_refused_by_name(name):
    rng = limits.ranges(CAP)
    for value in link_edges(name, rng)[1]:
        if name in ("truncation", "k1", "k2") and value == 0:
            value = -1  # 0 is a word there (full BPTT, as in Config): the step below the least horizon 1 is -1
        values, errors, _ = links.parse({name: [link_text(value)]}, CAP)
        assert name not in values, (name, value)
        assert len(errors) == 1 and f"`{name}` refused" in errors[0], (name, value, errors)


def test_zero_truncation_in_a_link_means_full_bptt_not_an_error():
    for name in ("truncation", "k1", "k2"):
        values, errors, warnings = links.parse({name: ["0"]}, CAP)
        assert (values, errors, warnings) == ({}, [], [])


def test_page_modes_and_compared_settings_pass_the_link_parser_untouched():
    for query in ({"lesson": ["gru"]}, {"present": ["1"]}, {"vs.cell": ["lstm"]}, {"vs.seq_len": ["99999"]}):
        assert links.parse(query, CAP) == ({}, [], []), query


def test_an_old_link_with_k1_or_k2_alone_opens_tbptt():
    for name in ("k1", "k2"):
        values, _, _ = links.parse({name: ["5"]}, CAP)
        assert values == {name: 5, "bptt": "k1k2"}
    assert links.parse({"truncation": ["5"]}, CAP)[0] == {"truncation": 5, "bptt": "k"}


@pytest.mark.parametrize("name", ["seq_len", "hidden_size", "batch_size", "steps"])
def test_under_a_host_cap_the_cap_is_taken_above_it_clamped_and_beyond_the_engine_refused(name):
    cap = limits.caps({limits.CAP_ENV[name]: "17"})
    hard = field_info(name)["hi"]
    values, errors, warnings = links.parse({name: ["17"]}, cap)
    assert (values[name], errors, warnings) == (17, [], [])
    for above in (18, hard):
        values, errors, warnings = links.parse({name: [str(above)]}, cap)
        assert values[name] == 17 and errors == [] and len(warnings) == 1 and f"`{name}`={above}" in warnings[0]
    values, errors, _ = links.parse({name: [str(hard + 1)]}, cap)
    assert name not in values and len(errors) == 1 and f"`{name}` refused: must be an integer from 1 to {hard}" in errors[0]


@pytest.mark.parametrize("name", ["seq_len", "hidden_size", "batch_size", "steps"])
def test_a_host_cap_from_the_environment_is_taken_from_1_to_the_engine_limit(name):
    var, hard = limits.CAP_ENV[name], limits.caps({})[name]
    assert limits.caps({var: "1"})[name] == 1
    assert limits.caps({var: str(hard)})[name] == hard
    assert limits.caps({var: str(hard - 1)})[name] == hard - 1
    assert limits.caps({var: str(hard + 1)})[name] == hard  # beyond the engine: ignored
    assert limits.caps({var: "0"})[name] == hard


def test_truncation_links_follow_a_capped_t():
    cap = limits.caps({"RNNLAB_MAX_SEQ_LEN": "30"})
    values, errors, warnings = links.parse({"truncation": ["30"]}, cap)
    assert (values["truncation"], errors, warnings) == (30, [], [])
    values, errors, warnings = links.parse({"truncation": ["31"]}, cap)
    assert values["truncation"] == 30 and len(warnings) == 1 and errors == []


# ---- the command line ---------------------------------------------------------------------------------------------------


def option(name: str) -> str:
    return "--" + name.replace("_", "-")


def cli_args(name: str, value) -> list:
    args = ["run"]
    for k, v in {**context(name, value), name: value}.items():
        args += [option(k), link_text(v)]
    return args


@pytest.mark.parametrize("name", RANGED)
def test_the_cli_takes_each_limit_unchanged(name):
    parser = build_parser()
    for value in edges(name)[0]:
        cfg = config_from(parser.parse_args(cli_args(name, value)))
        assert getattr(cfg, name) == value and type(getattr(cfg, name)) is type(value), (name, value)


@pytest.mark.parametrize("name", RANGED)
def test_the_cli_exits_2_one_step_beyond_each_limit_naming_the_option(name, capsys):
    for value in edges(name)[1]:
        with pytest.raises(SystemExit) as stop:
            main(cli_args(name, value))
        err = capsys.readouterr().err
        assert stop.value.code == 2 and len(err.strip().splitlines()) == 1 and f"argument {option(name)}: " in err, (name, value, err)


@pytest.mark.parametrize("name", ["steps", "every"])
def test_train_steps_and_every_run_at_each_limit_of_the_table_and_exit_2_beyond(name, monkeypatch, capsys):
    """The CLI reads TrainingConfig's range: a private range put back into the CLI fails here."""
    calls = []
    monkeypatch.setattr("engine.train", lambda cfg, steps, every, connectivity=False, data=None: calls.append((steps, every)) or iter(()))
    other = "every" if name == "steps" else "steps"
    lo, hi = field_info(name)["lo"], field_info(name)["hi"]
    for value in (lo, hi):
        assert main(["train", f"--{name}", str(value), f"--{other}", "1"]) == 0
        assert calls[-1] == ((value, 1) if name == "steps" else (1, value))
    for value in (lo - 1, hi + 1):
        with pytest.raises(SystemExit) as stop:
            main(["train", f"--{name}", str(value)])
        assert stop.value.code == 2 and f"argument --{name}: must be an integer from {lo} to {hi} (got {value})" in capsys.readouterr().err
    assert len(calls) == 2
    assert main(["train"]) == 0 and calls[-1] == (field_info("steps")["default"], field_info("every")["default"])  # the page's defaults


def test_phase_takes_up_to_max_values_and_refuses_one_more():
    assert len(parse_scales(f"0.5:1.5:{MAX_VALUES}")) == MAX_VALUES
    assert len(parse_scales(",".join(["1"] * MAX_VALUES))) == MAX_VALUES
    assert parse_scales("0.7:0.7:1") == [0.7]
    for text in (f"0.5:1.5:{MAX_VALUES + 1}", ",".join(["1"] * (MAX_VALUES + 1)), "0.5:1.5:0"):
        with pytest.raises(ValueError, match="scales: "):
            parse_scales(text)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_real_cli_runs_t_2000_and_refuses_2001(capsys):
    """T=2000 in a real process; 2001 through the same main(argv) in this one (test_config_cli shows a real process's exit 2)."""
    small = ["--hidden-size", "1", "--batch-size", "1", "--json"]
    ok = cli("run", "--seq-len", "2000", *small)
    assert ok.returncode == 0, ok.stderr
    d = json.loads(ok.stdout)
    assert d["config"]["seq_len"] == 2000 and len(d["grad_h"]) == 2000
    with pytest.raises(SystemExit) as bad:
        main(["run", "--seq-len", "2001", *small])
    said = capsys.readouterr()
    assert bad.value.code == 2 and said.out == ""
    assert said.err.strip().splitlines() == ["error: argument --seq-len: must be an integer from 1 to 2000 (got 2001)"]


def test_a_lesson_at_a_host_cap_is_taken_without_a_note_and_one_above_is_clamped_with_one():
    cap = limits.caps({"RNNLAB_MAX_SEQ_LEN": "300"})
    values, notes = widget_values.resolve({"seq_len": 300}, cap)
    assert values["seq_len"] == 300 and notes == []
    values, notes = widget_values.resolve({"seq_len": 301}, cap)
    assert values["seq_len"] == 300 and len(notes) == 1 and "seq_len up to 300" in notes[0]


def test_phase_check_values_takes_max_values_and_refuses_one_more():
    cfg = Config(seq_len=5, hidden_size=2, batch_size=1)
    assert len(check_values(cfg, np.linspace(0.5, 1.5, MAX_VALUES))) == MAX_VALUES
    for values in (np.linspace(0.5, 1.5, MAX_VALUES + 1), []):
        with pytest.raises(ValueError, match=f"scales: give 1 to {MAX_VALUES} values"):
            check_values(cfg, values)
    hi = field_info("recurrent_scale")["hi"]
    assert check_values(cfg, [hi]).tolist() == [hi]
    with pytest.raises(ValueError, match="scales: the value .* of recurrent_scale must be"):
        check_values(cfg, [math.nextafter(hi, math.inf)])


def test_the_python_train_takes_steps_and_every_at_each_limit_of_the_table_and_refuses_beyond():
    cfg = Config(seq_len=3, hidden_size=2, batch_size=1, task="first")
    steps, every = field_info("steps"), field_info("every")
    first = next(train(cfg, steps=steps["hi"], every=every["hi"]))  # the first snapshot comes at step 0: nothing more runs
    assert first.step == 0
    assert next(train(cfg, steps=steps["lo"], every=every["lo"])).step == 0
    for name, value in (("steps", steps["lo"] - 1), ("steps", steps["hi"] + 1), ("every", every["lo"] - 1), ("every", every["hi"] + 1)):
        info = field_info(name)
        with pytest.raises(ValueError, match=f"{name}: must be an integer from {info['lo']} to {info['hi']}"):
            next(train(cfg, **{"steps": 1, "every": 1, name: value}))
