"""viz.theme.use_template runs on every rerun of the page: it sets Plotly's default once and validates nothing after."""

import plotly.io as pio

from viz import theme


def test_use_template_sets_the_default_then_validates_nothing(monkeypatch):
    before = pio.templates.default
    try:
        pio.templates.default = "plotly"
        theme.use_template()
        assert pio.templates.default == theme.TEMPLATE
        validated = []
        monkeypatch.setattr(type(pio.templates), "_validate", lambda self, value: validated.append(value))
        for _ in range(3):
            theme.use_template()
        assert validated == [] and pio.templates.default == theme.TEMPLATE  # a rerun pays no ~40 ms validation
    finally:
        pio.templates.default = before
