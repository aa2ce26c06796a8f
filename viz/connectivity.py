"""How far back each output still sees: the Distill-style connectivity heatmap ||d loss_t / d x_k||."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .downsample import MAX_CELLS, log10_cells, pool_matrix
from .marks import overflow_marks
from .notes import frame, note_annotation, range_words, stack_above, wrap_text
from .theme import COLORS, SEQUENTIAL, base_layout

WHAT = {"x": "‖∂loss_t/∂x_k‖", "h": "‖∂loss_t/∂h_k‖"}
INPUT = {"x": "input step k", "h": "hidden state step k"}
MAX_LABELS = 80  # beyond this many characters the labels would overlap: step numbers instead


def connectivity_heatmap(trace, which: str = "x") -> go.Figure:
    """log10 of conn[t, k] with y = output step t and x = input step k; cells with k > t stay empty."""
    if which not in WHAT:
        raise ValueError(f"which: must be 'x' or 'h' (got {which!r})")
    title = f"How far back each output still sees: {WHAT[which]}"
    conn = getattr(trace, f"conn_{which}", None)
    if conn is None:
        fig = go.Figure()
        text = "Connectivity was not computed for this run.<br>Turn it on to see how far back each output still sees."
        fig.update_layout(annotations=[note_annotation(text, 0.5, 0.5, "center", "middle", "#6b7280")])
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return base_layout(fig, title)
    tbptt = getattr(getattr(trace, "config", None), "tbptt", None)
    if tbptt:
        k1, k2 = tbptt
        title += (
            f"<br>as truncated BPTT({k1}, {k2}) carries it: exactly 0 beyond each horizon"
            if getattr(trace, "conn_truncated", False)
            else "<br>full dependence, also beyond the truncation horizon (not what training uses)"
        )
    conn = np.asarray(conn, dtype=np.float64)
    R, T = conn.shape
    rows_t = np.asarray(trace.conn_rows if trace.conn_rows is not None else np.arange(R), dtype=np.int64)
    valid = np.arange(T)[None, :] <= rows_t[:, None]  # (R, T): k <= t, the causal part
    pooled, ri, ci = pool_matrix(np.where(valid, conn, 0.0), MAX_CELLS, MAX_CELLS, "max")
    seen, _, _ = pool_matrix(valid.astype(np.float64), MAX_CELLS, MAX_CELLS, "max")
    z = log10_cells(pooled)
    z[seen == 0] = np.nan  # blocks lying wholly above the diagonal (k > t): nothing to show
    y = rows_t[ri]
    fr, fc = _step(ri), _step(ci)
    pooled_note = f" (max over blocks of {fr} x {fc} cells)" if fr * fc > 1 else ""
    fig = go.Figure(
        go.Heatmap(
            x=ci,
            y=y,
            z=z,
            colorscale=SEQUENTIAL,
            name=WHAT[which],
            colorbar=dict(title=dict(text=f"log₁₀ {WHAT[which]}", side="right")),
            hovertemplate="output t = %{y}<br>input k = %{x}<br>log₁₀ " + WHAT[which] + " = %{z:.2f}<extra></extra>",
        )
    )
    notes = overflow_marks(trace)[1][:1]  # the message only: here the red cells themselves mark where
    bad = ~np.isfinite(pooled) & (seen > 0)
    red = COLORS["overflow"]
    if bad.any():
        hover = "t = %{y}, k = %{x}: non-finite (overflow)<extra></extra>"
        z_bad = np.where(bad, 1.0, np.nan).astype(np.float32)
        fig.add_heatmap(x=ci, y=y, z=z_bad, showscale=False, name="non-finite", colorscale=[[0, red], [1, red]], hovertemplate=hover)
        notes.append(note_annotation(f"red cells: non-finite (overflow), {int(bad.sum())} of them", 0.99, 0.99, "right", "top", red))
    words = range_words(trace, conn[valid], WHAT[which])  # the causal cells only: k > t is empty by definition
    if words and "exceed" in words:
        notes.append(note_annotation(wrap_text(words, 100), 0.99, 0.8, "right", "top", red, border=True))
    if ((pooled == 0) & (seen > 0)).any():
        text = "empty cells on or below the diagonal: exactly 0 (truncation or underflow)"
        notes.append(note_annotation(text, 0.99, 0.9, "right", "top", COLORS["truncation"]))
    fig.update_layout(annotations=notes)
    base_layout(fig, title, INPUT[which] + pooled_note, "output step t (loss at t)")
    frame(fig, stack_above(notes), height=500, legend=False)
    fig.update_xaxes(range=[-0.5, T - 0.5], constrain="domain")
    fig.update_yaxes(autorange="reversed")
    _character_axes(fig, trace, which, rows_t, fr * fc == 1)
    return fig


def _character_axes(fig: go.Figure, trace, which: str, rows_t: np.ndarray, exact: bool) -> None:
    """Text task: the characters as the axes (x: the input character k, y: the character predicted at t), when each cell is one pair.

    The engine computes a text task's connectivity on its first sequence alone, whose characters
    Trace.data carries: the chart then answers Distill's question, which earlier characters this
    prediction still depends on.
    """
    data = getattr(trace, "data", None) or {}
    chars, wanted = data.get("input_chars"), data.get("target_chars")
    if not chars or not wanted or not exact or len(chars) > MAX_LABELS:
        return
    shown = {"\n": "↵", " ": "␣"}
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(chars))), ticktext=[shown.get(c, c) for c in chars], tickangle=0)
    fig.update_xaxes(title_text=f"earlier character k ({INPUT[which]}); ␣ = space")
    fig.update_yaxes(tickmode="array", tickvals=[int(t) for t in rows_t], ticktext=[shown.get(wanted[t], wanted[t]) for t in rows_t])
    fig.update_yaxes(title_text="the character predicted at t")
    fig.update_layout(title_text=f"<b>Which earlier characters does each prediction still depend on? {WHAT[which]}</b>")


def _step(idx: np.ndarray) -> int:
    return int(idx[1] - idx[0]) if len(idx) > 1 else 1
