"""The real-data lesson ("real-cycle", issue 19 item 6): its claims hold on every seed 0-49 with the ranges they state,
the number is the bench's (one function) and autograd's, the steps' worked numbers are true, other settings are said neutrally.

tests/test_lessons.py already checks every lesson on seeds 0-9; this file adds seeds 0-49 for this lesson only
(3 settings x 50 runs of T = 48, H = 32, B = 16: a few seconds of CPU).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from definitions import params64, per_sequence_grad_norms, step_losses, unroll

from engine import Model, run
from ui.page import widget_values
from ui.serving import limits
from ui.teaching import lesson_steps, lessons
from viz.measures import lag_ratio

CAP = limits.caps({})
LESSON = lessons.get("real-cycle")
SEEDS = range(50)
# each scenario's `when` -> the range over seeds 0-49 its claim states (two digits, as written)
STATED = {
    (): ("0.11", "0.71"),
    (("cell", "lstm"), ("forget_bias", 0.0)): ("0.002", "0.0077"),
    (("cell", "lstm"), ("forget_bias", 2.0)): ("0.039", "0.14"),
}


def _key(when: dict) -> tuple:
    return tuple(sorted(when.items()))


@pytest.fixture(scope="module")
def traces():
    """{scenario key: [trace of seed s for s in 0-49]} with the page's own settings for the lesson and each step."""
    return {
        _key(sc.when): [run(widget_values.config_for({**LESSON.settings, **sc.when, "seed": s}, CAP)) for s in SEEDS]
        for sc in LESSON.scenarios
    }


def test_the_lesson_is_about_the_benchs_run():
    """The settings are bench/real_data_lag.py's: co2, T 48, H 32, B 16, an orthogonal tanh RNN at scale 1, lag 12."""
    bench = _bench()
    cfg = widget_values.config_for(LESSON.settings, CAP)
    assert cfg == bench.Config(
        task="co2", seq_len=48, hidden_size=32, batch_size=16, seed=0, **bench.CELLS["tanh RNN (orthogonal, scale 1)"]
    )
    assert LESSON.check == {"kind": "lag", "p": 12, "between": [0.1, 0.75], "seeds": [0.11, 0.71], "span": "0–49"}
    for sc, label in zip(LESSON.also, ("LSTM (forget bias 0)", "LSTM (forget bias 2)")):
        planned = widget_values.config_for({**LESSON.settings, **sc.when}, CAP)
        assert planned == bench.Config(task="co2", seq_len=48, hidden_size=32, batch_size=16, seed=0, **bench.CELLS[label])


@pytest.mark.parametrize("sc", LESSON.scenarios, ids=lambda sc: ",".join(f"{k}={v}" for k, v in sc.when.items()) or "rnn")
def test_every_claim_holds_on_seeds_0_to_49_with_the_range_it_states(sc, traces):
    claims = [lessons.check(sc, trace) for trace in traces[_key(sc.when)]]
    assert all(c.held for c in claims), [(s, c.text) for s, c in zip(SEEDS, claims) if not c.held]
    lo, hi = (lessons.fmt(x) for x in (min(c.value for c in claims), max(c.value for c in claims)))
    assert (lo, hi) == STATED[_key(sc.when)] and f"(seeds 0–49: {lo} to {hi}" in sc.claim, (lo, hi, sc.claim)
    assert all(c.text.endswith(f"; these settings on seeds 0–49: {lo} to {hi})") for c in claims), claims[0].text  # the card's range


def test_the_check_and_the_bench_read_one_number(traces):
    """bench/real_data_lag.py prints log10 of viz.measures.lag_ratio; the check's value is that ratio, g[35] / g[47] of grad_h_last."""
    bench = _bench()
    trace = traces[()][3]
    value = lessons.check(LESSON, trace).value
    g = trace.grad_h_last
    assert value == lag_ratio(trace, 12) == pytest.approx(g[35] / g[47], rel=1e-12)
    assert bench.lag_ratio(trace.config, 12, 0) == pytest.approx(math.log10(value), rel=1e-9)


def test_the_ratio_is_autograds():
    """Oracle: per-sequence ‖d loss_47 / dh_t‖ by torch autograd of the cell equations (float64), batch mean, t = 35 over 47."""
    cfg = widget_values.config_for({**LESSON.settings, "dtype": "float64"}, CAP)
    model = Model(cfg)
    batch = model.batch(0)
    P = params64(model)
    hs = unroll(cfg, P, batch.x)
    losses = step_losses(batch.kind, P, hs, batch.loss_steps, batch.target)
    g = per_sequence_grad_norms(hs, losses[-1].sum())
    assert lessons.check(LESSON, run(cfg)).value == pytest.approx(g[35] / g[47], rel=1e-9)


