"""Lessons: well-formed data, every claim held on seeds 0-9 within the range it states (and on seeds never tuned on),
every step's button leading to a claim that holds, and other settings said neutrally, never as a failure."""

import math
from urllib.parse import parse_qsl

import numpy as np
import pytest

from engine import Config, run
from ui.page import links, widget_values
from ui.page.controls import CONTROLS
from ui.serving import limits
from ui.teaching import learn_text, lesson_steps, lessons

SEEDS = range(10)
UNTUNED = (17, 31, 42)  # outside 0-9: a lesson without a span was never measured on them
CAP = limits.caps({})
SCENARIOS = [(lesson, sc) for lesson in lessons.LESSONS for sc in lesson.scenarios]


def _measure(claim, settings, seeds=SEEDS):
    """The claim (a lesson or one of its scenarios) checked on runs of these settings, one per seed."""
    return [lessons.check(claim, run(widget_values.config_for({**settings, "seed": s}, CAP))) for s in seeds]


def _scenario_id(item):
    lesson, sc = item
    return lesson.slug + ("" if not sc.when else "+" + ",".join(f"{k}={v}" for k, v in sc.when.items()))


def test_lessons_are_well_formed():
    slugs = [lesson.slug for lesson in lessons.LESSONS]
    assert len(set(slugs)) == len(slugs)
    for slug in ("vanishing-tanh", "exploding", "clipping", "truncation", "lstm-forget-gate", "gru", "irnn", "lru"):
        assert lessons.get(slug) is not None, slug
    for lesson in lessons.LESSONS:
        assert 2 <= len(lesson.steps) <= 4, lesson.slug
        assert lesson.check["kind"] in lessons.CHECKS
        for name, value in lesson.settings.items():
            assert name in CONTROLS, (lesson.slug, name)
            if name in Config.__dataclass_fields__:
                assert type(value) is type(getattr(Config(), name)), (lesson.slug, name)
        for step in lesson.steps:
            assert step.count("$") % 2 == 0, step
        for sc in lesson.also:
            assert sc.when and sc.check["kind"] in lessons.CHECKS and "seeds" in sc.check, (lesson.slug, sc.when)
            assert all(name in CONTROLS for name in sc.when), (lesson.slug, sc.when)
            assert widget_values.config_for({**lesson.settings, **sc.when}, CAP) != widget_values.config_for(lesson.settings, CAP)


def test_next_and_previous_walk_the_path_in_order():
    first, last = lessons.LESSONS[0], lessons.LESSONS[-1]
    assert lessons.neighbours(first.slug)[0] is None and lessons.neighbours(last.slug)[1] is None
    walked, slug = [], first.slug
    while slug:
        walked.append(slug)
        nxt = lessons.neighbours(slug)[1]
        slug = nxt.slug if nxt else None
    assert walked == [lesson.slug for lesson in lessons.LESSONS]


def _span_seeds(check: dict) -> range:
    """The seeds a check's `seeds` range was measured over: its `span` ("0–49"), else 0-9."""
    lo, hi = (int(x) for x in check.get("span", "0–9").split("–"))
    return range(lo, hi + 1)


@pytest.mark.parametrize("item", SCENARIOS, ids=_scenario_id)
def test_claim_holds_on_the_seeds_it_names_within_the_stated_range(item):
    """The lesson's own claim, and the claim for each step's settings: held on the seeds its range names (0-49, or 0-9
    without a span) with that range, and the card says which seeds."""
    lesson, sc = item
    claims = _measure(sc, {**lesson.settings, **sc.when}, _span_seeds(sc.check))
    span = sc.check.get("span", "0–9")
    assert all(f"these settings on seeds {span}: " in c.text for c in claims if "these settings on seeds" in c.text)
    assert all(c.held for c in claims), [c.text for c in claims if not c.held]
    assert all(c.text.startswith("✓ measured on this run: ") for c in claims)
    if sc.check["kind"] == "forget_bias":  # one range per bias: [bias, least, most]
        bias = {**lesson.settings, **sc.when}["forget_bias"]
        lo, hi = next(row[1:] for row in sc.check["seeds"] if row[0] == bias)
    else:
        lo, hi = sc.check["seeds"]
    _assert_range([c.value for c in claims], lo, hi)


