"""The floor: the barest Streamlit page doing what ours does, so bench/bench_floor.py can say what our own code adds.

One radio, one Plotly chart of 2 traces x 200 points that depends on it, and (with ?stream=1) a
fragment that adds a row to a growing heatmap every 0.1 s, as the Training tab streams its charts.
Run: `streamlit run bench/floor_page.py`.
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

STREAM_COLUMNS = 64  # heatmap width; a row is added per fragment run
MAX_ROWS = 3000  # 5 minutes of streaming

freq = st.radio("Frequency", list(range(1, 11)), horizontal=True, key="freq")
x = np.linspace(0, 1, 200)
fig = go.Figure([go.Scatter(x=x, y=np.sin(2 * np.pi * freq * x), name="sin"), go.Scatter(x=x, y=np.cos(2 * np.pi * freq * x), name="cos")])
st.plotly_chart(fig, key="curves")


@st.fragment(run_every=0.1)
def stream() -> None:
    """One more heatmap row per run (the session keeps the rows), redrawn whole, as a live chart grows."""
    rows = st.session_state.setdefault("rows", [])
    if len(rows) < MAX_ROWS:
        rows.append(np.sin(np.arange(STREAM_COLUMNS) / 8 + len(rows) / 10).tolist())
    st.plotly_chart(go.Figure(go.Heatmap(z=rows)), key="stream")


if st.query_params.get("stream") == "1":
    stream()
