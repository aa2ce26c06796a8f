"""The page as a lesson link opens it (AppTest): every lesson opens on a gradient chart with data, and an overflow
paragraph is said once per view, not once per chart."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
from app_charts import figures
from streamlit.testing.v1 import AppTest

from engine import run
from ui.page import widget_values
from ui.serving import limits
from ui.teaching import lessons

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def page(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def values(v) -> np.ndarray:
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), v["dtype"]).astype(float)
    return np.array([np.nan if x is None else x for x in v], dtype=float)


def grad_fig(at) -> dict:
    return next(f for f in figures(at) if "How the gradient flows" in f["layout"]["title"]["text"])


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.slug)
def test_every_lesson_opens_on_a_gradient_chart_with_data(lesson):
    """?lesson=<slug>: the main curve is the engine's ‖∂L/∂h_t‖ for the lesson's settings, with finite points to read."""
    at = page({"lesson": lesson.slug})
    trace = run(widget_values.config_for(lesson.settings, limits.caps({})))
    main = next(d for d in grad_fig(at)["data"] if d.get("name") == "‖∂L/∂hₜ‖ (batch mean)")
    y = values(main["y"])
    drawn = np.isfinite(y) & (y > 0)
    assert drawn.sum() >= min(20, len(y) // 2), (lesson.slug, int(drawn.sum()))
    np.testing.assert_allclose(y[drawn], trace.grad_h[drawn], rtol=1e-6)
    assert [e.value for e in at.error] == [], lesson.slug


def test_the_overflow_paragraph_is_said_once_in_the_gradient_view():
    """The exploding lesson's step 2 (T = 300, float32): the engine's long message once, above the charts; each chart says where."""
    lesson = lessons.get("exploding")
    settings = {**lesson.settings, "seq_len": 300}
    at = page({"lesson": lesson.slug, "seq_len": "300"})
    trace = run(widget_values.config_for(settings, limits.caps({})))
    message = trace.overflow_message()
    assert trace.overflow_grad_step is not None and message
    shown = [e.value for e in at.error] + [e.value for e in at.markdown] + [e.value for e in at.info]
    notes = [a["text"].replace("<br>", " ").replace("<b>", "").replace("</b>", "") for f in figures(at) for a in f["layout"]["annotations"]]
    assert sum(message in text for text in shown + notes) == 1
    first_words = message[:60]  # no second, wrapped copy either
    assert sum(first_words in " ".join(text.split()) for text in shown + notes) == 1
    fig = grad_fig(at)
    y = values(next(d for d in fig["data"] if d.get("name") == "‖∂L/∂hₜ‖ (batch mean)")["y"])
    assert np.isfinite(y[trace.overflow_grad_step + 1 :]).all() and np.isnan(y[: trace.overflow_grad_step + 1]).all()
    reds = [s for s in fig["layout"]["shapes"] if s.get("x0") == trace.overflow_grad_step]
    assert reds, "the overflow step is marked"
