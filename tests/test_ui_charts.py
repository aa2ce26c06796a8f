"""ui/page/charts.py without a browser: the preload's hidden iframe carries the loader, and live charts are drawn static."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.offline

from ui.page import charts


def test_the_preload_iframe_runs_the_loader_for_the_served_plotly_bundle():
    markup = charts.preload_markdown()
    assert markup.startswith("<iframe") and 'style="display:none"' in markup and "\n" not in markup  # one Markdown HTML block
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', markup).group(1))
    encoded = re.search(r'atob\("([A-Za-z0-9+/=]+)"\)', srcdoc).group(1)
    boot = base64.b64decode(encoded).decode()
    assert boot.startswith(charts.LOADER.read_text())  # the same loader the chart component carries
    assert boot.endswith(f"window.rnnlabLoadPlotly({json.dumps(charts.script_name())});")
    assert (charts.STATIC / charts.script_name()).exists()  # what it asks for is served


def test_live_charts_are_static_and_others_interactive():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 2]))
    live = json.loads(charts.spec(fig, "train", live=True)["config"])
    still = json.loads(charts.spec(fig, "train")["config"])
    assert live["staticPlot"] is True and "staticPlot" not in still
    assert {k: v for k, v in live.items() if k != "staticPlot"} == still  # the camera button's settings stay


def _bundle(path, version: str) -> None:
    """A stand-in bundle: the header comment plotly.js's cartesian bundle opens with, then a body nobody runs."""
    path.write_text(f"/**\n* plotly.js (cartesian - minified) v{version}\n* Copyright 2012-2026, Plotly, Inc.\n*/\n(function(){{}})();\n")


def test_a_cartesian_bundle_is_served_only_at_plotly_pys_own_plotlyjs_version(tmp_path):
    version = plotly.offline.get_plotlyjs_version()
    assert charts.provide_plotly_js(tmp_path) == charts.FULL  # nothing fetched: the package's full bundle, copied to serve
    full = Path(plotly.__file__).parent / "package_data" / charts.FULL
    assert charts.bundle_version(tmp_path / charts.FULL) == version == charts.bundle_version(full)
    _bundle(tmp_path / charts.CARTESIAN, version)
    assert charts.bundle_version(tmp_path / charts.CARTESIAN) == version
    assert charts.provide_plotly_js(tmp_path) == charts.CARTESIAN
    major, rest = version.split(".", 1)
    for stale in (f"{int(major) - 1}.{rest}", f"{version}.1", "0.0.1"):  # an older plotly.py's bundle, a near miss
        _bundle(tmp_path / charts.CARTESIAN, stale)
        assert charts.provide_plotly_js(tmp_path) == charts.FULL, stale
    (tmp_path / charts.CARTESIAN).write_text("/* no version here */")
    assert charts.bundle_version(tmp_path / charts.CARTESIAN) is None and charts.provide_plotly_js(tmp_path) == charts.FULL
