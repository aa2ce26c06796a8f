"""Random sequences of control changes through AppTest: every state reached by a sequence is safe and says what changed.

A lecturer never sets one control on a fresh page: T first, then the task, then truncation,
then back. Single states all passed while such sequences broke the page, so here seeded random
sequences move every widget through every class of value (edges included: T = 1, k = T, host
caps) and check after each move:

- no exception;
- the Config the page computes equals the one the widgets show;
- a value the user set is kept, unless it became impossible, and then a note names it;
- (the full page) the open tab draws, with the gradient curve over the T the widgets show.

RNNLAB_SEQUENCES=N runs N sequences of each kind instead of the CI counts.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
from app_charts import figures
from streamlit.testing.v1 import AppTest

from engine.config import field_info
from ui.page import controls, own_data, rules, widget_values
from ui.serving import limits

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SIDEBAR_APP = """
import streamlit as st
from ui.page import controls
settings = st.session_state["_settings"] = controls.sidebar()
for message in settings.errors + settings.warnings:
    st.warning(message)
"""
STEPS = 10
SIDEBAR_SEQUENCES = int(os.environ.get("RNNLAB_SEQUENCES", 300))
PAGE_SEQUENCES = int(os.environ.get("RNNLAB_SEQUENCES", 12))
SMALL_HOST = {"RNNLAB_MAX_SEQ_LEN": "60", "RNNLAB_MAX_HIDDEN": "12", "RNNLAB_MAX_BATCH": "4", "RNNLAB_MAX_STEPS": "40"}
TABS = ("Gradient flow", "Training", "Gates", "Connectivity", "Unrolled graph", "Learn")
SYMBOL = rules.SYMBOL


def widgets(at) -> dict:
    """The value every sidebar widget shows, by key (hidden k widgets: the value Streamlit keeps for them)."""
    out = {}
    for kind in ("radio", "selectbox", "number_input", "slider"):
        for w in getattr(at.sidebar, kind):
            if w.key in controls.CONTROLS:
                out[w.key] = w.value
    for name in controls.HIDDEN_WHEN_IDLE:
        if name not in out and name in at.session_state:
            out[name] = at.session_state[name]
    return out


def notes(at) -> str:
    return " ".join(w.value for w in at.warning)


def number_values(name: str, lo, hi, T: int, rng: random.Random) -> list:
    """Edges and a random inside value of a numeric widget (k: also T itself)."""
    if isinstance(lo, int):
        edges = [lo, hi, min(hi, lo + 1), rng.randint(lo, hi)]
        if name in ("truncation", "k1", "k2"):
            edges.append(min(T, hi))
        return edges
    step = controls.CONTROLS[name].step
    if controls.CONTROLS[name].kind == "slider":  # on the slider's grid
        n = int(round((hi - lo) / step))
        return [lo, hi, round(lo + step * rng.randint(0, n), 10)]
    return [lo, hi, float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) if lo > 0 else rng.uniform(lo, hi)]


def random_move(at, cap: dict, rng: random.Random, avoid: tuple = ()):
    """(name, value) of one random change a user could make now, among the widgets on screen; never a choice in `avoid`."""
    shown = widgets(at)
    visible_k = {"k": ("truncation",), "k1k2": ("k1", "k2")}.get(shown["bptt"], ())
    drawn = [n for n in shown if (n not in controls.HIDDEN_WHEN_IDLE or n in visible_k) and not widget(at, n).disabled]
    name = rng.choice(drawn + ["reset"])
    if name == "reset":
        return name, None
    c = controls.CONTROLS[name]
    if c.kind in ("radio", "select"):
        return name, rng.choice([v for v in controls.choices(name) if v not in avoid])
    lo, hi = limits.ranges(cap)[name]
    return name, rng.choice(number_values(name, lo, hi, shown["seq_len"], rng))


def widget(at, name: str):
    kind = {"radio": "radio", "select": "selectbox", "number": "number_input", "slider": "slider"}[controls.CONTROLS[name].kind]
    return getattr(at.sidebar, kind)(key=name)


def apply(at, name: str, value) -> None:
    if name == "reset":
        at.sidebar.button(key="reset").click().run()
        return
    w = widget(at, name)
    (w.select(value) if controls.CONTROLS[name].kind == "select" else w.set_value(value)).run()


def check_move(at, before: dict, name: str, value, cap: dict) -> None:
    """Only the moved control and what a note names may have changed; the moved value is kept unless a note says why not."""
    assert not at.exception, at.exception
    after, said = widgets(at), notes(at)
    if name == "reset":
        base = widget_values.defaults(cap)
        assert all(after[k] == base[k] for k in after), {k: (after[k], base[k]) for k in after if after[k] != base[k]}
        return
    for key, old in before.items():
        if key == name or key not in after or after[key] == old:
            continue
        assert f"{SYMBOL.get(key, key)} changed from" in said, (name, value, key, old, after[key], said)
    if name in after and after[name] != value:
        assert f"{SYMBOL.get(name, name)} changed from" in said, (name, value, after[name], said)


def check_config(at, cap: dict) -> None:
    """The page's Config is the one the widgets describe, and it is valid."""
    settings = at.session_state["_settings"]
    shown = widget_values.defaults(cap) | widgets(at)
    cfg, error = widget_values.read_config(shown)
    waiting = own_data.problem(cfg)  # task "your own series" before any numbers were pasted: the one state that waits
    assert error is None and settings.error == waiting, (error, settings.error, shown)
    assert settings.config == (cfg if waiting is None else None)
    assert (settings.steps, settings.every) == (shown["steps"], shown["every"])


