"""Fuzzing with hypothesis: Config, the CLI, link parsing and the page only ever answer bad input with their own clean errors.

Profiles: "ci" (default; the whole file well under a minute) and "long" (RNNLAB_FUZZ=long:
~20x the examples, for a run before a release). Counts per test are in MAX_EXAMPLES.
"""

from __future__ import annotations

import contextlib
import decimal
import fractions
import io
import json
import os
from dataclasses import fields
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine import Config, ConfigError
from engine.__main__ import main
from ui.page import links
from ui.serving import limits

LONG = os.environ.get("RNNLAB_FUZZ", "").strip().lower() == "long"
SHORT = {"config": 300, "cli": 120, "links": 300, "page": 6}
MAX_EXAMPLES = {"config": 6000, "cli": 2500, "links": 6000, "page": 60} if LONG else SHORT
FIELDS = {f.name: f for f in fields(Config)}
APP = str(Path(__file__).resolve().parents[1] / "app.py")


def examples(kind: str):
    return settings(max_examples=MAX_EXAMPLES[kind], deadline=None, suppress_health_check=list(HealthCheck), database=None)


def in_range(name: str):
    """Values a Config accepts for this field alone (combinations may still be refused)."""
    meta = FIELDS[name].metadata
    if meta["choices"] is not None:
        return st.sampled_from(meta["choices"])
    if FIELDS[name].type in ("int", int):
        return st.integers(meta["lo"], min(meta["hi"], 64))
    return st.floats(meta["lo"], meta["hi"], exclude_min=name != "forget_bias")


def own_type(name: str):
    """Values of the field's own type, mostly out of range."""
    if FIELDS[name].metadata["choices"] is not None:
        return st.text(max_size=8)
    if FIELDS[name].type in ("int", int):
        return st.integers(-(10**20), 10**20)
    return st.floats(allow_nan=True, allow_infinity=True)


ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=12),
    st.binary(max_size=6),
    st.complex_numbers(max_magnitude=10),
    st.lists(st.integers(), max_size=3),
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([np.int64(3), np.float32("nan"), np.float64(0.5), np.bool_(True), decimal.Decimal("1.5"), fractions.Fraction(1, 3)]),
    st.builds(object),
)


@st.composite
def config_kwargs(draw):
    names = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=len(FIELDS)))
    return {n: draw(st.one_of(in_range(n), in_range(n), own_type(n), ODD)) for n in names}


@examples("config")
@given(config_kwargs())
def test_config_raises_only_config_error(kw):
    try:
        cfg = Config(**kw)
    except ConfigError as err:
        event("ConfigError")
        assert err.field in FIELDS and str(err).startswith(err.field + ": ")
        return
    event("a Config")
    # a value is kept as its field's plain Python type (numpy numbers, Fractions and Decimals are converted)
    assert all(type(getattr(cfg, n)) in (int, float, str) for n in kw)
    assert all(getattr(cfg, n) == type(getattr(cfg, n))(v) or (v != v) for n, v in kw.items())


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


CLI_NUMBERS = st.one_of(
    st.integers(-5, 12).map(str),
    st.sampled_from(["0", "1", "2", "1e3", "nan", "inf", "-inf", "1e309", "0x10", " 4 ", "4.0", "", "٣", "3_0", "--json"]),
    st.text(max_size=8),
)