@pytest.mark.parametrize("item", SCENARIOS, ids=_scenario_id)
def test_claim_holds_on_seeds_never_tuned_on(item):
    lesson, sc = item
    claims = _measure(sc, {**lesson.settings, **sc.when}, UNTUNED)
    assert all(c.held for c in claims), [c.text for c in claims if not c.held]


def _assert_range(values, lo, hi):
    """The stated range is the measured one, to the two digits shown (log scale for tiny ratios)."""
    if lo > 0 and hi / lo > 100:
        a, b, lo_m, hi_m = (math.log10(x) for x in (lo, hi, min(values), max(values)))
        assert abs(lo_m - a) < 0.05 and abs(hi_m - b) < 0.05, (min(values), max(values), lo, hi)
    else:
        tol = 0.051 * max(abs(lo), abs(hi), 0.1)
        assert abs(min(values) - lo) <= tol and abs(max(values) - hi) <= tol, (min(values), max(values), lo, hi)


def test_the_learn_tabs_ranges_over_seeds_0_to_49_hold_the_lessons_ranges_over_0_to_9():
    """The Learn tab quotes claims.toml (bench/claim_ranges.py, seeds 0-49); each lesson card's range (seeds 0-9) lies inside."""
    measured = learn_text.claims()
    lesson = lessons.get("lstm-forget-gate")
    for (bias, lo, hi), name in zip(lesson.check["seeds"], ("lstm_fb0_orders", "lstm_fb1_orders", "lstm_fb3_orders")):
        assert measured[name]["lo"] <= lo + 0.05 and hi - 0.05 <= measured[name]["hi"], (bias, name, measured[name])
    lo, hi = lessons.get("gru").check["seeds"]
    assert measured["gru_orders"]["lo"] <= lo + 0.05 and hi - 0.05 <= measured["gru_orders"]["hi"]


@pytest.mark.parametrize(
    "slug,changes",
    [
        ("vanishing-tanh", {"activation": "linear", "recurrent_scale": 1.0}),
        ("exploding", {"recurrent_scale": 0.9}),
        ("clipping", {"clip": "value"}),
        ("truncation", {"bptt": "full"}),
        ("lstm-forget-gate", {"forget_bias": 2.0}),
        ("gru", {"recurrent_scale": 3.0, "seq_len": 20}),
        ("irnn", {"recurrent_scale": 1.3}),
        ("lru", {"bptt": "k", "truncation": 10}),
    ],
)
def test_a_change_that_breaks_the_claim_is_said_neutrally(slug, changes):
    """The check itself says ✗ (the claim does not hold there); the card, on settings no claim covers, says so neutrally."""
    lesson = lessons.get(slug)
    trace = run(widget_values.config_for({**lesson.settings, **changes}, CAP))
    claim = lessons.check(lesson, trace)
    assert not claim.held and claim.text.startswith("✗ not on this run: ")
    shown = lessons.verdict(lesson, trace, CAP)
    assert shown.status == "other" and shown.claim == lesson.claim
    assert shown.text == f"Measured on this run: {claim.measured}." and "✗" not in shown.text
    assert shown.note.startswith("The claim covers the lesson's settings; this run differs in: ")
    for name in (k for k in changes if k in Config.__dataclass_fields__):
        assert name in shown.note


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.slug)
def test_every_step_button_leads_to_a_claim_that_holds(lesson):
    """Doing what a step asks (its button, from the lesson's settings) shows the claim for those settings, held."""
    for control in [c for c in lesson_steps.CONTROLS if c.lesson == lesson.slug and c.set]:
        for seed in (0, UNTUNED[0]):
            trace = run(widget_values.config_for({**lesson.settings, **control.set, "seed": seed}, CAP))
            shown = lessons.verdict(lesson, trace, CAP)
            assert shown.status == "held", (control.label, seed, shown.text)
            covering = [
                sc
                for sc in lesson.scenarios
                if widget_values.config_for({**lesson.settings, **sc.when}, CAP) == trace.config.replace(seed=0)
            ]
            assert covering and shown.claim == covering[0].claim, control.label


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.slug)
def test_walking_the_steps_in_order_never_shows_a_failure(lesson):
    """A lecturer presses each step's buttons in turn, each on top of the last: no stop shows a red ✗."""
    settings = dict(lesson.settings)
    stops = [c for c in lesson_steps.CONTROLS if c.lesson == lesson.slug and c.set]
    for control in [None, *stops]:
        if control is not None:
            settings.update(control.set)
        shown = lessons.verdict(lesson, run(widget_values.config_for(settings, CAP)), CAP)
        assert shown.status != "failed" and "✗" not in shown.text, (control and control.label, shown.text)


