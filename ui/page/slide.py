"""A chart on a presentation slide: at most so many px tall, its plot kept readable, its words under it.

At 1280x720 the lesson card and the chart share one screen, and a chart's notes above its plot
(measured factor, end-to-end ratio, theory, overflow: up to ten lines at projector size) left the
plot ~130 px. On a slide those notes move out of the figure, in the same words, to a few lines
under the chart (ui.page.charts draws them; the card above says what was measured), and the top margin
they held goes back to the plot. What is still too tall gives up plot height; a legend below the
plot keeps its distance in px. Notes are found as viz.notes places them (paper y >= 1, anchored at
the bottom, stacked by stack_above in frame()'s margin); a figure without them is only capped.
"""

from __future__ import annotations

import re

DEFAULT_HEIGHT = 450  # plotly.js's own
DEFAULT_MARGIN = {"t": 100, "b": 80}
TITLE_PX = 76  # the top margin a slide keeps: a one-line projector title centred ~43 px down and its top tick label clear of it


def is_note_above(a: dict) -> bool:
    """A note stacked above the plot area: a viz.notes.note_annotation box (its background) that stack_above placed
    (its yshift). A subplot's title sits there too, without either, and stays."""
    above = a.get("yref") == "paper" and (a.get("y") or 0) >= 1 and a.get("yanchor") == "bottom"
    return above and "bgcolor" in a and "yshift" in a


def plain(text: str) -> str:
    """A note's text without Plotly's markup: <br> as a space, other tags dropped."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text.replace("<br>", " "))).strip()


def sentences(text: str) -> list[str]:
    """A note as plain lines, one per sentence that ends a line of the figure: a note joins its parts so
    ("...: vanishing.<br>Measured, ..."), and run together under a chart they read as one ("vanishing Measured")."""
    return [plain(part) for part in re.split(r"(?<=\.)<br>", text) if plain(part)]


def fit(spec: dict, cap: int) -> tuple[dict, int, list[str]]:
    """(figure dict, its height, the notes taken out as plain lines, sentences()): no taller than cap. spec is not mutated."""
    layout = dict(spec.get("layout") or {})
    height = int(layout.get("height") or DEFAULT_HEIGHT)
    margin = {**DEFAULT_MARGIN, **(layout.get("margin") or {})}
    notes = [a for a in layout.get("annotations") or () if is_note_above(a)]
    if notes:
        freed = max(0, round(margin["t"] - TITLE_PX))  # the notes' room, and the gap left under the title, go to the plot
        title = layout.get("title")
        if isinstance(title, dict) and isinstance(title.get("y"), (int, float)):  # the title keeps its place, in px from the top
            layout["title"] = {**title, "y": 1 - (1 - title["y"]) * height / (height - freed)}
        layout["annotations"] = [a for a in layout["annotations"] if not is_note_above(a)]
        margin["t"] -= freed
        height -= freed
    if height > cap:
        plot, kept = height - margin["t"] - margin["b"], cap - margin["t"] - margin["b"]
        legend = layout.get("legend") or {}
        if isinstance(legend.get("y"), (int, float)) and legend["y"] < 0 and legend.get("yref", "paper") == "paper" and kept > 0:
            layout["legend"] = {**legend, "y": legend["y"] * plot / kept}
        height = cap
    if not notes and height == int(layout.get("height") or DEFAULT_HEIGHT):
        return spec, height, []
    layout.update(height=height, margin=margin)
    return {**spec, "layout": layout}, height, [line for a in notes for line in sentences(a["text"])]
