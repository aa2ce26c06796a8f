"""Presentation mode on the real page (AppTest): a lecturer walks steps then lessons, guesses before Reveal, leaves."""

from pathlib import Path

import pytest
from app_charts import figures
from streamlit.testing.v1 import AppTest

from ui.page import widget_values
from ui.page.lesson_view import STEP_KEY
from ui.serving import limits
from ui.teaching import lesson_steps, lessons

APP = str(Path(__file__).resolve().parents[1] / "app.py")
FIRST, SECOND = lessons.LESSONS[0], lessons.LESSONS[1]
DEFAULTS = widget_values.defaults(limits.caps({}))


def page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def click(at, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def shown_step(at) -> tuple[str, int]:
    step = at.session_state[STEP_KEY] if STEP_KEY in at.session_state else 0  # a link opens a lesson at its first step
    return at.session_state[lessons.STATE_KEY], step + 1


def card_text(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_next_walks_every_step_then_the_next_lesson_and_previous_walks_back():
    at = page({"present": "1", "lesson": FIRST.slug})
    walked = [shown_step(at)]
    while not at.button(key="lesson_next").disabled:
        click(at, "lesson_next")
        walked.append(shown_step(at))
        slug, k = walked[-1]
        assert f"**Step {k} of {len(lessons.get(slug).steps)}.**" in card_text(at)
    assert walked == [(lesson.slug, k) for lesson in lessons.LESSONS for k in range(1, len(lesson.steps) + 1)]
    at = page({"present": "1", "lesson": SECOND.slug})
    click(at, "lesson_prev")  # from a lesson's first step back to the previous lesson's last step, its settings applied
    assert shown_step(at) == (FIRST.slug, len(FIRST.steps))
    assert all(at.session_state[name] == value for name, value in FIRST.settings.items())
    assert not at.toast and not [w for w in at.warning if "applied" in w.value]  # no banner above the chart on a slide


def test_a_question_hides_the_charts_and_the_claim_until_reveal():
    slug, p = next(iter(lesson_steps.PREDICTS.items()))
    at = page({"present": "1", "lesson": slug})
    while shown_step(at)[1] < p.step:
        click(at, "lesson_next")
    guess_key = f"guess_{slug}_{p.step}"
    assert at.radio(key=guess_key).options == list(p.options) and at.radio(key=guess_key).value is None
    assert figures(at) == [] and not at.success and not at.error  # neither the chart nor the claim yet
    at.radio(key=guess_key).set_value(p.answer).run()
    for control in lesson_steps.controls_for(slug, p.step):
        click(at, f"step_{slug}_{p.step}_{control.label}")
    assert figures(at) == []
    click(at, "lesson_reveal")
    assert figures(at) and (at.success or at.info or at.error)
    assert f"**Answer:** {p.answer} (your guess “{p.answer}” ✓)" in card_text(at)


@pytest.mark.parametrize("control", [c for c in lesson_steps.CONTROLS if c.set][:4], ids=lambda c: f"{c.lesson}-{c.label}")
def test_a_step_button_sets_the_sidebar_control_and_the_link(control):
    at = page({"present": "1", "lesson": control.lesson})
    while shown_step(at)[1] < control.step:
        click(at, "lesson_next")
    click(at, f"step_{control.lesson}_{control.step}_{control.label}")
    for name, value in control.set.items():
        assert at.session_state[name] == value, name
        if value != DEFAULTS[name]:  # a default is left out of the link
            assert at.query_params[name] == (repr(value) if isinstance(value, float) else str(value)), name


def test_the_way_in_and_the_way_out():
    at = page()
    assert at.button(key="start_first").label == f"Start here: {FIRST.title}"
    click(at, "start_first")
    assert shown_step(at) == (FIRST.slug, 1) and at.session_state["tab"] == "Gradient flow"
    assert [t.value for t in at.toast] == [f"Lesson 1: {FIRST.title}. Its settings are applied."]  # not a banner
    click(at, "lesson_close")
    click(at, "start_lecture")  # the lessons as a lecture: presentation mode on lesson 1
    assert at.session_state["present"] and at.query_params["present"] == "1" and shown_step(at) == (FIRST.slug, 1)
    click(at, "present_leave")
    assert not at.session_state["present"] and "present" not in at.query_params
    assert at.session_state[lessons.STATE_KEY] == FIRST.slug  # the lesson stays open, as a card above the tabs