def test_the_seed_is_covered_by_the_claim_and_named_in_the_note():
    lesson = lessons.get("vanishing-tanh")
    shown = lessons.verdict(lesson, run(widget_values.config_for({**lesson.settings, "seed": 9}, CAP)), CAP)
    assert shown.status == "held" and shown.note == "This run differs from the settings the claim covers in: seed 0 → 9."
    assert lessons.verdict(lesson, run(widget_values.config_for(lesson.settings, CAP)), CAP).note is None


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.slug)
def test_every_lesson_and_step_fits_the_public_caps(lesson):
    """RNNLAB_PUBLIC=1 caps T at 300 (and H, B): nothing a lesson or its buttons set is clamped, so every claim stands there."""
    public = limits.caps({"RNNLAB_PUBLIC": "1"})
    for extra in [{}] + [c.set for c in lesson_steps.CONTROLS if c.lesson == lesson.slug and c.set]:
        settings = {**lesson.settings, **extra}
        _, notes = widget_values.resolve(settings, public)
        assert not [n for n in notes if "allows" in n], (lesson.slug, extra, notes)
        assert widget_values.config_for(settings, public) == widget_values.config_for(settings, CAP)


def test_exploding_in_float64_is_measured_as_growth():
    """float64 keeps T = 300 finite: the claim then rests on the growth, exactly 1.3^299 for a linear orthogonal RNN."""
    lesson = lessons.get("exploding")
    claim = lessons.check(lesson, run(widget_values.config_for({**lesson.settings, "seq_len": 300, "dtype": "float64"}, CAP)))
    assert claim.held and claim.value == pytest.approx(1.3**299, rel=1e-6)


def test_exploding_in_float32_marks_the_overflow_after_growth():
    """At T = 300 in float32 the gradient passes 3.4e38 about 50 steps back: the step is the claim's number, the growth ×1.3."""
    lesson = lessons.get("exploding")
    trace = run(widget_values.config_for({**lesson.settings, "seq_len": 300}, CAP))
    claim = lessons.check(lesson, trace)
    g = trace.grad_h
    assert claim.held and claim.value == trace.overflow_grad_step and not np.isfinite(g[trace.overflow_grad_step])
    assert np.isfinite(g[trace.overflow_grad_step + 1 :]).all() and g[trace.overflow_grad_step + 1] <= float(np.finfo(np.float32).max) * 1.5
    assert trace.decay_factor == pytest.approx(1.3, rel=1e-3) and "factor per step (fitted) ×1.30" in claim.text


def test_truncation_check_reads_the_engine_rule():
    """A partial last block (T=13, k1=5, k2=7): reached steps 8..12, as Config.truncation_blocks() says."""
    trace = run(Config(task="first", seq_len=13, k1=5, k2=7, hidden_size=4, batch_size=2))
    assert lessons.reached_steps(trace).tolist() == [False] * 8 + [True] * 5
    assert lessons.truncation(trace, seeds=[8, 8]).held


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.slug)
def test_link_sets_what_the_lesson_sets(lesson):
    """link_for(settings), read back by the page's own link parser, gives the lesson's settings; the Config agrees."""
    query = {k: [v] for k, v in parse_qsl(lessons.link_for(lesson.settings).removeprefix("?"))}
    values, errors, warnings = links.parse(query, CAP)
    assert not errors and not warnings
    assert {k: values[k] for k in lesson.settings} == lesson.settings
    cfg = widget_values.config_for(lesson.settings, CAP)
    for name, value in lesson.settings.items():
        if name in Config.__dataclass_fields__:
            assert getattr(cfg, name) == value, name
    assert lessons.lesson_link(lesson) == f"?lesson={lesson.slug}"