def run_sequence(at, cap: dict, rng: random.Random, check) -> None:
    for _ in range(STEPS):
        before = widgets(at)
        name, value = random_move(at, cap, rng)
        apply(at, name, value)
        check_move(at, before, name, value, cap)
        check(at)


@pytest.mark.parametrize("host", [{}, SMALL_HOST, {"RNNLAB_MAX_SEQ_LEN": "1", "RNNLAB_MAX_STEPS": "1"}], ids=["engine", "small", "T1"])
def test_random_control_sequences_keep_the_sidebar_consistent(monkeypatch, host):
    for var, value in host.items():
        monkeypatch.setenv(var, value)
    cap = limits.caps()
    count = SIDEBAR_SEQUENCES // 3 + 1
    at = AppTest.from_string(SIDEBAR_APP, default_timeout=30)
    at.run()
    rng = random.Random(f"sidebar-{sorted(host.items())}")
    for _ in range(count):
        run_sequence(at, cap, rng, lambda at: check_config(at, cap))
        at.sidebar.button(key="reset").click().run()


def grad_points(at) -> int | None:
    """Points of the gradient curve on the open Gradient flow tab (None when the tab is not open)."""
    for fig in figures(at):
        if "How the gradient flows" in fig["layout"].get("title", {}).get("text", ""):
            main = fig["data"][2] if len(fig["data"]) > 2 else fig["data"][0]
            y = main["y"]
            return len(y) if isinstance(y, list) else len(np.frombuffer(__import__("base64").b64decode(y["bdata"]), y["dtype"]))
    return None


def test_random_sequences_over_the_whole_page_draw_every_tab(monkeypatch):
    for var, value in SMALL_HOST.items():
        monkeypatch.setenv(var, value)
    cap = limits.caps()
    rng = random.Random("page")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for _ in range(PAGE_SEQUENCES):
        for _ in range(STEPS):
            before = widgets(at)
            if rng.random() < 0.3:
                at.session_state["tab"] = rng.choice(TABS)
                at.run()
                assert not at.exception, at.exception
                continue
            name, value = random_move(at, cap, rng, avoid=own_data.TASKS[:1])  # "your own series" waits for data: no charts
            apply(at, name, value)
            check_move(at, before, name, value, cap)
            assert not at.error, [e.value for e in at.error]
            tab = at.session_state["tab"] if "tab" in at.session_state else "Gradient flow"
            if tab in ("Gradient flow", "Gates", "Unrolled graph", "Connectivity"):
                assert at.get("bidi_component"), f"{tab} drew no chart"
            if tab == "Gradient flow":
                assert grad_points(at) == widgets(at)["seq_len"]
        at.sidebar.button(key="reset").click().run()


def test_the_field_table_and_the_widget_table_name_the_same_controls():
    assert set(controls.CONTROLS) - {"bptt", "steps", "every"} == {f for f in controls.CONTROLS if f not in ("bptt", "steps", "every")}
    for name in controls.CONTROLS:
        if name not in ("bptt", "steps", "every"):
            assert field_info(name)["help"], name
