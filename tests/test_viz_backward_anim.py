"""The animated backward pass: every number in its frames and labels is the trace's, for every cell; pace and reduced motion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import Config, run
from engine.cells import CELLS
from viz.backward_anim import FRAME_MS, REDUCED_MS, SUB, WINDOW, backward_animation, describe
from viz.graph import flow

SMALL = dict(seq_len=16, hidden_size=6, batch_size=3, task="adding")


def _trace(cell, **kw):
    return run(Config(cell=cell, **{**SMALL, **kw}), terms=True)  # the page asks for the terms (compute.with_terms)


def _by_name(fig, name):
    return [d for d in fig.data if d.name == name]


@pytest.mark.parametrize("cell", list(CELLS))
def test_arrow_labels_are_the_traces_factors(cell):
    trace = _trace(cell)
    fig = backward_animation(trace)
    g = np.asarray(trace.grad_h, dtype=np.float64)
    (h,) = _by_name(fig, "h factors")
    for (t, factor), text in zip(h.customdata, h.text, strict=True):
        assert factor == g[int(t) - 1] / g[int(t)]  # exactly the ratio of the trace's numbers
        assert text.startswith(f"×{factor:.3g}")
    assert [int(t) for t, _ in h.customdata] == list(range(1, SMALL["seq_len"]))
    if trace.grad_c is not None:  # LSTM: the cell path's own factor, and the mean forget gate on its label
        gc = np.asarray(trace.grad_c, dtype=np.float64)
        (c,) = _by_name(fig, "c factors")
        for (t, factor), text in zip(c.customdata, c.text, strict=True):
            t = int(t)
            assert factor == gc[t - 1] / gc[t]
            assert text == f"×{factor:.3g}<br>f̄ {float(np.mean(trace.gates['f'][t])):.3g}"
    if trace.unit_decay is not None:  # diagonal cells: three units' own factors, from the per-unit record
        (units,) = _by_name(fig, "unit factors")  # one text trace for the three units (fewer traces: a cheaper frame)
        gu = np.asarray(trace.grad_h_units, dtype=np.float64)
        picked = sorted({int(i) for _, _, i in units.customdata})
        assert len(picked) == 3
        for i in picked:
            shown = [(int(t), f) for t, f, u in units.customdata if int(u) == i]
            assert [t for t, _ in shown] == list(range(1, SMALL["seq_len"]))
            assert [f for _, f in shown] == pytest.approx([gu[t - 1, i] / gu[t, i] for t in range(1, SMALL["seq_len"])], rel=0)
        assert int(np.argmax(trace.unit_decay)) in picked and int(np.argmin(trace.unit_decay)) in picked
    if "direct" in trace.backward:  # GRU: the share its direct path carries, from trace.backward, named as the cell declares it
        gate = trace.cell_info["direct"]["factor"]
        for (t, _), text in zip(h.customdata, h.text, strict=True):
            t = int(t)
            assert text.endswith(f"{gate}-path {trace.backward['direct'][t] / g[t]:.3g}")


@pytest.mark.parametrize("cell", list(CELLS))
def test_frames_walk_back_one_step_per_sub_frames(cell):
    trace = _trace(cell)
    fig = backward_animation(trace)
    T = SMALL["seq_len"]
    g = np.asarray(trace.grad_h, dtype=np.float64)
    assert len(fig.frames) == (T - 1) * SUB + 1 == fig.layout.meta["frames"]
    for k, frame in enumerate(fig.frames):
        pos = (T - 1) - k / SUB
        cover, pulse, product = frame.data
        assert set(pulse.x) == {pos}
        if k:
            assert max(cover.x) == pos - 0.25  # everything right of the pulse is shown, nothing left of it
        t_now, prod = product.customdata[0]
        assert t_now == math.ceil(pos)
        assert prod == g[t_now] / g[T - 1]  # the running product telescopes to the trace's ratio
        assert f"= {prod:.3g} after {T - 1 - t_now} steps" in product.text[0]
    slider = fig.layout.sliders[0]
    assert len(slider.steps) == len(fig.frames) and slider.active == len(fig.frames) - 1
    assert [s.args[0][0] for s in slider.steps] == [f.name for f in reversed(fig.frames)]  # left to right in time


def test_pace_and_reduced_motion():
    trace = _trace("rnn")
    for reduced, ms, frames in ((False, FRAME_MS, (SMALL["seq_len"] - 1) * SUB + 1), (True, REDUCED_MS, SMALL["seq_len"])):
        fig = backward_animation(trace, reduced_motion=reduced)
        play, pause = fig.layout.updatemenus[0].buttons
        assert play.args[1]["frame"]["duration"] == ms and play.args[1]["transition"]["duration"] == 0
        assert pause.args[1]["transition"]["duration"] == 0
        assert all(s.args[1]["transition"]["duration"] == 0 for s in fig.layout.sliders[0].steps)
        assert len(fig.frames) == frames
        assert fig.layout.meta["reduced_play_ms"] * (1 if reduced else SUB) == REDUCED_MS  # one step per REDUCED_MS, reduced
    assert FRAME_MS <= 1000 / 30 + 1  # 30 frames a second when played


def test_long_runs_show_a_window():
    trace = run(Config(cell="rnn", seq_len=200, hidden_size=4, batch_size=2, task="adding"))
    fig = backward_animation(trace)
    (h,) = _by_name(fig, "h factors")
    assert [int(t) for t, _ in h.customdata] == list(range(200 - WINDOW + 1, 200))
    assert len(fig.frames) == (WINDOW - 1) * SUB + 1
    assert f"the last {WINDOW} of 200 steps" in fig.layout.title.text


def test_truncation_cuts_the_path():
    trace = _trace("rnn", truncation=5)
    fig = backward_animation(trace)
    _, cuts = flow(trace)
    lines = [s for s in fig.layout.shapes if s.line.dash == "dash"]
    assert sorted(s.x0 for s in lines) == sorted(t - 0.5 for t in cuts) and cuts
    (h,) = _by_name(fig, "h factors")
    labels = {int(t): text for (t, _), text in zip(h.customdata, h.text, strict=True)}
    assert all(labels[t] == "cut" for t in cuts)
    lowest = int(trace.blocks[0][1])
    assert all(labels[t].startswith("×") for t in range(lowest + 1, SMALL["seq_len"]))


def test_text_alternative_names_the_factor_and_where_it_vanishes_or_overflows():
    vanish = _trace("rnn", recurrent_scale=0.3, seq_len=40)
    words = describe(vanish)
    assert "vanishes" in words and words.count(".") >= 1
    g = vanish.grad_h
    mean = (g[0] / g[-1]) ** (1 / 39)
    assert f"{mean:.3g} per step" in words
    boom = run(Config(cell="rnn", activation="linear", recurrent_scale=10.0, seq_len=60, hidden_size=4, batch_size=2, task="adding"))
    assert not np.isfinite(boom.grad_h).all()
    assert "overflows" in describe(boom)
    assert backward_animation(vanish).layout.meta["alt"] == describe(vanish, 10, 39)
