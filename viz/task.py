"""The task on screen: one input sequence, its target, and the prediction before and after training (one small chart).

Records in (Trace.example dicts from engine/example.py, and Trace.data), a figure out. Regression
tasks draw values over time; classification tasks (copy, text) draw the probability given to the
right answer at each step, with the symbols or characters written along the axis, so the chart
says both how sure the network is and what it would write.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .notes import frame, note_annotation, stack_above, wrap_text
from .theme import COLORS, base_layout

INK = "#1f2933"
BEFORE = dict(color="#9ca3af", dash="dot", width=2)  # grey dotted: the untrained network
AFTER = dict(color=COLORS["grad_h"], width=2.5)  # blue: after the last snapshot
TARGET = dict(color=COLORS["loss"], width=2)
INPUT = dict(color="#4b5563", width=1.5)


def _shown(char: str) -> str:
    """A character as an axis label: the newline and the space made visible."""
    return {"\n": "↵", " ": "␣"}.get(char, char)


def task_chart(before: dict, after: dict | None = None, data: dict | None = None, after_step: int | None = None) -> go.Figure:
    """One sequence of the task: input, target, the prediction of the untrained network and (given) the trained one.

    before/after: Trace.example of the first snapshot (or run) and of the last snapshot; they
    must describe the same sequence. data: Trace.data, whose split and normalisation are stated.
    """
    if after is not None and not np.array_equal(np.asarray(before["input"]), np.asarray(after["input"])):
        raise ValueError("before and after must show the same input sequence")
    later = f"after training (step {after_step})" if after_step is not None else "after training"
    notes = []
    if before["kind"] == "mse":
        fig = _values(before, after, later)
    else:
        fig, rows = _classes(before, after, later)
        notes.append(note_annotation(rows, 0.0, 1.0, "left", "bottom", INK))
    notes.append(note_annotation(wrap_text(before["measures"], 110), 0.0, 1.0, "left", "bottom", INK))
    if data:
        words = f"Data: {data['source']}. Split: {data['split']}."
        if "mean" in data:
            words += f" Values are normalised: (value − {data['mean']:.4g}) / {data['std']:.4g}, the training split's mean and std."
        words += " The sequence shown is the first test window, never trained on."
        notes.append(note_annotation(wrap_text(words, 110), 0.0, 1.0, "left", "bottom", "#4b5563"))
    lines = stack_above(notes)  # first note nearest the plot: the characters, then the loss, then the data
    fig.update_layout(annotations=list(fig.layout.annotations) + notes)
    base_layout(fig, f"The task: {before['description']}", "time step t", fig.layout.yaxis.title.text)
    return frame(fig, lines, height=380)


def _values(before: dict, after: dict | None, later: str) -> go.Figure:
    x = np.asarray(before["input"], dtype=np.float64)  # (T, I)
    T = len(x)
    t = np.arange(T)
    steps = np.asarray(before["loss_steps"])
    fig = go.Figure()
    names = ["input (value)", "input (marker)"] if x.shape[1] == 2 else ["input"]
    for i, name in enumerate(names):
        if i == 1:  # the adding task's markers: drawn where they are 1, on the value line
            marked = np.flatnonzero(x[:, 1] == 1)
            fig.add_scatter(
                x=marked, y=x[marked, 0], mode="markers", name="marked inputs", marker=dict(size=11, symbol="circle-open", color=INK)
            )
        else:
            fig.add_scatter(x=t, y=x[:, i], mode="lines", name=name, line=INPUT)
    mode = "lines+markers" if len(steps) > 1 else "markers"
    fig.add_scatter(
        x=steps, y=before["target"], mode=mode, name="target", line=TARGET, marker=dict(size=10, symbol="x", color=COLORS["loss"])
    )
    fig.add_scatter(x=t, y=before["prediction"], mode="lines", name="prediction before training", line=BEFORE)
    if after is not None:
        fig.add_scatter(x=t, y=after["prediction"], mode="lines", name=f"prediction {later}", line=AFTER)
    if len(steps) == 1:
        fig.add_annotation(
            x=int(steps[0]),
            y=float(before["target"][0]),
            text="only this step is scored",
            showarrow=True,
            ax=-80,
            ay=-30,
            font=dict(size=13),
        )
    fig.update_yaxes(title_text="value")
    return fig


def _classes(before: dict, after: dict | None, later: str) -> go.Figure:
    steps = np.asarray(before["loss_steps"])
    text = before["task"] == "text"
    if text:
        labels = [_shown(c) for c in before["input_chars"]]
        wanted = before["target_chars"]
    else:
        labels = [str(int(s)) for s in before["input"]]
        wanted = ["blank" if int(c) == 4 else str(int(c)) for c in before["target"]]
    fig = go.Figure()
    hover = "t = %{x}<br>wanted: %{customdata}<br>p = %{y:.3f}<extra>%{fullData.name}</extra>"
    fig.add_scatter(
        x=steps,
        y=before["p_target"],
        customdata=list(wanted),
        mode="lines+markers",
        name="before training",
        line=BEFORE,
        hovertemplate=hover,
    )
    if after is not None:
        fig.add_scatter(
            x=steps, y=after["p_target"], customdata=list(wanted), mode="lines+markers", name=later, line=AFTER, hovertemplate=hover
        )
    fig.update_yaxes(title_text="p(right next " + ("character" if text else "symbol") + ")", range=[0, 1.05])
    ticks = dict(tickmode="array", tickvals=list(range(len(labels))), ticktext=labels) if len(labels) <= 80 else {}
    fig.update_xaxes(**ticks)
    rows = [("input", labels), ("wanted", [_shown(c) for c in wanted] if text else wanted)]
    rows.append(("before", _predicted(before, text)))
    if after is not None:
        rows.append(("after", _predicted(after, text)))
    lines = "<br>".join(f"{name:>6}: " + ("".join(r) if text else " ".join(r)) for name, r in rows)
    return fig, f"<span style='font-family:monospace'>{lines.replace(' ', '&nbsp;')}</span>"


def _predicted(example: dict, text: bool) -> list[str]:
    if text:
        return [_shown(c) for c in example["prediction_chars"]]
    return ["blank" if int(c) == 4 else str(int(c)) for c in example["prediction"]]
