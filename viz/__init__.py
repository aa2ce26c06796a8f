"""Plotly figure builders: plain records (engine Traces, numpy arrays) in, go.Figure out.

No torch and no streamlit here: the views only read what the engine recorded.
"""
