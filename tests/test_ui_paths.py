"""Rarely used UI paths through their pure functions: TBPTT(k1, k2) and value clipping from widgets to engine and live chart."""

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from app_charts import figures
from streamlit.testing.v1 import AppTest

from engine import Config, train
from ui.page.controls import CONTROLS
from ui.page.live import TrainingRun
from ui.page.widget_values import defaults, read_config
from ui.serving import limits
from viz.training import NO_CLIP

CAP = limits.caps({})
APP = str(Path(__file__).resolve().parents[1] / "app.py")
RARE = [
    Config(k1=3, k2=11, seq_len=40),
    Config(k1=2, k2=2, seq_len=9, task="copy"),
    Config(truncation=7, seq_len=30, clip="value", clip_threshold=0.0123456789),
    Config(cell="lstm", forget_bias=1.25, clip="value", clip_threshold=3e-4, optimizer="sgd", lr=0.037),
    Config(cell="gru", k1=5, k2=9, clip="norm", clip_threshold=2.5, dtype="float64"),
    Config(cell="indrnn", activation="relu", init="identity", recurrent_scale=0.95),
    Config(cell="lru", seq_len=120, truncation=12),
]


def widgets_for(cfg: Config) -> dict:
    """What the sidebar holds for cfg (each widget keyed by its Config field); widgets that do not apply hold other values."""
    mode = "k" if cfg.truncation else "k1k2" if cfg.k1 else "full"
    w = defaults(CAP) | {name: getattr(cfg, name) for name in CONTROLS if hasattr(cfg, name)} | {"bptt": mode}
    if mode != "k":
        w["truncation"] = 13  # a hidden widget keeps its value (persist_state): it must not reach the Config
    if mode != "k1k2":
        w["k1"], w["k2"] = 4, 17
    if cfg.cell != "rnn":
        w["activation"] = "relu"  # disabled for gated cells, still holding the last choice
    if cfg.cell != "lstm":
        w["forget_bias"] = 2.5
    return w


@pytest.mark.parametrize("cfg", RARE, ids=range(len(RARE)))
def test_widget_values_read_back_to_the_same_config(cfg):
    """read_config (what Run uses) maps every widget to its own field: k2 is k2 (not k1), k is read only in its mode."""
    got, error = read_config(widgets_for(cfg))
    assert error is None and got == cfg


BASE = Config(cell="lstm", task="copy", seq_len=40, k1=3, k2=11, clip="value", clip_threshold=0.5)
OTHER = dict(
    task="sine",
    seq_len=41,
    hidden_size=5,
    batch_size=3,
    init="identity",
    recurrent_scale=0.75,
    forget_bias=1.25,
    k1=4,
    k2=12,
    clip="norm",
    clip_threshold=0.0123456789,
    optimizer="sgd",
    lr=0.037,
    seed=7,
    dtype="float64",
)


@pytest.mark.parametrize("name", list(OTHER) + ["activation", "truncation"])
def test_each_widget_moves_its_own_field_and_no_other(name):
    """Change one widget: the Config differs in exactly that field, by exactly that value."""
    base = BASE.replace(cell="rnn", forget_bias=0.0) if name == "activation" else BASE
    w = widgets_for(base)
    if name == "truncation":
        base, w = base.replace(k1=0, k2=0), w | {"bptt": "k"}
        value = 9
    else:
        value = OTHER.get(name, "relu")
    got, error = read_config(w | {name: value})
    assert error is None
    assert [f.name for f in fields(Config) if getattr(got, f.name) != getattr(base, f.name)] == [name]
    assert getattr(got, name) == value


@pytest.mark.parametrize("clip,line", [("value", False), ("norm", True), ("none", False)])
def test_live_view_draws_a_threshold_line_only_for_norm_clipping(clip, line):
    """Value clipping bounds each element, not the global norm: a line at theta on the norm chart would be false."""
    cfg = Config(seq_len=6, hidden_size=3, batch_size=2, clip=clip, clip_threshold=0.01)
    job = TrainingRun(cfg, steps=3, every=1)
    for snap in train(cfg, 3, 1):  # what the worker thread does, without the thread
        job.log.add(snap)
        job.version += 1
    fig = job.figures()[0]
    lines = [d for d in fig.data if d.name.startswith("threshold")]
    assert len(lines) == int(line)
    if line:
        np.testing.assert_array_equal(lines[0].y, [0.01, 0.01])
    hist = job.log.arrays()
    assert job.done == 3 and hist["clipped"].any() == (clip != "none")  # a threshold this low clips every step it may
    (before,) = [d for d in fig.data if d.name in ("norm before clipping", NO_CLIP)]  # the norm the threshold is compared with
    np.testing.assert_array_equal(before.y, hist["grad_norm_before"])


def test_the_page_runs_tbptt_k1_k2_and_value_clipping_from_a_link_and_from_the_widgets():
    """Through AppTest: the link's k1/k2 reach the charts, moving k2 below k1 keeps k2, value clipping trains without a norm line."""
    link = {"bptt": "k1k2", "k1": "3", "k2": "11", "seq_len": "40", "task": "copy", "clip": "value", "clip_threshold": "0.0123456789"}
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(link | {"steps": "4", "every": "2"})
    at.run()
    assert not at.exception, at.exception
    assert (at.sidebar.number_input(key="k1").value, at.sidebar.number_input(key="k2").value) == (3, 11)
    assert "TBPTT(3, 11): every 3 steps, back 11 steps" in " ".join(c.proto.json for c in at.get("bidi_component"))
    at.session_state["tab"] = "Training"
    at.sidebar.number_input(key="k2").set_value(2).run()  # below k1: the moved k2 stays, k1 gives way, in words
    assert (at.sidebar.number_input(key="k1").value, at.sidebar.number_input(key="k2").value) == (2, 2)
    assert any("k1 changed from 3 to 2" in w.value for w in at.warning), [w.value for w in at.warning]
    at.button(key="train_start").click().run()
    job = at.session_state["training_run"]
    job.thread.join(timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert job.status == "finished" and job.config.tbptt == (2, 2) and job.config.clip_threshold == 0.0123456789
    specs = figures(at)
    dash = next(f for f in specs if "Training loss" in json.dumps(f))
    assert not [d for d in dash["data"] if d.get("name", "").startswith("threshold")]
