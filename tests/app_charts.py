"""The Plotly figures an AppTest page sent to its chart components (ui/page/charts.py), in page order."""

from __future__ import annotations

import json


def figures(at) -> list[dict]:
    """Every drawn chart's figure as a dict, in page order (the page's other components, such as ⚙ Settings, left out)."""
    return [
        json.loads(json.loads(c.proto.json)["spec"]) for c in at.get("bidi_component") if c.proto.component_name.endswith("rnnlab_plotly")
    ]
