"""Presentation mode for projectors: larger type on the page and in the charts, no Streamlit chrome, sidebar folded.

On from `?present=1`, the sidebar toggle or "Present the lessons"; the charts switch to viz.theme's
projector style (fonts >= 18 px, thicker lines, Okabe-Ito colours) through ui.page.charts.style(). The
header that holds Streamlit's own sidebar button is hidden, so the page carries its own: "⚙ Settings"
opens the sidebar (ui/page/settings_button.js) and "Leave presentation" ends the mode, no URL editing.
"""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

PARAM = "present"
LESSON_PX = 24  # the smallest text of the lesson card on a projector (steps, claim, captions, link, buttons)
# Always on: a folded sidebar is moved off screen, not hidden, so Tab walked through its ~40 controls first (every
# descendant: Streamlit's help icons set their own visibility). Contrast (axe-core color-contrast, WCAG AA 4.5:1,
# tests/test_browser_backward.py): Streamlit's captions (grey at 60 % opacity) read 3.9:1 and a disabled widget's label
# 2.3:1; opaque darker greys read 5.9:1 and 5.3:1. KaTeX's display blocks were scroll boxes no keyboard could reach
# (scrollable-region-focusable): they overflow visibly instead. On a phone a Markdown table (the formula's numbers)
# takes the column's width and wraps its cells, long record names included, instead of running off the screen.
PAGE_CSS = """<style>
[data-testid="stSidebar"][data-collapsed="true"], [data-testid="stSidebar"][data-collapsed="true"] * { visibility: hidden !important; }
[data-testid="stCaptionContainer"] { opacity: 1 !important; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { color: #646361 !important; }
[data-testid="stElementContainer"]:has(:disabled, [aria-disabled="true"]) [data-testid="stWidgetLabel"] p { color: #63625f !important; }
.katex-display { overflow: visible !important; }
@media (max-width: 640px) {
  [data-testid="stMarkdownContainer"] table { width: 100%; table-layout: fixed; }
  [data-testid="stMarkdownContainer"] th, [data-testid="stMarkdownContainer"] td { overflow-wrap: anywhere; padding: 0.25rem; }
  .st-key-step_formula .katex { font-size: 1em; }
}
</style>"""
CSS = f"""<style>
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"], footer {{ display: none !important; }}
[data-testid="stMain"] {{ font-size: 1.35rem; }}
[data-testid="stMain"] h1 {{ font-size: 3.2rem; }}
[data-testid="stMain"] [data-testid="stMetricValue"] {{ font-size: 2.6rem; }}
[data-testid="stMain"] button p, [data-testid="stMain"] [role="tab"] p {{ font-size: 1.3rem; }}
[data-testid="stMainBlockContainer"] {{ padding: 0.75rem 1.5rem 2rem; }}
.st-key-lesson_panel p, .st-key-lesson_panel li, .st-key-lesson_panel label, .st-key-lesson_panel code,
.st-key-lesson_panel [data-testid="stCaptionContainer"], .st-key-lesson_panel button p,
.st-key-lesson_panel [data-testid="stAlertContentSuccess"] p, .st-key-lesson_panel [data-testid="stAlertContentError"] p
{{ font-size: {LESSON_PX}px !important; line-height: 1.25; }}
.st-key-lesson_panel [data-testid="stVerticalBlock"] {{ gap: 0.5rem; }}
.st-key-lesson_bar {{ gap: 0.5rem; }}
.st-key-lesson_bar button p, .st-key-lesson_bar .rnnlab-settings {{ font-size: 1.1rem !important; }}
.st-key-lesson_bar button {{ padding: 0.25rem 0.6rem; min-height: 2.4rem; }}
.st-key-lesson_panel code {{ padding: 0 0.2em; }}
.st-key-lesson_panel [data-testid="stMarkdownContainer"] p {{ margin-bottom: 0.25rem; }}
.rnnlab-settings {{ font: inherit; font-size: 1.3rem; line-height: 1.6; padding: 0.25rem 0.75rem; border-radius: 0.5rem;
  border: 1px solid rgba(49, 51, 63, 0.2); background: transparent; color: inherit; cursor: pointer; }}
.rnnlab-settings:hover {{ border-color: rgb(255, 75, 75); color: rgb(255, 75, 75); }}
.rnnlab-settings:focus-visible {{ outline: 2px solid rgb(255, 75, 75); outline-offset: 2px; }}
</style>"""


@functools.cache
def _settings_button():
    """The "⚙ Settings" component, registered with Streamlit once per process, when it is first drawn."""
    return st.components.v2.component(
        "rnnlab_settings", js=Path(__file__).with_name("settings_button.js").read_text(), isolate_styles=False
    )


def requested() -> bool:
    """Whether this page should open in presentation mode: the toggle's state, else the link's ?present=1."""
    if PARAM in st.session_state:
        return bool(st.session_state[PARAM])
    return st.query_params.get(PARAM, "0") in ("1", "true", "yes")


def toggle() -> bool:
    """The sidebar toggle, kept in the URL as present=1."""
    if PARAM not in st.session_state:
        st.session_state[PARAM] = requested()
    on = st.toggle("Presentation mode", key=PARAM, help="Large type, projector colours, no Streamlit menus: for a lecture hall.")
    if on and st.query_params.get(PARAM) != "1":
        st.query_params[PARAM] = "1"
    elif not on and PARAM in st.query_params:
        del st.query_params[PARAM]
    return on


def apply(on: bool) -> None:
    """The page's styles: always the folded sidebar out of the tab order; for the projector, only while the mode is on."""
    st.html(PAGE_CSS + (CSS if on else ""))


def leave() -> None:
    """The "Leave presentation" button's on_click: the toggle goes off (and present=1 leaves the URL)."""
    st.session_state[PARAM] = False


def buttons() -> None:
    """ "⚙ Settings" opens the folded sidebar, "Leave presentation" ends the mode: drawn in the row they are called in."""
    _settings_button()(key="present_settings", width="content")
    st.button("Leave presentation", key="present_leave", on_click=leave)


def bar() -> None:
    """The lecturer's way out of a page without a lesson: the two buttons in a row of their own."""
    with st.container(horizontal=True, key="present_bar"):
        buttons()
