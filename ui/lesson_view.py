"""The lesson panel at the top of the page, and the lists that open a lesson (Learn tab, sidebar)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from engine import Config, Trace

from . import lessons
from .lessons import Claim, Lesson


def changed_settings(lesson: Lesson, config: Config) -> dict:
    """{field: (the lesson's value, the shown value)} for every Config field that differs from what the lesson sets."""
    planned = lessons.config_for(lesson.settings)
    return {
        name: (getattr(planned, name), getattr(config, name))
        for name in planned.to_dict()
        if name != "device" and getattr(planned, name) != getattr(config, name)
    }


def lesson_panel(
    lesson: Lesson,
    trace: Trace | None,
    on_next: Callable[[], None] | None = None,
    on_prev: Callable[[], None] | None = None,
) -> Claim | None:
    """Title, steps, the claim checked on the run shown, and Previous / Next; returns the claim (None without a run).

    on_next / on_prev default to opening the neighbouring lesson (its settings applied).
    """
    prev, nxt = lessons.neighbours(lesson.slug)
    number = lessons.LESSONS.index(lesson) + 1
    claim = None
    with st.container(border=True, key="lesson_panel"):
        st.markdown(f"**Lesson {number} of {len(lessons.LESSONS)}: {lesson.title}**")
        st.markdown("\n".join(f"{k}. {step}" for k, step in enumerate(lesson.steps, 1)))
        st.markdown(f"**Claim:** {lesson.claim}")
        if trace is None:
            st.info("The claim is checked once the run is shown.")
        else:
            claim = lessons.check(lesson, trace)
            (st.success if claim.held else st.error)(claim.text)
            moved = changed_settings(lesson, trace.config)
            if moved:
                said = ", ".join(f"{name} {was} → {now}" for name, (was, now) in moved.items())
                st.caption(f"You changed the lesson's settings ({said}); the claim above is measured on the run as shown.")
        cols = st.columns(4)
        cols[0].button(
            "← Previous",
            key="lesson_prev",
            disabled=prev is None,
            on_click=on_prev or (lessons.open_lesson if prev else None),
            args=() if on_prev or prev is None else (prev.slug,),
            width="stretch",
        )
        cols[1].button(
            "Next →",
            key="lesson_next",
            disabled=nxt is None,
            on_click=on_next or (lessons.open_lesson if nxt else None),
            args=() if on_next or nxt is None else (nxt.slug,),
            width="stretch",
        )
        cols[2].button(
            "Lesson settings again",
            key="lesson_again",
            on_click=lessons.open_lesson,
            args=(lesson.slug,),
            help="Put every control back to this lesson's settings.",
            width="stretch",
        )
        cols[3].button("Close lesson", key="lesson_close", on_click=lessons.close_lesson, width="stretch")
        st.caption(f"Link to this lesson: `{lessons.lesson_link(lesson)}`")
    return claim


def lesson_list(key: str = "learn") -> None:
    """Every lesson in path order, each with a button that opens it (for the Learn tab)."""
    for k, lesson in enumerate(lessons.LESSONS, 1):
        left, right = st.columns([4, 1])
        left.markdown(f"{k}. **{lesson.title}**: {lesson.claim}")
        right.button("Open", key=f"{key}_open_{lesson.slug}", on_click=lessons.open_lesson, args=(lesson.slug,), width="stretch")


def lesson_select(key: str = "lesson_select") -> None:
    """A compact picker for the sidebar: choosing a lesson opens it."""

    def _open():
        slug = st.session_state[key]
        if slug:
            lessons.open_lesson(slug)

    titles = {lesson.slug: lesson.title for lesson in lessons.LESSONS}
    current = st.session_state.get(lessons.STATE_KEY)
    st.session_state[key] = current
    st.selectbox(
        "Lesson",
        [None, *titles],
        key=key,
        format_func=lambda slug: "choose a lesson…" if slug is None else titles[slug],
        on_change=_open,
    )
