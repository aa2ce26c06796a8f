"""A chart of a cached figure sends its cached JSON: a rerun, or a return to a setting, styles and serialises nothing again."""

from __future__ import annotations

from pathlib import Path

from app_charts import figures
from streamlit.testing.v1 import AppTest

from ui.page import charts

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_reruns_and_returns_reuse_each_charts_json(monkeypatch):
    calls = []
    real = charts.prepare
    monkeypatch.setattr(charts, "prepare", lambda fig, key, *a: calls.append(key) or real(fig, key, *a))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["seed"] = "5151"
    at.run()
    first = figures(at)
    assert sorted(calls) == ["fig_contrib", "fig_grad"]  # the Gradient flow tab's two cached views, prepared once each
    at.run()
    assert len(calls) == 2 and figures(at) == first  # a rerun sends the same JSON without preparing it
    at.sidebar.number_input(key="seed").set_value(5152).run()
    assert len(calls) == 4 and figures(at) != first  # new settings: new figures, prepared once
    at.sidebar.number_input(key="seed").set_value(5151).run()
    assert len(calls) == 4 and figures(at) == first  # back: both come from the cache
