"""The Streamlit page, headless (AppTest): every tab draws its figures, controls change the data, errors stay messages."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from app_charts import figures
from streamlit.testing.v1 import AppTest

from engine import Config
from engine.config import field_info
from ui.page import compute, links, live, rules, widget_values
from ui.serving import admission, limits

APP = str(Path(__file__).resolve().parents[1] / "app.py")
OVERFLOW = {"cell": "rnn", "activation": "linear", "recurrent_scale": "1.5", "seq_len": "500"}


def page(query: dict | None = None, tab: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query or {})
    if tab:
        at.session_state["tab"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def titles(at) -> list[str]:
    return [f["layout"].get("title", {}).get("text", "") for f in figures(at)]


def values(v) -> np.ndarray:
    """Plotly 7 sends arrays as base64 'bdata'; None (a gap) becomes NaN."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), v["dtype"]).astype(float)
    return np.array([np.nan if x is None else x for x in v], dtype=float)


def series(fig: dict, name_part: str) -> np.ndarray:
    return values(next(d for d in fig["data"] if name_part in d.get("name", ""))["y"])


def grad_fig(at) -> dict:
    return next(f for f in figures(at) if "How the gradient flows" in f["layout"]["title"]["text"])


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


def test_page_loads_with_gradient_view_and_metrics():
    at = page()
    assert at.title[0].value == "RNN Gradient Flow Lab"
    assert titles(at) == [
        "<b>How the gradient flows back in time: ‖∂L/∂hₜ‖ at each step t</b>",
        "<b>Which time steps the W_hh update learns from</b>",
    ]
    fig = grad_fig(at)
    assert fig["layout"]["yaxis"]["type"] == "log"
    assert len(series(fig, "‖∂L/∂hₜ‖ (batch mean)")) == 50
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spectral radius ρ"] == "1" and metrics["γ·σ_max"] == "1"  # orthogonal init, scale 1, tanh
    assert any("per step back in time" in a["text"] for a in grad_fig(at)["layout"]["annotations"])  # said once, on the chart
    assert at.query_params == {}  # the defaults make a clean link
    assert at.get("download_button")[0].proto.label == "Download this trace as JSON"
    exported = json.loads(compute.trace_json(Config()))
    assert exported["config"]["cell"] == "rnn" and len(exported["grad_h"]) == 50


@pytest.mark.parametrize(
    "tab, expected",
    [
        ("Gates", ["Hidden state over time", "Hidden activity and saturation over time", "Which units carry the gradient"]),
        ("Connectivity", ["How far back each output still sees"]),
        ("Unrolled graph", ["Unrolled network", "The backward pass, step by step"]),
        ("Learn", []),
        ("Training", []),
    ],
)
def test_each_tab_draws_its_figures(tab, expected):
    at = page(tab=tab)
    got = titles(at)
    assert len(got) == len(expected)
    assert all(e in t for e, t in zip(expected, got))


def test_lstm_shows_cell_state_gradient_and_gates():
    at = page()
    assert not any("∂L/∂cₜ" in d["name"] for d in grad_fig(at)["data"])
    at.sidebar.radio(key="cell").set_value("lstm").run()
    assert np.isfinite(series(grad_fig(at), "‖∂L/∂cₜ‖")).all()
    assert at.sidebar.selectbox(key="activation").disabled and not at.sidebar.number_input(key="forget_bias").disabled
    at.session_state["tab"] = "Unrolled graph"
    at.run()
    assert len(figures(at)) == 3  # the unrolled graph, one LSTM cell in detail, the backward pass played
    at.session_state["tab"] = "Gates"
    at.run()
    gate_names = {d.get("name") for d in figures(at)[1]["data"]}
    assert len(gate_names) >= 4


def test_activation_changes_the_gradient_values():
    at = page()
    tanh = series(grad_fig(at), "(batch mean)")
    at.sidebar.selectbox(key="activation").select("relu").run()
    relu = series(grad_fig(at), "(batch mean)")
    assert tanh.shape == relu.shape and not np.allclose(tanh, relu)


