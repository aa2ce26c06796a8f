"""Streamlit helpers for app.py: controls, cached engine calls, views and the live training panel."""
