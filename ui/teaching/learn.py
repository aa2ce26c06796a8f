"""The Learn tab: the ideas behind every picture in the app, with things to try.

The prose lives in Markdown, one file a section (ui/teaching/learn/*.md, read by ui/teaching/learn_text.py),
with every measured range filled in from bench/claim_ranges.py's run of the lessons' checks.
"""

from __future__ import annotations

import streamlit as st

from ui.page.lesson_view import START_TAB, lesson_list

from . import learn_text
from .lesson_steps import TAB_KEY
from .lessons import apply_settings, link_for


def learn_tab() -> None:
    """Render the whole Learn tab: the lessons, then one short section per idea, in teaching order."""
    st.markdown(
        "Each section explains one idea behind the charts, gives the equations the engine really computes, "
        "and ends with settings to **try in the app**: a button sets the controls. Symbols: input $x_t$, hidden state $h_t$, "
        "steps $t = 0, \\dots, T-1$, loss $L$."
    )
    with st.expander("Lessons: a guided path, each claim checked on the run you see", expanded=True):
        lesson_list("learn")
    for section in learn_text.sections():
        st.markdown(section.body)
        if section.tries:
            _try(*section.tries)


def _try(*items) -> None:
    """A collapsible list of experiments, each with a button that sets the controls (and its link), so the tab expands into a lab.

    An item is (sentence, settings or None), where settings are sidebar values on top of the defaults.
    """
    with st.expander("Try this in the app"):
        for item in items:
            text, settings = item
            if settings is None:
                st.markdown(f"- {text}")
                continue
            left, right = st.columns([5, 1])
            left.markdown(f"- {text}")
            right.button(
                "Set the controls",
                key="try_" + link_for(settings),
                on_click=_set_and_show,
                args=(settings,),
                help=f"Every other control goes back to its default. As a link: {link_for(settings)}",
                width="stretch",
            )


def _set_and_show(settings: dict) -> None:
    """A "Set the controls" button: the settings, then the Gradient flow tab, where the change shows (not Learn, where nothing moves)."""
    apply_settings(settings)
    st.session_state[TAB_KEY] = START_TAB