def test_truncation_leaves_gaps_beyond_the_horizon():
    at = page()
    assert np.isfinite(series(grad_fig(at), "(batch mean)")).all()
    at.sidebar.radio(key="bptt").set_value("k").run()
    at.sidebar.number_input(key="truncation").set_value(10).run()
    y = series(grad_fig(at), "(batch mean)")
    assert np.isnan(y[:40]).all() and np.isfinite(y[40:]).all()  # the adding task's loss sits at t = 49
    notes = " ".join(a["text"] for a in grad_fig(at)["layout"]["annotations"])
    assert "beyond the truncation horizon" in notes
    at.sidebar.number_input(key="seq_len").set_value(6).run()  # k can no longer exceed T: it follows, with a note
    assert at.sidebar.number_input(key="truncation").value == 6
    assert "truncation must be at most seq_len=6: k changed from 10 to 6." in [w.value for w in at.warning]  # Config's words
    at.sidebar.number_input(key="seq_len").set_value(80).run()  # T grows again: k stays where the note put it
    assert at.sidebar.number_input(key="truncation").value == 6 and not at.warning


def test_clipping_by_norm_caps_the_update():
    at = page()
    at.sidebar.selectbox(key="clip").select("norm").run()
    at.sidebar.number_input(key="clip_threshold").set_value(0.001).run()
    metrics = {m.label: m for m in at.metric}
    assert metrics["‖g‖ after clipping"].value == "0.001"
    assert metrics["‖g‖ after clipping"].proto.delta == "clipped"
    assert float(metrics["‖g‖ before clipping"].value) > 0.001


def test_link_reproduces_the_settings():
    at = page({"cell": "gru", "seq_len": "80", "truncation": "20", "clip": "value", "steps": "30"})
    assert not at.error and not at.warning
    assert at.sidebar.radio(key="cell").value == "gru" and at.sidebar.number_input(key="seq_len").value == 80
    assert at.sidebar.radio(key="bptt").value == "k" and at.sidebar.number_input(key="truncation").value == 20
    assert at.sidebar.number_input(key="steps").value == 30


@pytest.mark.parametrize(
    "query, field",
    [
        ({"seq_len": "abc"}, "seq_len"),
        ({"hidden_size": "0"}, "hidden_size"),
        ({"cell": "[Session expired](https://evil.example/login)"}, "cell"),
        ({"recurrent_scale": "-1"}, "recurrent_scale"),
    ],
)
def test_bad_link_values_give_a_message_and_defaults(query, field):
    at = page(query)
    assert f"`{field}`" in errors(at)
    assert at.sidebar.number_input(key="seq_len").value == 50
    assert len(figures(at)) == 2  # the page still works, on the defaults


def test_refused_link_text_is_shown_escaped():
    at = page({"cell": "[Session expired](https://evil.example/login)", "task": "![t](https://evil.example/p.png)"})
    shown = errors(at)
    assert r"\[Session expired\]\(https\:" in shown and r"\!\[t\]" in shown  # markdown would render a link and an image
    assert at.sidebar.radio(key="cell").value == "rnn" and at.sidebar.selectbox(key="task").value == "adding"


def test_an_activation_kept_for_a_gated_cell_is_shown_not_used():
    at = page({"cell": "lstm", "activation": "relu"})
    assert not at.error and at.sidebar.selectbox(key="activation").value == "relu"
    assert at.sidebar.selectbox(key="activation").disabled
    at.sidebar.radio(key="cell").set_value("rnn").run()  # back to the RNN: the user's choice is still there
    assert at.sidebar.selectbox(key="activation").value == "relu" and not at.sidebar.selectbox(key="activation").disabled


def test_hosted_caps_tighten_sliders_and_clamp_links(monkeypatch):
    monkeypatch.setenv("RNNLAB_MAX_SEQ_LEN", "100")
    monkeypatch.setenv("RNNLAB_MAX_HIDDEN", "not a number")
    at = page({"seq_len": "500"})
    assert at.sidebar.number_input(key="seq_len").max == 100 and at.sidebar.number_input(key="seq_len").value == 100
    assert at.sidebar.number_input(key="hidden_size").max == 1024
    assert "Link parameter `seq_len`=500 is above this server's limit 100; using 100." in " ".join(w.value for w in at.warning)


