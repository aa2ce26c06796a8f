"""What a lesson step lets the class do: the controls its text names (buttons in the card) and a guess to make first.

The controls are data (ui/teaching/lesson_steps.toml), next to the lessons' text (ui/teaching/lessons.toml), whose
optional `predict = {step, question, options, answer}` asks the class to commit to a guess
before the step's result is shown. A button sets the same session-state keys as the sidebar
widgets (the Config field names), so the sidebar, the URL and the card never disagree.
Nothing here calls Streamlit at import: `apply` imports it when a button calls it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import lessons

DATA = Path(__file__).with_name("lesson_steps.toml")
TAB_KEY = "tab"  # the page's st.tabs key (app.py): a control may open a tab
REVEALED_KEY = "_revealed"  # session state: {(slug, step): the guess} for every step whose result was revealed


@dataclass(frozen=True)
class StepControl:
    """One button of a step: the widget values it sets, the comparison it overlays, the tab it opens."""

    lesson: str
    step: int  # 1-based, as the card numbers the steps
    label: str
    set: dict
    compare: dict | None = None
    tab: str | None = None


@dataclass(frozen=True)
class Predict:
    """A question put to the class before the step's result shows; `answer` is one of `options`."""

    step: int
    question: str
    options: tuple[str, ...]
    answer: str


def _load_controls(path: Path = DATA) -> tuple[StepControl, ...]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))["control"]
    return tuple(StepControl(d["lesson"], int(d["step"]), d["label"], dict(d.get("set", {})), d.get("compare"), d.get("tab")) for d in raw)


def _load_predicts(path: Path = lessons.DATA) -> dict[str, Predict]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))["lesson"]
    out = {}
    for d in raw:
        p = d.get("predict")
        if p:
            out[d["slug"]] = Predict(int(p.get("step", 1)), p["question"], tuple(p["options"]), p["answer"])
    return out


CONTROLS: tuple[StepControl, ...] = _load_controls()
PREDICTS: dict[str, Predict] = _load_predicts()


def controls_for(slug: str, step: int) -> list[StepControl]:
    """The buttons of step `step` (1-based) of this lesson, in file order."""
    return [c for c in CONTROLS if c.lesson == slug and c.step == step]


def predict_for(slug: str, step: int) -> Predict | None:
    """The guess asked before this step's result, if the lesson asks one there."""
    p = PREDICTS.get(slug)
    return p if p is not None and p.step == step else None


def apply(control: StepControl) -> None:
    """A step button's on_click: set its controls (settled, like the sidebar), its comparison and its tab."""
    import streamlit as st

    from ui.page import compare, controls

    if control.set:
        controls.set_from_page(control.set)
    if control.compare is not None:
        compare.set_overrides(control.compare)
    if control.tab:
        st.session_state[TAB_KEY] = control.tab


def revealed(slug: str, step: int) -> bool:
    """Whether this step's result is shown: it asks no question, or the class pressed Reveal."""
    import streamlit as st

    return predict_for(slug, step) is None or (slug, step) in st.session_state.get(REVEALED_KEY, {})


def reveal(slug: str, step: int, guess: str | None) -> None:
    """The Reveal button's on_click: keep the guess (its radio is not drawn again) and show the result."""
    import streamlit as st

    st.session_state[REVEALED_KEY] = {**st.session_state.get(REVEALED_KEY, {}), (slug, step): guess}


def guess(slug: str, step: int) -> str | None:
    """The option the class chose before Reveal (None: revealed without a guess)."""
    import streamlit as st

    return st.session_state.get(REVEALED_KEY, {}).get((slug, step))


def forget(slug: str) -> None:
    """The lesson is opened again: its questions wait for new guesses."""
    import streamlit as st

    kept = {key: g for key, g in st.session_state.get(REVEALED_KEY, {}).items() if key[0] != slug}
    st.session_state[REVEALED_KEY] = kept