@st.composite
def cli_argv(draw):
    command = draw(st.sampled_from(["run", "train", "phase"]))
    argv = [command]
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=5)):
        meta = FIELDS[name].metadata
        good = st.sampled_from(meta["choices"]) if meta["choices"] else st.integers(1, 6).map(str)
        argv += ["--" + name.replace("_", "-"), draw(st.one_of(good, good, CLI_NUMBERS))]
    if command == "train":
        argv += draw(st.sampled_from([[], ["--steps", "2"], ["--steps", "0"], ["--every", "x"], ["--steps", "3", "--every", "2"]]))
    if command == "phase":
        argv += ["--scales", draw(st.sampled_from(["0.5:1.5:3", "0.9,1.1", "x", "0:1:0", "1:2:99999", "nan,1"]))]
        argv += draw(st.sampled_from([[], ["--axis", "forget_bias"], ["--axis", "lr"]]))
    extras = [[], [], [], ["--bogus"], ["--seq-len"], ["extra"]] + ([["--connectivity"]] if command != "phase" else [])
    argv += draw(st.sampled_from(extras))
    return argv + ["--json"]


@examples("cli")
@given(cli_argv())
def test_cli_is_strict_json_or_exit_2_with_one_line(argv):
    small = {"--seq-len": "8", "--hidden-size": "4", "--batch-size": "2"}  # sizes the fuzzer did not pick stay small
    for flag, value in small.items():
        if flag not in argv:
            argv = argv[:1] + [flag, value] + argv[1:]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as done:
            code = done.code
    event(f"exit code {code}")
    if code == 0:
        lines = out.getvalue().splitlines()
        assert lines and err.getvalue() == ""
        for line in lines:
            assert isinstance(strict_json(line), dict)
    else:
        assert code == 2 and out.getvalue() == ""
        said = err.getvalue()
        assert said.endswith("\n") and said.count("\n") == 1 and said.startswith("error: "), said


OTHER_MODULES = links.PAGE_PARAMS + ("vs.cell", "vs.seq_len", "vs.recurrent_scale")  # read by present, lessons, compare
QUERY_KEYS = st.one_of(st.sampled_from(links.FIELDS + links.EXTRAS + ("device",) + OTHER_MODULES), st.text(max_size=10))
QUERY_VALUES = st.one_of(
    st.text(max_size=20),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["[x](https://evil.example)", "![t](https://evil.example/p.png)", "<b>x</b>", "$x$", "`x`", "0", "1" + "0" * 400]),
)


@examples("links")
@given(st.dictionaries(QUERY_KEYS, st.lists(QUERY_VALUES, min_size=0, max_size=3), max_size=8), st.booleans())
def test_every_link_parameter_is_used_or_named(query, public):
    cap = limits.caps({"RNNLAB_PUBLIC": "1"} if public else {})
    values, errors, warnings = links.parse(query, cap)
    said = errors + warnings
    for name, raws in query.items():
        if not raws or name in values or name.startswith("vs.") or name in links.PAGE_PARAMS:
            continue  # the page's modes and the compared configuration are other modules' parameters
        if name in ("truncation", "k1", "k2") and raws[-1].strip() == "0":
            continue  # 0 is full BPTT: nothing to set
        assert any(name in m or links.quote(name) in m for m in said), (name, raws, said)
        if name in links.FIELDS + links.EXTRAS and name != "device":
            assert any(links.quote(raws[-1]) in m for m in errors), (name, raws, errors)
    for name, value in values.items():
        if name in limits.CAP_ENV or name in ("truncation", "k1", "k2"):
            assert value <= limits.ranges(cap)[name][1]


@examples("page")
@given(st.dictionaries(QUERY_KEYS, QUERY_VALUES, min_size=1, max_size=4))
def test_the_page_takes_any_query_string_without_an_exception(query):
    from streamlit.testing.v1 import AppTest

    safe = {k: v for k, v in query.items() if k not in ("seq_len", "hidden_size", "batch_size")}  # keep the pass small
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(safe)
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(e.value for e in at.error) + " ".join(w.value for w in at.warning)
    for name, raw in safe.items():
        known = name in links.FIELDS + links.EXTRAS
        if known and name != "device" and not (name in ("truncation", "k1", "k2") and raw.strip() == "0"):
            parsed, _, _ = links.parse({name: [raw]}, limits.caps())
            if name not in parsed:
                assert links.quote(raw) in shown, (name, raw, shown)
