"""Every chart of the page goes through chart(): one place decides how a Plotly figure reaches the browser."""

from __future__ import annotations

import streamlit as st

CONFIG = {"displaylogo": False}


def chart(fig, key: str) -> None:
    """Draw a go.Figure or a figure dict (house colours from viz.theme, not Streamlit's theme)."""
    st.plotly_chart(fig, key=key, theme=None, config=CONFIG)
