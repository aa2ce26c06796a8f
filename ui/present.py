"""Presentation mode for projectors: larger type on the page and in the charts, no Streamlit chrome, sidebar folded.

On from `?present=1` or the sidebar toggle; the charts switch to viz.theme's projector style
(fonts >= 18 px, thicker lines, Okabe-Ito colours) through ui.charts.style().
"""

from __future__ import annotations

import streamlit as st

PARAM = "present"
CSS = """<style>
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"], footer { display: none !important; }
[data-testid="stMain"] { font-size: 1.35rem; }
[data-testid="stMain"] h1 { font-size: 3.2rem; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 2.6rem; }
[data-testid="stMain"] button p, [data-testid="stMain"] [role="tab"] p { font-size: 1.3rem; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; }
</style>"""


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


def apply() -> None:
    """The page's styles for the projector (only while the mode is on)."""
    st.html(CSS)