def test_the_steps_worked_numbers_are_true(traces):
    """Step 3: f near 0.5 and about 10^-2.4; step 4: f near 0.87, 5 to 50 times more, about 10^-1.1, under the RNN on 48 of 50."""
    rnn, fb0, fb2 = (traces[k] for k in STATED)
    r = {name: np.array([lag_ratio(t, 12) for t in ts]) for name, ts in (("rnn", rnn), ("fb0", fb0), ("fb2", fb2))}
    f0, f2 = (np.array([t.gates["f"].mean() for t in ts]) for ts in (fb0, fb2))
    assert np.all(abs(f0 - 0.5) < 0.03) and np.all(abs(f2 - 0.87) < 0.02)
    assert round(float(np.median(np.log10(r["fb0"]))), 1) == -2.4 and round(float(np.median(np.log10(r["fb2"]))), 1) == -1.1
    more = r["fb2"] / r["fb0"]
    assert 5 <= more.min() and more.max() <= 50
    assert int((r["rnn"] > r["fb2"]).sum()) == 48
    steps = LESSON.steps
    assert "10^{-2.4}" in steps[2] and "0.87" in steps[3] and "5 to 50 times" in steps[3] and "48 of the 50 seeds" in steps[3]


def test_a_scale_that_breaks_the_claim_is_said_neutrally():
    """Scale 0.5: 0.5^12 is far below a tenth; the check says ✗, the card (settings no claim covers) says it neutrally."""
    trace = run(widget_values.config_for({**LESSON.settings, "recurrent_scale": 0.5}, CAP))
    claim = lessons.check(LESSON, trace)
    assert not claim.held and claim.value < 0.1 and claim.text.startswith("✗ not on this run: ‖∂loss₄₇/∂h₃₅‖ / ‖∂loss₄₇/∂h₄₇‖ = ")
    shown = lessons.verdict(LESSON, trace, CAP)
    assert shown.status == "other" and "✗" not in shown.text and "recurrent_scale 1.0 → 0.5" in shown.note


def test_a_lag_past_the_sequence_is_not_measurable():
    trace = run(widget_values.config_for(LESSON.settings, CAP))
    claim = lessons.lag(trace, p=48, between=[0.1, 0.75], seeds=[0.12, 0.34])
    assert not claim.held and math.isnan(claim.value) and "not measurable" in claim.text


def test_each_also_has_its_step_button():
    sets = [c.set for c in lesson_steps.CONTROLS if c.lesson == "real-cycle"]
    assert sorted(_key(s) for s in sets) == sorted(_key(sc.when) for sc in LESSON.also)


def _bench():
    """bench/real_data_lag.py as a module (a script, not a package)."""
    path = Path(__file__).resolve().parents[1] / "bench" / "real_data_lag.py"
    spec = importlib.util.spec_from_file_location("real_data_lag", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_shows_each_claim_held_as_its_step_buttons_are_pressed():
    """AppTest, ?lesson=real-cycle: the card's claim is the lesson's, then each step button's, each ✓ with this run's number."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.query_params.update({"lesson": "real-cycle"})
    at.run()
    assert not at.exception, at.exception
    for k, sc in enumerate(LESSON.scenarios):
        if sc.when:
            (control,) = [c for c in lesson_steps.CONTROLS if c.lesson == "real-cycle" and c.set == sc.when]
            at.button(key=f"step_real-cycle_{control.step}_{control.label}").click().run()
            assert not at.exception, at.exception
        value = lessons.check(sc, run(widget_values.config_for({**LESSON.settings, **sc.when}, CAP))).value
        shown = " ".join(m.value for m in at.markdown)
        assert f"**Claim:** {sc.claim}" in shown, k
        (ok,) = [s.value for s in at.success if "∂loss₄₇" in s.value]
        assert ok.startswith(f"✓ measured on this run: ‖∂loss₄₇/∂h₃₅‖ / ‖∂loss₄₇/∂h₄₇‖ = {lessons.fmt(value)} "), ok
        assert not at.error and not [i for i in at.info if "∂loss₄₇" in i.value]
