"""The lesson steps' buttons and questions as data: each names a real step, sets values its control accepts, says what it sets."""

import pytest

from engine import Config
from engine.config import field_info
from ui.page import widget_values
from ui.page.controls import CONTROLS
from ui.page.lesson_view import START_TAB
from ui.serving import limits
from ui.teaching import lesson_steps, lessons

CAP = limits.caps({})
TABS = ("Gradient flow", "Phase diagram", "Training", "Gates", "Connectivity", "Unrolled graph", "Learn")  # app.py's VIEWS


def _named(value, text: str) -> bool:
    """Whether a step's text names this value: a choice by its name, a number as written (1.0, 1, 0.95)."""
    if isinstance(value, str):
        return value.lower() in text.lower()
    return any(form in text for form in {f"{value:g}", str(value), f"{value:.1f}"})


@pytest.mark.parametrize("control", lesson_steps.CONTROLS, ids=lambda c: f"{c.lesson}-{c.step}-{c.label}")
def test_a_step_control_names_a_real_step_and_sets_what_its_widget_accepts(control):
    lesson = lessons.get(control.lesson)
    assert lesson is not None and 1 <= control.step <= len(lesson.steps)
    assert control.set or control.compare or control.tab, "a button that does nothing"
    for name, value in control.set.items():
        assert name in CONTROLS, name
        if name in Config.__dataclass_fields__:
            assert type(value) is type(getattr(Config(), name)), name
    config = widget_values.config_for({**lesson.settings, **control.set}, CAP)  # raises on a value the page refuses
    for name, value in control.set.items():
        if name in Config.__dataclass_fields__:
            assert getattr(config, name) == value, name  # not clamped or settled away
    for name, value in (control.compare or {}).items():
        info = field_info(name)
        assert info["choices"] is None or value in info["choices"], name
    assert control.tab is None or control.tab in TABS


@pytest.mark.parametrize("control", lesson_steps.CONTROLS, ids=lambda c: f"{c.lesson}-{c.step}-{c.label}")
def test_a_step_control_does_what_its_steps_text_says(control):
    """Every value it sets is named in the step's text or is the lesson's own (\"... and back\"); so is its tab and comparison."""
    lesson = lessons.get(control.lesson)
    text = lesson.steps[control.step - 1]
    for name, value in control.set.items():
        if name == "bptt":  # a mode, named by its parameters (k, k1, k2), which are checked themselves
            continue
        assert _named(value, text) or lesson.settings.get(name) == value, (name, value, text)
    for value in (control.compare or {}).values():
        assert _named(value, text) and "compare" in text.lower(), text
    if control.tab and control.tab != START_TAB:
        assert control.tab in text, text


def test_questions_are_well_formed():
    assert len(lesson_steps.PREDICTS) >= 3  # a few lessons ask the class first
    for slug, p in lesson_steps.PREDICTS.items():
        lesson = lessons.get(slug)
        assert lesson is not None and 1 <= p.step <= len(lesson.steps), slug
        assert len(p.options) >= 2 and len(set(p.options)) == len(p.options) and p.answer in p.options, slug
        assert lesson_steps.predict_for(slug, p.step) is p
        assert all(lesson_steps.predict_for(slug, k) is None for k in range(1, len(lesson.steps) + 1) if k != p.step)


def test_a_step_control_is_found_by_its_step():
    for control in lesson_steps.CONTROLS:
        assert control in lesson_steps.controls_for(control.lesson, control.step)
    n = sum(len(lesson_steps.controls_for(lesson.slug, k)) for lesson in lessons.LESSONS for k in range(1, len(lesson.steps) + 1))
    assert n == len(lesson_steps.CONTROLS)  # none is attached to a step that does not exist
