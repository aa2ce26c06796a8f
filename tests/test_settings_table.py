"""One settings table (issue 18 item 1): one range and one default per setting, one parser, one combination check, one thread rule.

Every range and default below is read from the field tables (engine/config.py: Config, TrainingConfig),
never restated, and then asked of each reader: the page's widgets (ui.serving.limits, ui.page.widget_values),
its links (ui.page.links), the command line and engine.train. A reader that keeps a private range or
default fails here; a rule added to Config is repaired by the page without a word of the page changing.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
from dataclasses import fields
from pathlib import Path

import pytest

import engine.config
from engine import Config, ConfigError, TrainingConfig, train
from engine.__main__ import build_parser, main
from engine.config import field_info
from engine.threads import THREAD_VARS, one_thread_unless_chosen
from ui.page import links, rules, widget_values
from ui.serving import limits

ROOT = Path(__file__).resolve().parents[1]
CAP = limits.caps({})
TRAINING = tuple(f.name for f in fields(TrainingConfig))
NUMERIC = tuple(name for name in links.FIELDS if field_info(name)["choices"] is None)


def text(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@pytest.mark.parametrize("name", TRAINING)
def test_the_page_and_the_cli_read_one_range_and_one_default_from_the_table(name, monkeypatch, capsys):
    info = field_info(name)
    lo, hi, default = info["lo"], info["hi"], info["default"]
    assert limits.ranges(CAP)[name] == (lo, hi)  # the page's widget
    assert widget_values.defaults(CAP)[name] == default
    assert getattr(build_parser().parse_args(["train"]), name) == default  # the command line
    assert inspect.signature(train).parameters["every"].default == field_info("every")["default"]  # the Python API
    calls = []
    monkeypatch.setattr("engine.train", lambda cfg, steps, every, **kw: calls.append({"steps": steps, "every": every}) or iter(()))
    for value in (lo, hi):
        assert main(["train", f"--{name}", str(value)]) == 0 and calls[-1][name] == value
    for value in (lo - 1, hi + 1):
        with pytest.raises(SystemExit):
            main(["train", f"--{name}", str(value)])
        assert f"argument --{name}: must be an integer from {lo} to {hi} (got {value})" in capsys.readouterr().err
        with pytest.raises(ConfigError, match=f"{name}: must be an integer from {lo} to {hi}"):
            next(train(Config(seq_len=2, hidden_size=1, batch_size=1), **{"steps": 1, "every": 1, name: value}))
        values, errors, _ = links.parse({name: [str(value)]}, CAP)
        assert name not in values and len(errors) == 1 and f"from {lo} to {hi}" in errors[0]


@pytest.mark.parametrize("name", NUMERIC)
def test_a_link_at_each_limit_is_taken_one_past_it_refused_and_the_default_round_trips(name):
    lo, hi = limits.ranges(CAP)[name]
    integer = field_info(name)["type"] in ("int", int)
    past = (lo - 1, hi + 1) if integer else (math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf))
    for value in (lo, hi) if integer else (float(lo), float(hi)):
        values, errors, warnings = links.parse({name: [text(value)]}, CAP)
        assert (errors, warnings) == ([], []) and values[name] == value and type(values[name]) is type(value), (name, value)
    for value in past:
        if name in ("truncation", "k1", "k2") and value == 0:
            continue  # 0 means full BPTT there, a word of its own
        values, errors, _ = links.parse({name: [text(value)]}, CAP)
        assert name not in values and len(errors) == 1 and f"`{name}` refused" in errors[0], (name, value, errors)
    default = widget_values.defaults(CAP)[name]
    values, errors, _ = links.parse({name: [text(default)]}, CAP)
    assert errors == [] and values[name] == default


def test_a_config_written_as_a_link_is_read_back_by_the_page_as_the_same_config():
    cfg = Config(cell="lstm", task="copy", seq_len=77, hidden_size=9, recurrent_scale=0.9 + 1e-12, forget_bias=1.0, k1=3, k2=11, lr=1e-3)
    values, errors, warnings = links.parse({k: [v] for k, v in cfg.to_query().items()}, CAP)
    assert (errors, warnings) == ([], [])
    shown = widget_values.defaults(CAP) | values
    assert rules.settle(shown, CAP) == ({}, [])
    assert widget_values.read_config(shown) == (cfg, None)


def test_the_page_repairs_a_rule_added_to_config_without_a_word_of_the_page_changing(monkeypatch):
    """A planted combination rule (copy needs T <= 77) is settled with Config's own words: the page holds no copy of it.

    Planted where Config keeps T's own rules: before the rules that compare k with T (ui/page/rules.py relies on that order).
    """
    own = Config._check_combinations

    def planted(self):
        if self.task == "copy" and self.seq_len > 77:
            raise ConfigError("seq_len", f"the planted copy task takes at most 77 steps (got {self.seq_len})")
        own(self)

    monkeypatch.setattr(Config, "_check_combinations", planted)
    values = widget_values.defaults(CAP) | {"task": "copy", "seq_len": 500, "bptt": "k", "truncation": 400}
    changes, notes = rules.settle(values, CAP, moved="task")
    assert changes == {"seq_len": 77, "truncation": 77}
    assert "the planted copy task takes at most 77 steps: T changed from 500 to 77." in notes[0]
    assert widget_values.read_config(values | changes)[1] is None


def conversions(path: Path) -> list[str]:
    """Every int(...) or float(...) call in a file: a type switch of its own, beside Config's parse_value."""
    tree = ast.parse(path.read_text())
    return [
        f"{path.name}:{n.lineno}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("int", "float")
    ]


