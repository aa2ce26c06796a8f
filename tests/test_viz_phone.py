"""Phone layouts the figures carry (layout.meta.narrow, applied by ui/page/plotly_fit.js below NARROW_PX), checked on the data.

Oracles: exact counts of the time steps a phone's axis range shows, the swept values' own cell
edges, and the one threshold the Python side and the page's script must share.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from engine import Config, phase, run
from viz import graph, theme
from viz.phase import phase_heatmap

FIT_JS = Path(__file__).resolve().parents[1] / "ui" / "page" / "plotly_fit.js"


def steps_in_range(fig, T: int) -> list[int]:
    lo, hi = fig.layout.meta["narrow"]["layout.xaxis.range"]
    return [t for t in range(T) if lo < t < hi]


def test_the_page_script_and_the_figures_share_one_phone_width():
    found = re.search(r"const NARROW_PX = (\d+);", FIT_JS.read_text())
    assert found and int(found.group(1)) == theme.NARROW_PX


@pytest.mark.parametrize("T", [50, 200])
def test_a_phone_shows_the_last_steps_of_the_unrolled_graph_and_says_so(T):
    trace = run(Config(seq_len=T, hidden_size=8, batch_size=2))
    fig = graph.unrolled_graph(trace, max_steps=40)
    assert steps_in_range(fig, T) == list(range(T - graph.PHONE_STEPS, T))  # exactly the last PHONE_STEPS steps, the loss's
    title = fig.layout.meta["narrow"]["layout.title.text"]
    assert f"showing the last {graph.PHONE_STEPS} of {T} steps" in title
    assert f"showing the last 40 of {T} steps" in fig.layout.title.text  # the wide chart keeps its own window and words
    drawn = {int(round(x)) for x in fig.data[0].x if x is not None}  # forward edges: every step the wide chart draws
    assert set(steps_in_range(fig, T)) <= drawn
    (key,) = [k for k in fig.layout.meta["narrow"] if k.startswith("layout.annotations[")]
    index = int(key.split("[")[1].split("]")[0])
    assert fig.layout.annotations[index].text.startswith(f"Shown: steps {T - 40}–{T - 1}, the last 40 of {T}")  # the wide note
    first = T - graph.PHONE_STEPS
    phone = f"Shown: steps {first}–{T - 1}, the last {graph.PHONE_STEPS} of {T}. Colours and widths span steps {T - 40}–{T - 1}:"
    assert fig.layout.meta["narrow"][key].startswith(phone)  # ... and what the phone says instead


def test_a_short_sequence_needs_no_phone_layout():
    trace = run(Config(seq_len=graph.PHONE_STEPS, hidden_size=8, batch_size=2))
    assert graph.unrolled_graph(trace).layout.meta is None


def test_phone_layout_keeps_other_meta_and_replaces_its_patch():
    fig = theme.base_layout(go.Figure(), "t")
    fig.update_layout(meta={"other": 1})
    theme.phone_layout(fig, {"layout.height": 700})
    theme.phone_layout(fig, {"layout.height": 800})
    assert fig.layout.meta == {"other": 1, "narrow": {"layout.height": 800}}


@pytest.mark.parametrize("current", [0.6, 1.0, 1.4])
def test_the_phase_diagram_axis_ends_at_its_columns_and_its_note_opens_inward(current):
    cfg = Config(seq_len=20, hidden_size=8, batch_size=2, recurrent_scale=current)
    scales = list(np.linspace(0.5, 1.5, 11))
    fig = phase_heatmap(phase(cfg, scales, "recurrent_scale"))
    assert list(fig.layout.xaxis.range) == pytest.approx([0.45, 1.55])  # half a column beyond the first and the last value
    note = next(a for a in fig.layout.annotations if a.text.startswith("current"))
    assert note.xanchor == ("left" if current <= 1.0 else "right")  # toward the wider side: never pushes the axis out
