"""ui/charts.py without a browser: the preload's hidden iframe carries the loader, and live charts are drawn static."""

from __future__ import annotations

import base64
import html
import json
import re

import plotly.graph_objects as go

from ui import charts


def test_the_preload_iframe_runs_the_loader_for_the_served_plotly_bundle():
    markup = charts._PRELOAD
    assert markup.startswith("<iframe") and 'style="display:none"' in markup and "\n" not in markup  # one Markdown HTML block
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', markup).group(1))
    encoded = re.search(r'atob\("([A-Za-z0-9+/=]+)"\)', srcdoc).group(1)
    boot = base64.b64decode(encoded).decode()
    assert boot.startswith(charts.LOADER.read_text())  # the same loader the chart component carries
    assert boot.endswith(f"window.rnnlabLoadPlotly({json.dumps(charts.SCRIPT_NAME)});")
    assert (charts.STATIC / charts.SCRIPT_NAME).exists()  # what it asks for is served


def test_live_charts_are_static_and_others_interactive():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 2]))
    live = json.loads(charts.spec(fig, "train", live=True)["config"])
    still = json.loads(charts.spec(fig, "train")["config"])
    assert live["staticPlot"] is True and "staticPlot" not in still
    assert {k: v for k, v in live.items() if k != "staticPlot"} == still  # the camera button's settings stay
