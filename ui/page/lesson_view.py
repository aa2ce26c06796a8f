"""The lesson card (all steps on the page; one step at a time in presentation mode), the way in, and the lesson pickers.

Every control a step names is a button in the card (ui/teaching/lesson_steps.toml), so a lecturer never
needs the sidebar. In presentation mode the card is a slide: one step, its buttons, the claim
measured on the run shown, Previous / Next walking the steps and then the lessons; a step with a
question hides its result until the class has guessed and Reveal is pressed.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from engine import Config, Trace
from ui.teaching import lesson_steps, lessons
from ui.teaching.lessons import Claim, Lesson

from . import compare
from . import present as presentation

STEP_KEY = "_lesson_step"  # session state: the step shown in presentation mode (0-based)
TOAST_KEY = "_toast"  # session state: a message for st.toast on the next run (app.py shows it once)
START_TAB = "Gradient flow"  # the chart every lesson's claim is about


def changed_settings(lesson: Lesson, config: Config) -> dict:
    """{field: (the lesson's value, the shown value)} for every Config field that differs from what the lesson sets."""
    planned = lessons.config_for(lesson.settings)
    return {
        name: (getattr(planned, name), getattr(config, name))
        for name in planned.to_dict()
        if name != "device" and getattr(planned, name) != getattr(config, name)
    }


def open_lesson(slug: str, step: int = 0) -> None:
    """A button's on_click: the lesson's settings, its step (-1: the last), its chart; said in a toast, not a banner.

    A banner above the chart would push it down on every Next; the comparison and the guesses of
    this lesson start afresh, as its settings do.
    """
    lesson = lessons.get(slug)
    state = st.session_state
    lessons.apply_settings(lesson.settings)
    state[lessons.STATE_KEY] = slug
    state[STEP_KEY] = step % len(lesson.steps)
    state[lesson_steps.TAB_KEY] = START_TAB
    compare.set_overrides({})
    lesson_steps.forget(slug)
    number = lessons.LESSONS.index(lesson) + 1
    state[TOAST_KEY] = f"Lesson {number}: {lesson.title}. Its settings are applied."


def _go(slug: str, step: int) -> None:
    """Previous / Next in presentation mode: another step of the open lesson, or another lesson's step."""
    if slug == st.session_state.get(lessons.STATE_KEY):
        st.session_state[STEP_KEY] = step
    else:
        open_lesson(slug, step)


def shown_step(lesson: Lesson) -> int:
    """The step on screen in presentation mode (0-based, within the lesson)."""
    return min(max(int(st.session_state.get(STEP_KEY, 0)), 0), len(lesson.steps) - 1)


def result_hidden(lesson: Lesson) -> bool:
    """Presentation mode: whether the shown step waits for the class's guess (its chart and claim hidden until Reveal)."""
    return not lesson_steps.revealed(lesson.slug, shown_step(lesson) + 1)


def lesson_panel(
    lesson: Lesson,
    trace: Trace | None,
    on_next: Callable[[], None] | None = None,
    on_prev: Callable[[], None] | None = None,
    present: bool = False,
) -> Claim | None:
    """The lesson card; returns the claim measured on the run shown (None without a run, or while a guess is pending).

    on_next / on_prev default to opening the neighbouring lesson (its settings applied); in
    presentation mode they walk the steps first.
    """
    number = lessons.LESSONS.index(lesson) + 1
    if present:  # the slide's controls first: the lecturer finds Next (and the way out) at the same place on every step
        with st.container(horizontal=True, key="lesson_bar"):
            _navigation(lesson, on_next, on_prev, present)
            presentation.buttons()
    with st.container(border=True, key="lesson_panel"):
        st.markdown(f"**Lesson {number} of {len(lessons.LESSONS)}: {lesson.title}**")
        if present:
            claim = _one_step(lesson, trace)
        else:
            st.markdown("\n".join(f"{k}. {step}" for k, step in enumerate(lesson.steps, 1)))
            _buttons([c for k in range(1, len(lesson.steps) + 1) for c in lesson_steps.controls_for(lesson.slug, k)])
            claim = _claim(lesson, trace)
        with st.container(horizontal=True, key="lesson_nav"):
            if not present:
                _navigation(lesson, on_next, on_prev, present)
            _again_and_close(lesson)
        st.caption(f"Link to this lesson: `{lessons.lesson_link(lesson)}`")
    return claim


def _one_step(lesson: Lesson, trace: Trace | None) -> Claim | None:
    """Presentation mode: the shown step, its buttons, then its question (until Reveal) or the claim."""
    k = shown_step(lesson) + 1
    step = f"**Step {k} of {len(lesson.steps)}.**"
    predict = lesson_steps.predict_for(lesson.slug, k)
    if not lesson_steps.revealed(lesson.slug, k):
        st.markdown(f"{step} **Predict:** {predict.question}")
        guess_key = f"guess_{lesson.slug}_{k}"
        st.radio("Your guess", predict.options, index=None, key=guess_key, label_visibility="collapsed")
        _buttons(lesson_steps.controls_for(lesson.slug, k))
        st.button(
            "Reveal",
            key="lesson_reveal",
            type="primary",
            icon=":material/visibility:",
            on_click=lambda: lesson_steps.reveal(lesson.slug, k, st.session_state.get(guess_key)),
        )
        return None
    st.markdown(f"{step} {lesson.steps[k - 1]}")
    _buttons(lesson_steps.controls_for(lesson.slug, k))
    if predict is not None:
        guess, answer = lesson_steps.guess(lesson.slug, k), predict.answer
        said = "no guess" if guess is None else f"your guess “{guess}” " + ("✓" if guess == answer else "✗")
        st.markdown(f"**Answer:** {answer} ({said})")
    return _claim(lesson, trace, compact=True)


def _claim(lesson: Lesson, trace: Trace | None, compact: bool = False) -> Claim | None:
    """The claim that covers the run shown (the lesson's, or the one for a step's settings), measured on it.

    On settings no claim covers, the card says what the claim covers and what this run shows, in
    a neutral box: doing what a step asks, or exploring, is never marked as a failure (lessons.verdict).
    One block, .st-key-lesson_claim on the page (the lecture test finds the claim by it). On a slide
    (compact) a held claim shows only what was measured: the claim above says what it asks in words.
    """
    with st.container(key="lesson_claim"):
        return _claim_lines(lesson, trace, compact)


def _claim_lines(lesson: Lesson, trace: Trace | None, compact: bool) -> Claim | None:
    if trace is None:
        st.markdown(f"**Claim:** {lesson.claim}")
        st.info("The claim is checked once the run is shown.")
        return None
    shown = lessons.verdict(lesson, trace)
    st.markdown(f"**Claim:** {shown.claim}")
    short = compact and shown.status == "held" and shown.result.measured
    text = f"✓ measured on this run: {shown.result.measured}" if short else shown.text
    {"held": st.success, "failed": st.error, "other": st.info}[shown.status](text)
    if shown.note:
        st.caption(shown.note)
    return shown.result


def _buttons(step_controls: list) -> None:
    """The controls a step names, as one row of buttons (each sets the same keys as its sidebar widget)."""
    if not step_controls:
        return
    with st.container(horizontal=True, key="lesson_step_controls"):
        for c in step_controls:
            st.button(c.label, key=f"step_{c.lesson}_{c.step}_{c.label}", on_click=lesson_steps.apply, args=(c,), icon=":material/tune:")


def _navigation(lesson: Lesson, on_next, on_prev, present: bool) -> None:
    """Previous / Next: in presentation mode the steps, then the lessons; else the lessons (their settings applied)."""
    prev, nxt = lessons.neighbours(lesson.slug)
    k, last = shown_step(lesson), len(lesson.steps) - 1
    if present and on_next is None:
        to = (lesson.slug, k + 1) if k < last else (nxt.slug, 0) if nxt else None
        on_next, next_args, next_off = (_go, to, False) if to else (None, (), True)
        back = (lesson.slug, k - 1) if k > 0 else (prev.slug, -1) if prev else None
        on_prev, prev_args, prev_off = (_go, back, False) if back else (None, (), True)
    else:
        next_args, next_off = ((), False) if on_next else ((nxt.slug,), False) if nxt else ((), True)
        prev_args, prev_off = ((), False) if on_prev else ((prev.slug,), False) if prev else ((), True)
        on_next = on_next or (open_lesson if nxt else None)
        on_prev = on_prev or (open_lesson if prev else None)
    st.button("← Previous", key="lesson_prev", disabled=prev_off, on_click=on_prev, args=prev_args)
    kind = "primary" if present else "secondary"
    st.button("Next →", key="lesson_next", type=kind, disabled=next_off, on_click=on_next, args=next_args)


def _again_and_close(lesson: Lesson) -> None:
    st.button(
        "Lesson settings again",
        key="lesson_again",
        on_click=open_lesson,
        args=(lesson.slug, shown_step(lesson)),
        help="Put every control back to this lesson's settings.",
        icon=":material/restart_alt:",
    )
    st.button("Close lesson", key="lesson_close", on_click=lessons.close_lesson, icon=":material/close:")


def start_here() -> None:
    """The way in on a page without a lesson: the first lesson one click away, alone or as a lecture."""
    first = lessons.LESSONS[0]

    def lecture():
        st.session_state["present"] = True  # ui.page.present's toggle
        open_lesson(first.slug)

    with st.container(horizontal=True, key="start_here"):
        st.button(
            f"Start here: {first.title}",
            key="start_first",
            type="primary",
            icon=":material/school:",
            on_click=open_lesson,
            args=(first.slug,),
        )
        st.button("Present the lessons (projector)", key="start_lecture", icon=":material/co_present:", on_click=lecture)


def lesson_list(key: str = "learn") -> None:
    """Every lesson in path order, each with a button that opens it (for the Learn tab)."""
    for k, lesson in enumerate(lessons.LESSONS, 1):
        left, right = st.columns([4, 1])
        left.markdown(f"{k}. **{lesson.title}**: {lesson.claim}")
        right.button("Open", key=f"{key}_open_{lesson.slug}", on_click=open_lesson, args=(lesson.slug,), width="stretch")


def lesson_select(key: str = "lesson_select") -> None:
    """A compact picker for the sidebar: choosing a lesson opens it."""

    def _open():
        slug = st.session_state[key]
        if slug:
            open_lesson(slug)

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
