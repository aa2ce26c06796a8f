"""The task chart (viz/task.py) and the text task's connectivity axes draw the recorded numbers and characters, nothing else."""

import numpy as np
import pytest

from engine import Config, run, train
from viz.connectivity import connectivity_heatmap
from viz.task import task_chart


def by_name(fig, name):
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


def test_a_series_chart_draws_input_target_and_both_predictions():
    cfg = Config(task="nile", seq_len=10, hidden_size=6, batch_size=4)
    snaps = list(train(cfg, 5, 4))
    a, b = snaps[0].trace.example, snaps[-1].trace.example
    fig = task_chart(a, b, snaps[-1].trace.data, snaps[-1].step)
    np.testing.assert_array_equal(by_name(fig, "input").y, a["input"][:, 0])
    np.testing.assert_array_equal(by_name(fig, "target").y, a["target"])
    np.testing.assert_array_equal(by_name(fig, "prediction before training").y, a["prediction"])
    np.testing.assert_array_equal(by_name(fig, "prediction after training (step 4)").y, b["prediction"])
    words = " ".join(" ".join(n.text for n in fig.layout.annotations).replace("<br>", " ").split())
    data = snaps[-1].trace.data
    assert data["split"] in words and "first 72 (80%) train, the last 18 test" in data["split"]  # 100 - 10 = 90 windows
    assert "squared error" in words and f"{data['std']:.4g}, the training split's mean and std" in words and "data/nile.csv" in words


def test_a_many_to_one_chart_scores_only_the_last_step():
    ex = run(Config(task="adding", seq_len=8, hidden_size=4, batch_size=2)).example
    fig = task_chart(ex)
    assert list(by_name(fig, "target").x) == [7] and "only this step is scored" in [a.text for a in fig.layout.annotations]
    marked = by_name(fig, "marked inputs")
    assert list(marked.x) == list(np.flatnonzero(ex["input"][:, 1] == 1))  # the two marked numbers of the adding problem


def test_a_text_chart_writes_the_characters_and_the_probability_of_the_right_one():
    ex = run(Config(task="text", seq_len=12, hidden_size=4, batch_size=2)).example
    fig = task_chart(ex, ex)
    assert "".join(fig.layout.xaxis.ticktext).replace("␣", " ").replace("↵", "\n") == ex["input_chars"]
    np.testing.assert_array_equal(by_name(fig, "before training").y, ex["p_target"])
    rows = next(a.text for a in fig.layout.annotations if "wanted:" in a.text)
    assert ex["target_chars"].replace(" ", "␣").replace("\n", "↵") in rows


def test_before_and_after_must_be_the_same_sequence():
    a = run(Config(task="sine", seq_len=6, hidden_size=3, batch_size=2, seed=0)).example
    b = run(Config(task="sine", seq_len=6, hidden_size=3, batch_size=2, seed=1)).example
    with pytest.raises(ValueError, match="same input"):
        task_chart(a, b)


def test_text_connectivity_names_the_characters_of_the_one_sequence_it_measures():
    trace = run(Config(task="text", seq_len=16, hidden_size=6, batch_size=4), connectivity=True)
    fig = connectivity_heatmap(trace)
    chars, wanted = trace.data["input_chars"], trace.data["target_chars"]
    assert wanted[:-1] == chars[1:]  # the character predicted at t is the input at t + 1
    assert "".join(fig.layout.xaxis.ticktext).replace("␣", " ").replace("↵", "\n") == chars
    assert "".join(fig.layout.yaxis.ticktext).replace("␣", " ").replace("↵", "\n") == wanted
    assert "Which earlier characters" in fig.layout.title.text
    one = run(Config(task="text", seq_len=16, hidden_size=6, batch_size=1), connectivity=True)  # the same first sequence alone
    np.testing.assert_allclose(trace.conn_x, one.conn_x, rtol=1e-5)
    z = np.asarray(fig.data[0].z, dtype=np.float64)
    causal = np.tril(np.ones((16, 16), bool))
    np.testing.assert_allclose(z[causal], np.log10(trace.conn_x[causal]), rtol=1e-5)
    series = connectivity_heatmap(run(Config(task="nile", seq_len=8, hidden_size=4, batch_size=2), connectivity=True))
    assert series.layout.xaxis.ticktext is None  # numbers have no characters to name
