"""A chart on a slide (ui/page/slide.py): no taller than asked, its notes moved out in the same words, nothing else touched."""

import copy
import json

import plotly.io as pio
import pytest

from engine import Config, run
from ui.page import slide
from viz import gates, gradients, theme

CAP = 590


def _spec(fig) -> dict:
    return json.loads(pio.to_json(theme.present(fig), validate=False))


@pytest.fixture(scope="module")
def grad():
    """The projector-styled gradient chart of an overflowing run: the most notes above its plot."""
    return _spec(gradients.grad_norm_curve(run(Config(activation="linear", recurrent_scale=1.3, seq_len=300))))


def test_notes_above_the_plot_leave_in_the_same_words_and_their_room_goes_back(grad):
    before = copy.deepcopy(grad)
    above = [a for a in grad["layout"]["annotations"] if slide.is_note_above(a)]
    assert len(above) >= 2
    fitted, height, notes = slide.fit(grad, CAP)
    assert grad == before  # the input figure is left as it was
    assert " ".join(notes) == " ".join(slide.plain(a["text"]) for a in above) and all("<" not in n for n in notes)
    assert len(notes) > len(above) and all(n.endswith(".") for n in notes)  # one line per sentence, none cut mid-sentence
    assert not [a for a in fitted["layout"]["annotations"] if slide.is_note_above(a)]
    kept = [a for a in grad["layout"]["annotations"] if not slide.is_note_above(a)]
    assert fitted["layout"]["annotations"] == kept  # marks inside the plot stay
    assert fitted["layout"]["margin"]["t"] == pytest.approx(slide.TITLE_PX, abs=0.5)  # the title's room only: the plot takes the rest
    assert height == fitted["layout"]["height"] <= CAP
    assert fitted["data"] == grad["data"]


def test_a_capped_plot_keeps_its_legend_at_the_same_distance_in_px(grad):
    fitted, height, _ = slide.fit(grad, 400)
    m0, m1 = grad["layout"]["margin"], fitted["layout"]["margin"]
    plot_before = grad["layout"]["height"] - m0["t"] - m0["b"]  # the notes' room leaves the height and the margin alike
    plot_after = height - m1["t"] - m1["b"]
    assert height == 400 and plot_after < plot_before
    assert grad["layout"]["legend"]["y"] * plot_before == pytest.approx(fitted["layout"]["legend"]["y"] * plot_after)


def test_the_title_keeps_its_place_in_px_from_the_top(grad):
    fitted, height, _ = slide.fit(grad, CAP)
    y0, y1 = grad["layout"]["title"]["y"], fitted["layout"]["title"]["y"]
    freed = grad["layout"]["margin"]["t"] - fitted["layout"]["margin"]["t"]
    assert (1 - y0) * grad["layout"]["height"] == pytest.approx((1 - y1) * (grad["layout"]["height"] - freed))


def test_a_note_of_several_sentences_splits_only_where_a_line_ends_a_sentence():
    text = "Measured: ×0.87 per step: vanishing.<br>Measured, ratio 2e-12 (11.7 orders<br>of magnitude lost).<br><b>Theory: 1.</b>"
    assert slide.sentences(text) == [
        "Measured: ×0.87 per step: vanishing.",
        "Measured, ratio 2e-12 (11.7 orders of magnitude lost).",
        "Theory: 1.",
    ]


def test_subplot_titles_are_not_notes_and_a_short_figure_is_left_alone():
    lstm = run(Config(cell="lstm", seq_len=30))
    maps = _spec(gates.gate_heatmaps(lstm))
    titles = [a for a in maps["layout"]["annotations"] if a.get("yanchor") == "bottom"]
    assert titles and not any(slide.is_note_above(a) for a in titles)
    fitted, height, notes = slide.fit(maps, CAP)
    assert notes == [] and fitted["layout"]["annotations"] == maps["layout"]["annotations"] and height <= CAP
    small = _spec(gradients.contrib_bars(lstm))
    assert small["layout"]["height"] <= 2000
    assert slide.fit(small, 2000) == (small, small["layout"]["height"], [])  # the same object: nothing to change
