"""Compared training on one dashboard: both runs' loss and gradient norm on the same panels, labelled; the phone layout stacks.

Oracles: the values each trace draws are its own run's history at the same steps; the log axes
cover both runs; the phone patch's panels are disjoint, full width, and address the heatmap.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine import Config, TrainingLog, train
from viz.training import training_dashboard

MAIN = Config(seq_len=20, hidden_size=8, batch_size=4)
OTHER = Config(cell="lstm", seq_len=20, hidden_size=8, batch_size=4, forget_bias=1.0)
LABEL = "vs. cell=lstm, forget_bias=1.0"


def log_of(cfg: Config, steps: int = 9, every: int = 2) -> TrainingLog:
    log = TrainingLog()
    for snap in train(cfg, steps=steps, every=every):
        log.add(snap)
    return log


@pytest.fixture(scope="module")
def logs():
    return log_of(MAIN), log_of(OTHER)


def named(fig, name):
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


def test_both_runs_share_the_loss_and_norm_panels_each_with_its_own_values(logs):
    main, other = logs
    fig = training_dashboard(main, baseline=0.2, compare=(other, LABEL, 0.2))
    for log, suffix in ((main, ", this run"), (other, f", {LABEL}")):
        loss = named(fig, "training loss" + suffix)
        hist = log.arrays()
        assert (loss.xaxis, loss.yaxis) == ("x", "y") and np.array_equal(np.asarray(loss.x), hist["step"])
        assert np.allclose(np.asarray(loss.y), hist["loss"])
    norm = named(fig, f"gradient norm, {LABEL}")
    assert (norm.xaxis, norm.yaxis) == ("x2", "y2") and np.allclose(np.asarray(norm.y), other.arrays()["grad_norm_before"])
    assert len([t for t in fig.data if (t.name or "").startswith("trivial baseline")]) == 1  # the same baseline drawn once
    (heat,) = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat.y) == len(main)  # the heatmap is this run's: one row per snapshot of it
    assert any("(this run)" in a.text for a in fig.layout.annotations if a.yref == "y3 domain")
    both = np.concatenate([main.arrays()["loss"], other.arrays()["loss"]])
    lo, hi = fig.layout.yaxis.range
    assert lo <= np.log10(both.min()) and hi >= np.log10(both.max())  # one axis holds both curves


def test_a_different_baseline_and_a_diverged_compared_run_are_said(logs):
    main, _ = logs
    blown = log_of(Config(activation="linear", recurrent_scale=1.5, seq_len=120, hidden_size=8, batch_size=4), steps=5, every=1)
    assert blown.diverged  # float32 overflows in the first forward pass (1.5^119)
    fig = training_dashboard(main, baseline=0.2, compare=(blown, "vs. seq_len=120", 0.5))
    assert list(named(fig, "trivial baseline 0.5, vs. seq_len=120").y) == [0.5, 0.5]
    last = int(blown.arrays()["step"][-1])
    assert any(a.text == f"vs. seq_len=120: diverged at step {last}" for a in fig.layout.annotations)


def test_without_a_comparison_the_names_stay_as_they_were(logs):
    fig = training_dashboard(logs[0], baseline=0.2)
    assert "training loss" in {t.name for t in fig.data} and not any("this run" in (t.name or "") for t in fig.data)


@pytest.mark.parametrize("clip", ["none", "norm"])
def test_the_phone_layout_stacks_the_panels_full_width(clip):
    log = log_of(Config(seq_len=20, hidden_size=8, batch_size=4, clip=clip, clip_threshold=0.01))
    fig = training_dashboard(log, baseline=0.2, threshold=0.01 if clip == "norm" else None)
    patch = fig.layout.meta["narrow"]
    assert patch["layout.xaxis.domain"] == patch["layout.xaxis2.domain"] == [0.0, 1.0]
    used = {t.yaxis[1:] for t in fig.data}  # "", "2", "3" and, with clipping, "4" (the strip under the norm panel)
    assert (clip == "norm") == ("4" in used) == ("layout.yaxis4.domain" in patch)
    bands = sorted(patch[f"layout.yaxis{n}.domain"] for n in used)
    assert all(a[1] <= b[0] for a, b in zip(bands, bands[1:]))  # one under another, never overlapping
    (k,) = {int(key.split("]")[0].split("[")[1]) for key in patch if key.startswith("data[")}
    assert fig.data[k].type == "heatmap" and patch[f"data[{k}].colorbar.x"] > patch["layout.xaxis3.domain"][1]


def test_the_loss_title_counts_the_steps_its_curves_show(logs):
    main, other = logs
    short = log_of(OTHER, steps=5)
    fig = training_dashboard(main, compare=(short, LABEL, None), total=9)
    title = next(a.text for a in fig.layout.annotations if a.yref == "y domain" and a.text.startswith("<b>Training loss"))
    drawn = [len(named(fig, name).x) for name in ("training loss, this run", f"training loss, {LABEL}")]
    assert drawn == [9, 5] and title == "<b>Training loss: step 9 of 9 (compared run: 5)</b>"
    fig = training_dashboard(main, compare=(other, LABEL, None), total=20)  # in step: one count says it
    assert any(a.text == "<b>Training loss: step 9 of 20</b>" for a in fig.layout.annotations)