def test_cache_hits_on_rerun_and_on_return(monkeypatch):
    import engine

    calls = []
    real = engine.run
    monkeypatch.setattr(engine, "run", lambda cfg, **kw: calls.append(cfg) or real(cfg, **kw))
    at = page({"seed": "4241"})
    n = len(calls)
    at.run()
    assert len(calls) == n  # a rerun recomputes nothing
    at.sidebar.number_input(key="seed").set_value(4242).run()
    assert len(calls) == n + 1 and calls[-1].seed == 4242
    at.sidebar.number_input(key="seed").set_value(4241).run()
    at.sidebar.number_input(key="seed").set_value(4242).run()
    assert len(calls) == n + 1  # back and forth: both configs come from the cache


def test_overflow_is_said_in_words_in_every_view():
    for tab in ("Gradient flow", "Gates", "Connectivity", "Unrolled graph"):
        at = page(OVERFLOW, tab=tab)
        assert "Overflow: the hidden state became non-finite at time step" in errors(at), tab
        assert "γ·σ_max" in errors(at)
    y = series(grad_fig(page(OVERFLOW)), "(batch mean)")
    assert np.isnan(y).any()  # drawn as gaps, not as zeros or a crash


def test_large_T_connectivity_is_on_demand_and_reduced():
    at = page({"seq_len": "300", "hidden_size": "8", "batch_size": "8"}, tab="Connectivity")
    assert not figures(at) and "about 200 evenly spaced loss steps" in " ".join(c.value for c in at.caption)
    at.checkbox(key="conn_on").check().run()
    heat = figures(at)[0]["data"][0]
    assert len(values(heat["y"])) <= 200 and len(values(heat["x"])) == 300


def test_costly_settings_wait_for_a_go_ahead(monkeypatch):
    big = Config(cell="lstm", seq_len=2000, hidden_size=1024)
    assert compute.estimate(Config())[0] < 0.1 and compute.estimate(big)[0] > compute.LONG_RUN_S
    monkeypatch.setattr(compute, "LONG_RUN_S", 0.0)  # make the defaults count as a long run
    at = page()
    assert "This setting needs about" in at.warning[0].value and not figures(at)
    at.checkbox(key="allow_long").check().run()
    assert len(figures(at)) == 2
    monkeypatch.setattr(compute, "machine_memory", lambda: 1.0)
    at.run()
    assert "more than this machine can spare" in errors(at) and not figures(at)


def finish(at: AppTest) -> live.TrainingRun:
    """Wait for the training worker, then rerun the page as the fragment's timer would."""
    run = at.session_state["training_run"]
    run.thread.join(timeout=60)
    at.run()
    assert not at.exception, at.exception
    return run


def test_training_streams_into_the_dashboard():
    at = page({"steps": "12", "every": "4"}, tab="Training")
    at.button(key="train_start").click().run()
    finish(at)
    dash = figures(at)[0]
    heat = next(d for d in dash["data"] if d["type"] == "heatmap")
    assert list(values(heat["y"])) == [0, 4, 8, 11]  # one row per snapshot: every 4 steps and the last
    assert at.get("progress")[0].proto.value == 100
    assert "Finished 12 steps" in at.success[0].value
    at.sidebar.number_input(key="seed").set_value(7).run()  # new settings: the run stays, and the page says so
    assert "seed 0 → 7" in at.info[0].value and "press Run to train with the new settings" in at.info[0].value
    assert "Finished 12 steps" in at.success[0].value


def test_stop_ends_the_work_and_says_so():
    at = page({"steps": "5000", "seq_len": "200"}, tab="Training")
    at.button(key="train_start").click().run()
    run = at.session_state["training_run"]
    at.button(key="train_stop").click().run()
    assert run.status == "stopped"
    done = run.done  # the log is frozen at once ...
    run.thread.join(timeout=30)
    assert not run.thread.is_alive()  # ... and the worker is gone within a step, not paused
    assert 0 < done < 5000 or done == 0
    at.run()
    assert run.done == done  # no step after Stop
    assert f"Training stopped after {done} of 5000 steps (Stop was pressed)" in at.warning[0].value


def test_streamlit_stop_and_a_closed_session_end_the_work():
    run = live.TrainingRun(Config(seq_len=200), 5000, 5)
    run.stopper = live.SessionGone("no-such-session")
    run.stopper._checked = -1e9  # ask the runtime at once
    gone = run.stopper.is_set()  # no Runtime in this process: the session counts as alive
    assert gone is False
    run.start()
    run.stop("Streamlit's Stop was pressed")
    run.thread.join(timeout=30)
    assert run.status == "stopped" and run.reason == "Streamlit's Stop was pressed" and not run.thread.is_alive()


