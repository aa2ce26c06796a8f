"""The lesson panel over the real sidebar: opening a lesson sets the controls, its claim shows as held on seeds 0-9, Next walks on."""

from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from ui.teaching import lesson_steps, lessons

ROOT = Path(__file__).resolve().parents[1]
# The page as the lead wires it: the sidebar, then the open lesson's panel over the run shown, then the list of lessons.
SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from ui.page import compute, controls
from ui.teaching import lessons
from ui.page.lesson_view import lesson_list, lesson_panel, lesson_select

settings = controls.sidebar()
with st.sidebar:
    lesson_select()
slug = st.session_state.get(lessons.STATE_KEY)
if slug and settings.config is not None:
    lesson_panel(lessons.get(slug), compute.trace_for(settings.config, False))
lesson_list("list")
"""


def _page(query=None):
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    at.query_params.update(query or {})
    return at.run()


def _claim_box(at):
    return [e.value for e in at.success] + [e.value for e in at.error]


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.slug)
def test_open_sets_the_controls_and_the_claim_holds_on_seeds_0_to_9(lesson):
    at = _page()
    at.button(key=f"list_open_{lesson.slug}").click().run()
    assert not at.exception
    for name, value in lesson.settings.items():
        assert at.session_state[name] == value, name
    for seed in range(10):
        if seed:
            at.sidebar.number_input(key="seed").set_value(seed).run()
        assert not at.exception
        assert [e.value for e in at.error] == [], seed
        shown = [e.value for e in at.success]
        assert len(shown) == 1 and shown[0].startswith("✓ measured on this run: "), (seed, shown)
    assert at.session_state["seed"] == 9
    changed = [c.value for c in at.caption if "differs from the settings the claim covers" in c.value]
    assert changed == ["This run differs from the settings the claim covers in: seed 0 → 9."]


def test_next_and_previous_walk_the_path_and_apply_each_lessons_settings():
    at = _page()
    first = lessons.LESSONS[0]
    at.button(key=f"list_open_{first.slug}").click().run()
    for lesson in lessons.LESSONS[1:]:
        at.button(key="lesson_next").click().run()
        assert at.session_state[lessons.STATE_KEY] == lesson.slug
        for name, value in lesson.settings.items():
            assert at.session_state[name] == value, (lesson.slug, name)
        assert any(m.value.startswith(f"**Lesson {lessons.LESSONS.index(lesson) + 1} of ") for m in at.markdown)
    assert at.button(key="lesson_next").disabled
    at.button(key="lesson_prev").click().run()
    assert at.session_state[lessons.STATE_KEY] == lessons.LESSONS[-2].slug


def test_other_settings_are_said_neutrally_on_the_page():
    """Full BPTT in the truncation lesson: no claim covers it, so a neutral box says what this run shows, never a red ✗."""
    at = _page()
    at.button(key="list_open_truncation").click().run()
    at.sidebar.radio(key="bptt").set_value("full").run()
    assert not at.exception and [e.value for e in at.error] == [] and [e.value for e in at.success] == []
    (box,) = [e.value for e in at.info if e.value.startswith("Measured on this run: ")]
    assert "full BPTT: nothing is cut" in box
    assert any(c.value.startswith("The claim covers the lesson's settings; this run differs in: ") for c in at.caption)


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.slug)
def test_each_step_button_on_the_card_shows_its_claim_held(lesson):
    """Pressing each of the card's step buttons (from the lesson's settings) shows the claim for them, held: no red box."""
    controls = [c for c in lesson_steps.CONTROLS if c.lesson == lesson.slug and c.set]
    at = _page()
    for control in controls:
        at.button(key=f"list_open_{lesson.slug}").click().run()
        at.button(key=f"step_{control.lesson}_{control.step}_{control.label}").click().run()
        assert not at.exception
        for name, value in control.set.items():
            assert at.session_state[name] == value, (control.label, name)
        assert [e.value for e in at.error] == [], control.label
        shown = [e.value for e in at.success]
        assert len(shown) == 1 and shown[0].startswith("✓ measured on this run: "), (control.label, shown)


def test_sidebar_picker_opens_a_lesson_and_close_leaves_the_settings():
    at = _page()
    at.sidebar.selectbox(key="lesson_select").set_value("lru").run()
    assert at.session_state[lessons.STATE_KEY] == "lru" and at.session_state["cell"] == "lru"
    at.button(key="lesson_close").click().run()
    assert lessons.STATE_KEY not in at.session_state and at.session_state["cell"] == "lru"
    assert not _claim_box(at)


@pytest.mark.parametrize("lesson", lessons.LESSONS[:3], ids=lambda lesson: lesson.slug)
def test_link_for_sets_the_controls_on_a_new_session(lesson):
    at = _page(dict(parse_qsl(lessons.link_for(lesson.settings).removeprefix("?"))))
    assert not at.exception
    for name, value in lesson.settings.items():
        assert at.session_state[name] == value, name
