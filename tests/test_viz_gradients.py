"""Gradient-flow, contribution and connectivity figures carry the engine's numbers, honestly (gaps, overflow)."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from engine import Config, run
from viz.connectivity import connectivity_heatmap
from viz.downsample import pick_indices, pool_matrix
from viz.gradients import BOUND, MAIN, contrib_bars, decay_summary, grad_norm_curve
from viz.notes import overflow_short

SMALL = dict(seq_len=20, hidden_size=8, batch_size=4)


@pytest.fixture(scope="module")
def traces():
    """One engine run per configuration, shared by the tests (each takes a few ms)."""
    cfgs = {
        "rnn": Config(**SMALL),
        "vanish": Config(recurrent_scale=0.5, **SMALL),
        "explode": Config(activation="linear", recurrent_scale=1.2, **SMALL),
        "lstm_trunc": Config(cell="lstm", truncation=5, **SMALL),
        "gru_copy": Config(cell="gru", task="copy", **SMALL),
        "overflow_part": Config(activation="linear", recurrent_scale=1.5, seq_len=120, hidden_size=8, batch_size=4),
        "overflow": Config(activation="linear", recurrent_scale=1.5, seq_len=500, hidden_size=8, batch_size=4),
    }
    out = {name: run(cfg, connectivity=name in ("rnn", "overflow_part")) for name, cfg in cfgs.items()}
    out["lstm"] = run(Config(cell="lstm", **SMALL))
    return out


def by_name(fig, name):
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


def texts(fig):
    return [a.text.replace("<br>", " ").replace("<b>", "").replace("</b>", "") for a in fig.layout.annotations]


def test_pick_indices_keeps_first_and_last():
    assert np.array_equal(pick_indices(7, 10), np.arange(7))
    idx = pick_indices(5000, 2000)
    assert len(idx) <= 2000 and idx[0] == 0 and idx[-1] == 4999 and np.all(np.diff(idx) > 0)
    assert len(pick_indices(0, 10)) == 0


def test_pool_matrix_bounds_size_and_keeps_overflow():
    m = np.arange(2000 * 1024, dtype=np.float64).reshape(2000, 1024)
    pooled, rows, cols = pool_matrix(m, 400, 400)
    assert pooled.shape[0] <= 400 and pooled.shape[1] <= 400 and pooled.shape == (len(rows), len(cols))
    fr, fc = rows[1], cols[1]
    assert pooled[0, 0] == m[:fr, :fc].max() and pooled[-1, -1] == m[rows[-1] :, cols[-1] :].max()
    m[3, 5], m[1500, 900] = np.nan, np.inf
    pooled, rows, cols = pool_matrix(m, 400, 400)
    assert np.isnan(pooled[3 // fr, 5 // fc]) and pooled[1500 // fr, 900 // fc] == np.inf
    assert np.isfinite(pooled).sum() == pooled.size - 2  # only those two blocks
    mean, _, _ = pool_matrix(np.array([[1.0, 3.0, 5.0, 7.0]]), 1, 2, how="mean")
    assert np.array_equal(mean, [[2.0, 6.0]])
    small = np.array([[1.0, np.nan]])
    assert np.array_equal(pool_matrix(small, 400, 400)[0], small, equal_nan=True)


def test_curve_plots_grad_h_on_log_axis_with_bound(traces):
    tr = traces["rnn"]
    fig = grad_norm_curve(tr)
    main = by_name(fig, MAIN)
    assert np.array_equal(main.x, np.arange(20)) and np.allclose(main.y, tr.grad_h, rtol=0, atol=0)
    assert fig.layout.yaxis.type == "log"
    assert np.allclose(by_name(fig, BOUND).y, tr.bound)
    assert np.allclose(by_name(fig, "10–90 % of the batch").y, tr.grad_h_band[:, 1])
    assert list(by_name(fig, "step with a loss").x) == [19]
    assert not [t for t in fig.data if "cell state" in (t.name or "")]


def test_lstm_shows_cell_state_and_truncation(traces):
    fig = grad_norm_curve(traces["lstm"])
    assert np.allclose(by_name(fig, "‖∂L/∂cₜ‖ (cell state)").y, traces["lstm"].grad_c)
    assert not [t for t in fig.data if (t.name or "").startswith("bound")]
    tr = traces["lstm_trunc"]
    fig = grad_norm_curve(tr)
    assert sorted(s.x0 for s in fig.layout.shapes if s.line.dash == "dash") == [4.5, 9.5, 14.5]
    y = by_name(fig, MAIN).y
    assert np.all(np.isnan(y[tr.grad_h == 0])) and (tr.grad_h == 0).any()
    (zero,) = [a for a in fig.layout.annotations if "0 beyond the truncation horizon" in a.text]
    (label,) = [a for a in fig.layout.annotations if "detach every 5 steps" in a.text]
    assert (zero.y, zero.yanchor, label.y, label.yanchor) == (0.99, "top", 0.01, "bottom")  # top and bottom: never on each other


def test_many_to_many_shows_last_loss_alone(traces):
    tr = traces["gru_copy"]
    fig = grad_norm_curve(tr)
    y = by_name(fig, "‖∂loss_{T−1}/∂hₜ‖ (the last step's loss alone)").y
    ok = tr.grad_h_last > 0
    assert ok.sum() > 10 and np.array_equal(y[ok], tr.grad_h_last[ok])
    assert "‖∂L/∂hₜ‖ of the last step's loss alone changes" in decay_summary(tr)
    assert not [t for t in fig.data if t.name == "step with a loss"]  # every step has a loss: no markers


def test_decay_summary_words(traces):
    vanish, explode = decay_summary(traces["vanish"]), decay_summary(traces["explode"])
    assert traces["vanish"].decay_factor < 1 < traces["explode"].decay_factor
    assert "vanishing" in vanish and "< 1: vanishing guaranteed" in vanish
    assert f"×{traces['vanish'].decay_factor:.2f} per step back in time" in vanish
    assert "exploding" in explode and "> 1: the bound allows exploding" in explode
    assert "vanishing" in " ".join(texts(grad_norm_curve(traces["vanish"])))
    stable = decay_summary(replace(traces["lstm"], decay_factor=1.004))
    assert "×1.00 per step" in stable and "about constant" in stable and "γ" not in stable
    assert "no" in decay_summary(replace(traces["lstm"], decay_factor=None)).lower()
    one = run(Config(task="first", seq_len=1, hidden_size=4, batch_size=2))
    assert "One time step" in decay_summary(one)
    grad_norm_curve(one)


@pytest.mark.parametrize("name", ["overflow_part", "overflow"])
def test_overflow_is_annotated_and_data_stay_finite(traces, name):
    tr = traces[name]
    assert tr.nonfinite
    for fig in (grad_norm_curve(tr), contrib_bars(tr)):
        assert overflow_short(tr) in texts(fig) and tr.overflow_message() not in texts(fig)  # the page says the long one once
        reds = [s.x0 for s in fig.layout.shapes if s.line.color == "#b91c1c"]
        assert tr.overflow_grad_step in reds
        for t in fig.data:
            y = np.asarray(t.y, dtype=np.float64)
            assert not np.isinf(y).any()
        js = fig.to_json()
        assert "Infinity" not in js and "NaN" not in js  # strict JSON for the browser
    main = by_name(grad_norm_curve(tr), MAIN).y
    ok = np.isfinite(tr.grad_h)
    assert np.array_equal(main[ok], tr.grad_h[ok]) and np.all(np.isnan(main[~ok]))


def test_contrib_bars_values_and_scale(traces):
    tr = traces["rnn"]
    fig = contrib_bars(tr)
    y = fig.data[0].y
    assert fig.data[0].type == "bar" and tr.contrib[0] == 0 and np.isnan(y[0]) and np.array_equal(y[1:], tr.contrib[1:])
    assert any("t = 0 is 0" in t for t in texts(fig))
    assert fig.layout.yaxis.type == "log" and "%{y" in fig.data[0].hovertemplate
    assert contrib_bars(tr, log=False).layout.yaxis.type != "log"


def test_connectivity_leaves_upper_triangle_empty(traces):
    tr = traces["rnn"]
    fig = connectivity_heatmap(tr)
    z = np.asarray(fig.data[0].z, dtype=np.float64)
    t, k = np.asarray(fig.data[0].y)[:, None], np.asarray(fig.data[0].x)[None, :]
    assert np.all(np.isnan(z[k > t]))
    below = (k <= t) & (tr.conn_x > 0)
    assert np.allclose(z[below], np.log10(tr.conn_x[below]), atol=1e-5)
    assert "How far back each output still sees" in fig.layout.title.text
    assert fig.data[0].colorbar.title.text == "log₁₀ ‖∂loss_t/∂x_k‖"
    assert "∂h_k" in connectivity_heatmap(tr, which="h").layout.title.text
    with pytest.raises(ValueError):
        connectivity_heatmap(tr, which="y")
    rows = pick_indices(40, 9)  # the app computes only some output rows
    sub = run(Config(seq_len=40, hidden_size=8, batch_size=4), connectivity=True, conn_rows=rows)
    heat = connectivity_heatmap(sub).data[0]
    z, t, k = np.asarray(heat.z, dtype=np.float64), np.asarray(heat.y)[:, None], np.asarray(heat.x)[None, :]
    assert np.array_equal(heat.y, rows) and z.shape == (9, 40)
    assert np.all(np.isnan(z[k > t])) and np.all(np.isfinite(z[(k <= t) & (sub.conn_x > 0)]))


def test_connectivity_missing_overflow_and_pooling(traces):
    assert "not computed" in texts(connectivity_heatmap(traces["vanish"]))[0]
    tr = traces["overflow_part"]
    fig = connectivity_heatmap(tr)
    assert overflow_short(tr) in texts(fig) and [d for d in fig.data if d.name == "non-finite"]
    T = 900
    conn = np.tril(np.ones((T, T)))
    big = connectivity_heatmap(SimpleNamespace(conn_x=conn, conn_rows=np.arange(T), nonfinite=False))
    z = np.asarray(big.data[0].z)
    assert z.shape[0] <= 400 and z.shape[1] <= 400 and np.isnan(z[0, -1]) and z[-1, 0] == 0.0
    assert "max over blocks" in big.layout.xaxis.title.text


def test_decay_summary_counts_steps_only_inside_the_truncation_horizon():
    text = decay_summary(run(Config(seq_len=50, truncation=10)))
    assert "over the 9 steps" in text and "exactly 0 beyond the truncation horizon, 10 steps back" in text
    assert "end-to-end ratio" not in text  # 0 by construction under truncation: the horizon is said instead
    full = decay_summary(run(Config(seq_len=50)))
    assert "over the 49 steps" in full and "Measured, end-to-end ratio ‖∂L/∂h₀‖ / ‖∂L/∂h₄₉‖ = " in full


def above_plot(fig) -> list:
    """The notes placed above the plot area, nearest first."""
    notes = [a for a in fig.layout.annotations if a.yref == "paper" and a.y == 1 and a.yanchor == "bottom"]
    return sorted(notes, key=lambda a: a.yshift or 0)


@pytest.mark.parametrize("name", ["rnn", "lstm_trunc", "overflow"])
def test_decay_note_sits_above_the_plot_clear_of_data_title_and_overflow_message(traces, name):
    tr = traces[name]
    fig = grad_norm_curve(tr)
    notes = above_plot(fig)
    words = decay_summary(tr).split()  # the same sentences, each ending in its full stop
    assert notes[0].text.replace("<br>", " ").split() == words and not notes[0].yshift  # nearest the plot, all its text
    top = 0
    for note in notes:  # each one starts above the lines of the ones below it
        assert (note.yshift or 0) >= top
        top = (note.yshift or 0) + 17 * (note.text.count("<br>") + 1)
    title_px = (1 - fig.layout.title.y) * fig.layout.height  # the title's centre, from the top of the figure
    assert title_px + 12 <= fig.layout.margin.t - top  # the notes stay below the title
    if tr.nonfinite:  # where it overflowed, said once: no second note counting the same non-finite values
        assert overflow_short(tr) in notes[1].text.replace("<br>", " ").replace("<b>", "").replace("</b>", "")
        assert not [n for n in notes if "are non-finite" in n.text]