def test_diverging_training_says_why():
    at = page({**OVERFLOW, "steps": "5"}, tab="Training")
    at.button(key="train_start").click().run()
    finish(at)
    assert "values became non-finite" in errors(at) and "Overflow" in errors(at)


def test_link_parsing_and_caps_units():
    cap = limits.caps({})
    values_, errs, warns = links.parse({"k1": ["5"]}, cap)
    assert not errs and values_["bptt"] == "k1k2" and values_["k1"] == 5
    values_, errs, warns = links.parse({"k1": ["5"], "k2": ["8"], "device": ["cuda"]}, cap)
    assert not errs and values_["bptt"] == "k1k2" and (values_["k1"], values_["k2"]) == (5, 8) and "device" in warns[0]
    values_, errs, warns = links.parse({"truncation": ["0"], "steps": ["1" + "0" * 400], "lr": ["0.0123456789"]}, cap)
    assert "bptt" not in values_ and "`steps`" in errs[0] and values_["lr"] == 0.0123456789
    assert limits.caps({"RNNLAB_MAX_BATCH": "64", "RNNLAB_MAX_STEPS": "999999"}) == {
        "seq_len": 2000,
        "hidden_size": 1024,
        "batch_size": 64,
        "steps": field_info("steps")["hi"],
    }
    for env in ({"RNNLAB_MAX_SEQ_LEN": "1", "RNNLAB_MAX_STEPS": "1"}, {"RNNLAB_MAX_SEQ_LEN": "2"}):
        cap = limits.caps(env)
        rng = limits.ranges(cap)
        assert all(lo <= hi for lo, hi in rng.values())
        base = widget_values.defaults(cap)
        assert all(rng[k][0] <= v <= rng[k][1] for k, v in base.items() if k in rng)
        assert rules.settle(base, cap) == ({}, [])  # the defaults are a valid Config under any caps


def test_rules_keep_the_moved_value_and_say_what_gave_way():
    cap = limits.caps({})
    base = widget_values.defaults(cap) | {"bptt": "k1k2", "k1": 10, "k2": 20}
    assert rules.settle(base | {"k1": 30}, cap, moved="k1") == ({"k2": 30}, [rules.settle(base | {"k1": 30}, cap, "k1")[1][0]])
    changes, notes = rules.settle(base | {"k2": 5}, cap, moved="k2")
    assert changes == {"k1": 5} and "k1 changed from 10 to 5" in notes[0]
    changes, notes = rules.settle(widget_values.defaults(cap) | {"task": "adding", "seq_len": 1}, cap, moved="task")
    assert changes == {"seq_len": 2} and "T changed from 1 to 2" in notes[0]
    assert rules.settle(base | {"task": "first", "seq_len": 1, "k1": 1, "k2": 1}, cap) == ({}, [])
    changes, _ = rules.settle(widget_values.defaults(cap) | {"task": "adding", "seq_len": 1}, limits.caps({"RNNLAB_MAX_SEQ_LEN": "1"}))
    assert changes == {"task": "first"}


def test_shrinking_T_still_clamps_k_and_the_graph_step():
    at = page({"cell": "lstm", "truncation": "40"}, tab="Unrolled graph")
    at.slider(key="graph_step").set_value(45).run()
    at.sidebar.number_input(key="seq_len").set_value(20).run()
    assert at.sidebar.number_input(key="truncation").value == 20
    assert at.slider(key="graph_step").value == 19 and not at.exception


def test_task_select_shows_short_labels_and_the_description_below():
    at = page()
    task = at.sidebar.selectbox(key="task")
    assert task.options[:4] == ["adding problem", "first input", "copy (delayed recall)", "noisy sine"]
    assert task.options[4:] == [
        "Nile flow (real data)",
        "CO₂ at Mauna Loa (real data)",
        "sunspots (real data)",
        "next character of a text",
        "your own series",
    ]
    assert "Add the two marked numbers; answer at the last step." in [c.value for c in at.sidebar.caption]
    task.select("first").run()
    assert "Recall the first input at the last step." in [c.value for c in at.sidebar.caption]


