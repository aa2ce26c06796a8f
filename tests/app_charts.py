"""The Plotly figures an AppTest page sent to its chart components (ui/charts.py), in page order.

The page's first component is the plotly.js preload, which carries no figure; it is left out.
"""

from __future__ import annotations

import json


def figures(at) -> list[dict]:
    """Every drawn chart's figure as a dict, in page order."""
    data = (json.loads(c.proto.json) for c in at.get("bidi_component"))
    return [json.loads(d["spec"]) for d in data if "spec" in d]
