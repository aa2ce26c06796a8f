"""The Plotly figures an AppTest page sent to its chart components (ui/charts.py), in page order."""

from __future__ import annotations

import json


def figures(at) -> list[dict]:
    """Every drawn chart's figure as a dict, in page order."""
    return [json.loads(json.loads(c.proto.json)["spec"]) for c in at.get("bidi_component")]