def test_connectivity_under_truncation_shows_what_training_carries_and_offers_the_full_dependence():
    at = page({"seq_len": "30", "truncation": "5", "task": "sine", "hidden_size": "8"}, tab="Connectivity")
    fig = figures(at)[0]
    assert "as truncated BPTT(5, 5) carries it" in fig["layout"]["title"]["text"]
    z = values(fig["data"][0]["z"]).reshape(30, 30)  # (output t, input k), log10; NaN = exactly 0 or k > t
    assert np.isnan(z[29, :25]).all() and np.isfinite(z[29, 25:]).all()  # the loss at t = 29 reaches back to its block start, 25
    at.radio(key="conn_mode").set_value("full").run()
    fig = figures(at)[0]
    assert "full dependence" in fig["layout"]["title"]["text"]
    assert np.isfinite(values(fig["data"][0]["z"]).reshape(30, 30)[29]).all()  # without truncation every k <= t is reached


def test_a_compare_link_overlays_both_configurations_as_the_engine_computes_them():
    import engine

    at = page({"cell": "rnn", "seq_len": "80", "vs.cell": "lstm"})
    assert not at.error
    fig = grad_fig(at)
    ours, theirs = engine.run(Config(seq_len=80)), engine.run(Config(seq_len=80, cell="lstm"))
    np.testing.assert_allclose(series(fig, "(batch mean)"), ours.grad_h, rtol=1e-6)
    np.testing.assert_allclose(series(fig, "(vs. cell=lstm)"), theirs.grad_h, rtol=1e-6)
    assert any("Dashed, vs. cell=lstm" in a["text"] for a in fig["layout"]["annotations"])
    at.button(key="compare_clear").click().run()
    assert not any("vs. cell" in d.get("name", "") for d in grad_fig(at)["data"])


def test_a_compare_preset_is_one_click_and_a_refused_compare_value_is_named():
    at = page({"cell": "lstm"})
    assert not [b for b in at.button if (b.key or "").startswith("compare_")]  # folded: its buttons are not built
    at.session_state["compare_open"] = True  # the row opened, as a click on it does
    at.run()
    at.button(key="compare_forget bias 0 → 2").click().run()
    assert any("vs. forget_bias=2.0" in d.get("name", "") for d in grad_fig(at)["data"])
    at = page({"vs.recurrent_scale": "-3", "vs.[x](https://evil.example)": "1"})
    assert "`vs.recurrent_scale` refused" in errors(at) and r"\[x\]\(https\:" in errors(at)


def test_exports_reproduce_the_run_on_screen(capsys):
    """The CSV parses back to the trace, and the command line shown, given to `python -m engine`'s main, prints the same ‖∂L/∂h_t‖.

    In this process: tests/test_export.py runs a shown command line as a real process.
    """
    import csv
    import io

    import engine
    from engine.export import command_line

    cfg = Config(cell="gru", seq_len=30, truncation=7, seed=3)
    at = page(dict(cfg.to_query()))
    trace = engine.run(cfg)
    rows = list(csv.DictReader(io.StringIO(compute.trace_csv(cfg))))
    assert [float(r["grad_h"]) for r in rows] == trace.grad_h.tolist()
    assert not at.code  # drawn only once the expander is opened (st.code's highlighter slows a page load)
    at.session_state["reproduce"] = True
    at.run()
    shown = [c.value for c in at.code]
    assert command_line(cfg) in shown
    argv = command_line(cfg).split()
    assert argv[:3] == ["python", "-m", "engine"]
    from engine.__main__ import main

    capsys.readouterr()  # what the page printed so far
    assert main(argv[3:]) == 0
    np.testing.assert_allclose(json.loads(capsys.readouterr().out)["grad_h"], trace.grad_h, rtol=1e-12)
    compute._checks[cfg].result(timeout=60)  # the trust badge is computed beside the page
    at.run()
    assert "checked against autograd in float64" in " ".join(c.value for c in at.caption)


def test_the_per_unit_heatmap_shows_the_trace():
    import engine

    at = page({"cell": "lstm", "seq_len": "40", "hidden_size": "8"})
    at.session_state["tab"] = "Gates"
    at.run()
    heat = next(f for f in figures(at) if "Which units carry" in f["layout"]["title"]["text"])["data"][0]
    z = values(heat["z"]).reshape(8, 40)  # units x time, log10
    expected = np.log10(engine.run(Config(cell="lstm", seq_len=40, hidden_size=8)).grad_h_units).T
    np.testing.assert_allclose(z, expected, rtol=1e-5)


