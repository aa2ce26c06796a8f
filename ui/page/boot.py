"""What the page needs once per process, done by an explicit call at the app's start instead of at import.

Importing a ui module changes nothing outside it (tests/test_ui_layout.py checks): no file is
copied, no global of Plotly or logging is set. app.main() calls start() before it draws; every
step is idempotent, so each rerun of the script may call it again at no cost.
"""

from __future__ import annotations

from ui.serving import streamlit_private
from viz import theme

from . import charts


def start() -> None:
    """The house Plotly template, plotly.js in static/ for the charts, Streamlit's widget-policy warnings quieted."""
    theme.use_template()
    streamlit_private.warm_emoji_catalogue()
    charts.script_name()  # copies plotly.js into static/ the first time, when the cartesian bundle is not there
    # Setting a bound widget's value from a callback (settling, Reset, a link) is deliberate here: Streamlit's
    # "created with a default value but also had its value set via the Session State API" warning is noise.
    streamlit_private.quiet_policy_warnings()
