"""Rarely used UI paths through their pure functions: TBPTT(k1, k2) and value clipping from widgets to engine."""

import numpy as np
import pytest

from engine import Config
from ui import links
from ui.controls import read_config
from ui.live import TrainingRun

RARE = [
    Config(k1=3, k2=11, seq_len=40),
    Config(k1=2, k2=2, seq_len=9, task="copy"),
    Config(truncation=7, seq_len=30, clip="value", clip_threshold=0.0123456789),
    Config(cell="lstm", forget_bias=1.25, clip="value", clip_threshold=3e-4, optimizer="sgd", lr=0.037),
    Config(cell="gru", k1=5, k2=9, clip="norm", clip_threshold=2.5, dtype="float64"),
]


@pytest.mark.parametrize("cfg", RARE, ids=range(len(RARE)))
def test_widget_values_read_back_to_the_same_config(cfg):
    """links.widget_values (what the widgets hold) and controls.read_config (what Run uses) are inverse: k2 is k2, not k1."""
    got, error = read_config(links.widget_values(cfg))
    assert error is None and got == cfg


@pytest.mark.parametrize("clip,line", [("value", False), ("norm", True), ("none", False)])
def test_live_view_draws_a_threshold_line_only_for_norm_clipping(clip, line):
    """Value clipping bounds each element, not the global norm: a line at theta on the norm chart would be false."""
    cfg = Config(seq_len=6, hidden_size=3, batch_size=2, clip=clip, clip_threshold=0.01)
    job = TrainingRun(cfg, steps=3, every=1)
    while job.pull():
        pass
    fig = job.figure()
    lines = [d for d in fig.data if d.name.startswith("threshold")]
    assert len(lines) == int(line)
    if line:
        np.testing.assert_array_equal(lines[0].y, [0.01, 0.01])
    assert job.status == "finished" and job.done == 3
