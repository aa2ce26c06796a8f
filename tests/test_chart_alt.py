"""Every chart has a one-sentence text alternative in this run's numbers (issue 20 item 4).

Two halves: each sentence of viz.alt_text states the numbers of the records the chart is drawn
from (oracles: the trace, the training log, the task record, the phase record, recomputed here),
and a scan of ui/ with ast finds every chart call site that passes none (a planted offender shows
the scan can fail).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from engine import Config, run
from engine.phase import phase
from engine.trace import TrainingLog
from engine.training import train
from viz import alt_text

UI = Path(__file__).resolve().parents[1] / "ui"
SMALL = dict(hidden_size=8, batch_size=4, task="adding")


def numbers(words: str) -> list[float]:
    """The numbers a sentence states, in order (3 significant digits, as the sentences write them)."""
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", words)]


def same(a: float, b: float) -> bool:
    return float(f"{a:.3g}") == float(f"{b:.3g}")


def test_gradient_sentence_states_the_traces_factor_and_where_it_vanishes():
    trace = run(Config(cell="rnn", recurrent_scale=0.3, seq_len=40, **SMALL))
    g = np.asarray(trace.grad_h, dtype=np.float64)
    words = alt_text.gradient(trace)
    last, start, mean, vanish = numbers(words)[:4]
    assert (last, start) == (39, 0)
    assert same(mean, (g[0] / g[39]) ** (1 / 39))
    k = int(vanish)
    assert g[k] < 1e-6 * g[39] and (g[k + 1 :] >= 1e-6 * g[39]).all()  # the last step back that is below a millionth


def test_gradient_sentence_overflow_step_is_the_traces():
    boom = run(Config(cell="rnn", activation="linear", recurrent_scale=10.0, seq_len=60, hidden_size=4, batch_size=2, task="adding"))
    bad = np.flatnonzero(~np.isfinite(boom.grad_h))
    assert bad.size
    words = alt_text.gradient(boom)
    assert f"overflows (not finite) at step {bad.max()}" in words


def test_training_sentence_states_the_loss_from_and_to_and_the_steps():
    cfg = Config(cell="lstm", seq_len=12, **SMALL)
    log = TrainingLog()
    for snapshot in train(cfg, 6, every=3):
        log.add(snapshot)
    loss, steps = log.history["loss"], log.history["step"]
    words = alt_text.training(log)
    first, s0, to, s1, count = numbers(words)[:5]
    assert same(first, loss[0]) and same(to, loss[-1]) and (s0, s1, count) == (steps[0], steps[-1], len(steps))
    assert words.endswith(alt_text.gradient(log.last.trace))  # and the last snapshot's gradient, in the same words
    assert alt_text.training(TrainingLog()) == "Training: no training steps yet."


@pytest.mark.parametrize("task", ["adding", "copy"])
def test_task_sentence_states_what_input_target_and_prediction_show(task):
    trace = run(Config(cell="gru", seq_len=20, hidden_size=8, batch_size=4, task=task))
    ex = trace.example
    words = alt_text.task(ex, ex, 7)
    assert f"{len(ex['input'])} steps" in words and f"target at {len(ex['target'])} steps" in words and "(step 7)" in words
    if ex["kind"] == "mse":
        steps = np.asarray(ex["loss_steps"])
        expected = np.mean((ex["prediction"][steps] - ex["target"]) ** 2)
        assert f"untrained mean squared error {expected:.3g}" in words
    else:
        assert f"untrained mean probability of the right answer {np.mean(ex['p_target']):.3g}" in words


def test_phase_sentence_states_the_end_to_end_ratio_at_both_ends():
    scales = [0.3, 1.0, 3.0]
    record = phase(Config(cell="rnn", seq_len=30, **SMALL), scales)
    words = alt_text.phase(record)
    g = np.asarray(record.grad_h, dtype=np.float64)
    lo, hi = g[0, 0] / g[0, -1], g[-1, 0] / g[-1, -1]
    assert f"{lo:.3g} of its start at 0.3" in words and f"{hi:.3g} at 3" in words
    vanished = int(np.sum(g[:, 0] / g[:, -1] < 1e-6))
    assert ("vanishes" in words) == (vanished > 0)
    if vanished:
        assert f"at {vanished} of 3 values" in words


# -- every chart call site passes one ---------------------------------------------------------------------------------


def offenders(source: str, name: str = "<planted>") -> list[str]:
    """Chart calls without alt=: charts.chart(...) (or chart(...) inside charts.py), and any st.plotly_chart at all."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        owner = getattr(func.value, "id", None) if isinstance(func, ast.Attribute) else None
        plotly = called == "plotly_chart"
        ours = called == "chart" and (owner == "charts" or (owner is None and name.endswith("charts.py")))
        if plotly or (ours and not any(k.arg == "alt" for k in node.keywords)):
            found.append(f"{name}:{node.lineno}")
    return found


def test_the_scan_finds_a_planted_offender():
    assert offenders("charts.chart(fig, key='fig_x')") == ["<planted>:1"]
    assert offenders("import streamlit as st\nst.plotly_chart(fig, alt='x')") == ["<planted>:2"]  # the page never uses it
    assert offenders("charts.chart(fig, key='fig_x', alt=alt_text.gradient(trace))") == []


def test_every_chart_call_in_ui_passes_a_text_alternative():
    files = sorted(UI.rglob("*.py"))
    calls = [f for f in files if "charts.chart(" in f.read_text()]
    assert len(calls) >= 3  # views, live, backward_view: the scan reads the files that draw charts
    found = [o for f in files for o in offenders(f.read_text(), str(f.relative_to(UI)))]
    assert found == []