def test_links_and_the_page_values_parse_with_configs_parser_alone(tmp_path):
    for name in ("links.py", "widget_values.py", "rules.py"):
        assert conversions(ROOT / "ui" / "page" / name) == [], name
    planted = tmp_path / "planted.py"
    planted.write_text("def read(v):\n    return int(v['seq_len']), float(v['lr'])\n")
    assert conversions(planted) == ["planted.py:2", "planted.py:2"]


THREAD_NAMES = "|".join(THREAD_VARS)


def thread_rules(path: Path) -> list[str]:
    """Where a file names the thread variables itself (a .py string, a Dockerfile or Makefile assignment)."""
    if path.suffix == ".py":
        return [
            f"{path.name}:{n.lineno}"
            for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and re.fullmatch(THREAD_NAMES, n.value)
        ]
    return [f"{path.name}:{i}" for i, line in enumerate(path.read_text().splitlines(), 1) if re.search(rf"\b({THREAD_NAMES})=", line)]


def test_the_thread_rule_is_written_once(tmp_path):
    places = [ROOT / "app.py", ROOT / "Dockerfile", ROOT / "Makefile", *(ROOT / "engine").rglob("*.py"), *(ROOT / "ui").rglob("*.py")]
    found = {p.relative_to(ROOT).as_posix(): hits for p in places if (hits := thread_rules(p))}
    assert list(found) == ["engine/threads.py"], found
    planted = tmp_path / "Dockerfile"
    planted.write_text("FROM python\nENV OMP_NUM_THREADS=1 \\\n    MKL_NUM_THREADS=1\n")
    assert thread_rules(planted) == ["Dockerfile:2", "Dockerfile:3"]


def test_the_thread_rule_sets_one_thread_unless_the_environment_or_torch_chose():
    env: dict = {}
    assert one_thread_unless_chosen(env, modules={}) and env == dict.fromkeys(THREAD_VARS, "1")
    env = {"OMP_NUM_THREADS": "4"}
    assert not one_thread_unless_chosen(env, modules={}) and env == {"OMP_NUM_THREADS": "4"}
    env = {}
    assert not one_thread_unless_chosen(env, modules={"torch": object()}) and env == {}


def test_field_info_reads_both_tables_and_nothing_else():
    assert field_info("steps")["hi"] == TrainingConfig.__dataclass_fields__["steps"].metadata["hi"]
    assert field_info("seq_len")["default"] == Config().seq_len
    with pytest.raises(KeyError):
        engine.config.field_info("bptt")