def test_presentation_mode_loads_with_projector_charts():
    at = page({"present": "1"})
    assert at.sidebar.toggle(key="present").value
    fig = grad_fig(at)
    assert fig["layout"]["font"]["size"] >= 18
    at.sidebar.toggle(key="present").set_value(False).run()
    assert grad_fig(at)["layout"]["font"]["size"] < 18


def test_the_phase_tab_draws_the_batched_record_of_this_cell():
    import engine

    at = page({"seq_len": "40", "hidden_size": "8"}, tab="Phase diagram")
    heat = next(d for d in figures(at)[0]["data"] if d["type"] == "heatmap")
    axis, swept = compute.phase_axis(Config(seq_len=40, hidden_size=8))
    record = engine.phase(Config(seq_len=40, hidden_size=8), list(swept), axis)
    assert axis == "recurrent_scale" and len(values(heat["x"])) == len(swept) == 41
    np.testing.assert_allclose(values(heat["x"]), record.scales)
    at = page({"cell": "lstm", "seq_len": "40", "hidden_size": "8"}, tab="Phase diagram")
    assert compute.phase_axis(Config(cell="lstm"))[0] == "forget_bias" and "forget" in json.dumps(figures(at)[0]["layout"]).lower()


def test_a_lesson_link_sets_its_controls_shows_its_claim_and_walks_on():
    at = page({"lesson": "vanishing-tanh"})
    assert at.sidebar.number_input(key="seq_len").value == 200 and any("✓ measured on this run" in s.value for s in at.success)
    at.button(key=next(b.key for b in at.button if "Next" in b.label)).click().run()
    assert at.session_state["_lesson"] == "exploding" and not at.exception


class SteppingClock:
    """Stands in for the time module inside ui.serving.admission: every reading is 0.125 s after the one before (no real clock)."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 0.125
        return self.now


def test_a_training_run_stops_at_the_servers_time_budget_and_says_so(monkeypatch):
    monkeypatch.setenv("RNNLAB_RUN_BUDGET_S", "0.5")
    monkeypatch.setattr(admission, "time", SteppingClock())
    at = page({"steps": "5000", "seq_len": "200", "every": "1"}, tab="Training")
    at.button(key="train_start").click().run()
    run = finish(at)
    # The budget starts at reading 1 (ends at 0.625); the engine asks it before each step: 0.25, 0.375, 0.5 go on, 0.625 stops.
    assert run.status == "stopped" and run.done == 3
    assert "this server stops a training run after 0.5 s (RNNLAB_RUN_BUDGET_S)" in at.warning[0].value


def test_a_public_page_refuses_costly_settings_without_an_override(monkeypatch):
    monkeypatch.setenv("RNNLAB_PUBLIC", "1")
    monkeypatch.setattr(compute, "LONG_RUN_S", 0.0)  # make the defaults count as a long run
    at = page()
    assert "more than this public page computes" in errors(at) and not at.checkbox and not figures(at)


def test_a_compare_trains_both_configurations_side_by_side():
    at = page({"steps": "12", "every": "4", "seq_len": "20", "vs.cell": "lstm"}, tab="Training")
    at.button(key="train_start").click().run()
    main, other = at.session_state["training_run"], at.session_state["training_run_vs"]
    other.thread.join(timeout=60)
    finish(at)
    assert other.config.cell == "lstm" and other.label == "vs. cell=lstm" and other.status == "finished"
    (dashboard,) = [f for f in figures(at) if "Training loss" in json.dumps(f)]  # both runs on one chart, labelled
    for run, name in ((main, "training loss, this run"), (other, "training loss, vs. cell=lstm")):
        np.testing.assert_allclose(values(next(d for d in dashboard["data"] if d.get("name") == name)["y"]), run.log.arrays()["loss"])
    assert [p.proto.text for p in at.get("progress")] == ["Step 12 of 12 · vs. cell=lstm: 12 of 12"]  # the steps the chart shows
    assert sum("Finished 12 steps" in s.value for s in at.success) == 2