def test_a_host_cap_is_clamped_with_a_note():
    values, notes = widget_values.resolve(lessons.get("vanishing-tanh").settings, limits.caps({"RNNLAB_MAX_SEQ_LEN": "120"}))
    assert values["seq_len"] == 120 and any("seq_len" in n for n in notes)


def test_fmt_shows_two_digits():
    assert [lessons.fmt(x) for x in (2.04e-11, 0.135, 4.2e6, 1e-6)] == ["2e-11", "0.14", "4.2e6", "1e-6"]


def test_worked_numbers_in_the_steps_are_true():
    """Every '$a^{n} \\approx m \\times 10^{e}$' in a lesson's steps equals a**n to the digits it shows."""
    import re

    pattern = r"(\d+(?:\.\d+)?)\^\{(\d+)\} \\approx (\d+(?:\.\d+)?)(?: \\times 10\^\{(-?\d+)\})?"
    found = [m for lesson in lessons.LESSONS for step in lesson.steps for m in re.findall(pattern, step)]
    assert len(found) >= 2
    for base, n, mantissa, exp in found:
        e = int(exp or 0)
        digits = len(mantissa.replace(".", "").lstrip("0"))
        assert float(f"{float(base) ** int(n) / 10**e:.{digits}g}") == float(mantissa), (base, n, mantissa, exp)


def test_a_check_can_live_in_another_module():
    """The hook for lessons added elsewhere (the phase diagram's edge of chaos): kind = "package.module:function"."""
    base = lessons.get("irnn")
    moved = lessons.Lesson("x", "x", base.settings, base.steps, base.claim, {**base.check, "kind": "ui.teaching.lessons:flat"})
    trace = run(widget_values.config_for(base.settings, CAP))
    assert lessons.check(moved, trace) == lessons.check(base, trace)


def test_the_lru_lessons_comparison_step_quotes_the_measured_orders():
    """Step 4 compares with the tanh RNN (its button overlays vs.cell=rnn): the orders it loses over seeds 0-49, as
    bench/claim_ranges.py measured them (claims.toml, filled into the step's text); the LRU loses 0.9."""
    from ui.page import compare
    from viz.measures import end_ratio, orders

    lesson, measured = lessons.get("lru"), learn_text.claims()["lru_rnn_orders"]
    (button,) = [c for c in lesson_steps.CONTROLS if c.lesson == "lru" and c.compare]
    assert button.compare == {"cell": "rnn"} and f"{measured['text']} orders" in lesson.steps[button.step - 1]
    lost, lru = [], []
    for seed in SEEDS:
        cfg = widget_values.config_for({**lesson.settings, "seed": seed}, CAP)
        lost.append(orders(end_ratio(run(compare.other_config(cfg, button.compare)[0]).grad_h)))
        lru.append(orders(end_ratio(run(cfg).grad_h)))
    assert measured["lo"] - 1e-9 <= min(lost) and max(lost) <= measured["hi"] + 1e-9
    assert {round(x, 1) for x in lru} == {0.9}


def test_a_claim_that_holds_on_other_settings_does_not_quote_the_lessons_seed_range():
    """Scale 0.7 in the vanishing lesson: still below a millionth, said as holding 'too', without the range measured at 0.9."""
    lesson = lessons.get("vanishing-tanh")
    trace = run(widget_values.config_for({**lesson.settings, "recurrent_scale": 0.7}, CAP))
    shown = lessons.verdict(lesson, trace, CAP)
    assert shown.status == "held" and shown.text.startswith("✓ holds on this run too: end-to-end ratio ")
    assert "seeds 0–9" not in shown.text and shown.note.endswith("recurrent_scale 0.9 → 0.7.")
