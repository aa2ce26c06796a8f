"""Presentation mode: every builder's figure gets fonts >= 18 px, thicker lines and Okabe-Ito colours, data untouched."""

import copy
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from engine import Config, TrainingLog, run, train
from viz import connectivity, decay, diagonal_cell, gates, gradients, graph, theme, training, training_gates, units


def _log(cfg) -> TrainingLog:
    log = TrainingLog()
    for snap in train(cfg, steps=5, every=1):
        log.add(snap)
    return log


@pytest.fixture(scope="module")
def figures() -> dict:
    """One figure from every builder in viz/, on traces that give each its full set of lines and notes."""
    rnn = run(Config(seq_len=30, clip="norm", clip_threshold=0.1, truncation=10), connectivity=True)
    lstm = run(Config(cell="lstm", seq_len=30, task="copy"), connectivity=True)
    lru = run(Config(cell="lru", seq_len=30))
    overflow = run(Config(activation="linear", init="identity", recurrent_scale=8.0, seq_len=200))
    log = _log(Config(cell="lstm", seq_len=20, clip="norm", clip_threshold=0.05))
    return {
        "grad_norm_curve": gradients.grad_norm_curve(rnn),
        "grad_norm_curve lstm": gradients.grad_norm_curve(lstm),
        "grad_norm_curve overflow": gradients.grad_norm_curve(overflow),
        "contrib_bars": gradients.contrib_bars(rnn),
        "connectivity_heatmap": connectivity.connectivity_heatmap(lstm, "x"),
        "gate_heatmaps": gates.gate_heatmaps(lstm),
        "gate_curves": gates.gate_curves(lstm),
        "unrolled_graph": graph.unrolled_graph(rnn),
        "cell_diagram": graph.cell_diagram(lstm, 5),
        "unit_decay_figure": decay.unit_decay_figure(lru),
        "diagonal_cell_diagram": diagonal_cell.diagonal_cell_diagram(lru, 5),
        "unit_heatmap": units.unit_heatmap(lstm),
        "unit_heatmap overflow": units.unit_heatmap(overflow),
        "loss_curve": training.loss_curve(log, baseline=1.0),
        "grad_heatmap": training.grad_heatmap(log),
        "clip_chart": training.clip_chart(log, threshold=0.05),
        "training_dashboard": training.training_dashboard(log, baseline=1.0, threshold=0.05),
        "gate_dashboard": training_gates.gate_dashboard(log),
    }


def walk(node, key=""):
    """Every (key, dict) pair of a figure dict, the template left out."""
    if isinstance(node, dict):
        yield key, node
        for k, v in node.items():
            if k != "template":
                yield from walk(v, k)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from walk(v, key)


def as_dict(fig) -> dict:
    return json.loads(pio.to_json(fig, validate=False))


def test_every_builders_figure_gets_fonts_of_at_least_18_px(figures):
    for name, fig in figures.items():
        shown = as_dict(theme.present(fig))
        assert shown["layout"]["font"]["size"] >= theme.PRESENT_MIN_FONT, name
        sizes = [node["size"] for key, node in walk(shown) if key in theme.FONT_KEYS and "size" in node]
        assert sizes and min(np.min(s) for s in sizes) >= theme.PRESENT_MIN_FONT, (name, sizes)
        # the default figure's smallest font is below that: presentation changed something a projector needs
        before = [node["size"] for key, node in walk(as_dict(fig)) if key in theme.FONT_KEYS and "size" in node]
        assert min(np.min(s) for s in before) < theme.PRESENT_MIN_FONT, name


def test_every_line_gets_thicker_and_the_data_stays(figures):
    for name, fig in figures.items():
        plain, shown = as_dict(fig), as_dict(theme.present(fig))
        assert len(plain["data"]) == len(shown["data"]), name
        for a, b in zip(plain["data"], shown["data"]):
            for k in ("x", "y", "z"):
                assert a.get(k) == b.get(k), (name, k)
            width = a.get("line", {}).get("width")
            if width:
                assert b["line"]["width"] == pytest.approx(width * theme.LINE_SCALE), name
        for a, b in zip(plain["layout"].get("shapes", []), shown["layout"].get("shapes", [])):
            if a.get("line", {}).get("width"):
                assert b["line"]["width"] > a["line"]["width"], name
        assert shown["layout"].get("height", 450) > plain["layout"].get("height", 450) or "height" not in plain["layout"], name


def test_the_palette_is_colour_blind_safe(figures):
    house = set(theme.SAFE_COLORS)
    house_rgb = {"rgba({},{},{},".format(*(int(h[i : i + 2], 16) for i in (1, 3, 5))) for h in house}
    for name, fig in figures.items():
        shown = as_dict(theme.present(fig))
        shown["layout"].pop("template", None)  # Plotly's own template: not drawn in house colours
        text = json.dumps(shown).lower()
        assert not any(h in text for h in house), name
        assert not any(r in text.replace(" ", "") for r in house_rgb), name
    assert set(theme.SAFE_COLORS.values()) <= set(theme.OKABE_ITO.values())


def test_present_leaves_a_cached_figure_unchanged(figures):
    fig = figures["training_dashboard"]
    spec = fig.to_plotly_json()
    frozen = copy.deepcopy(spec)
    theme.present(spec)
    assert pio.to_json(spec, validate=False) == pio.to_json(frozen, validate=False)
    before = pio.to_json(fig, validate=False)
    theme.present(fig)
    assert pio.to_json(fig, validate=False) == before


def test_dict_in_dict_out_and_style_switch(figures):
    spec = figures["loss_curve"].to_plotly_json()
    assert isinstance(theme.present(spec), dict)
    assert isinstance(theme.present(figures["loss_curve"]), go.Figure)
    assert theme.styled(spec, "default") is spec
    assert theme.styled(spec, "present")["layout"]["font"]["size"] >= 18
    with pytest.raises(ValueError, match="style"):
        theme.styled(spec, "big")


def test_chart_config_saves_a_slide_sized_png():
    config = theme.chart_config("Gradient flow ‖∂L/∂h‖", "present")
    button = config["toImageButtonOptions"]
    assert button == dict(format="png", filename="rnn-lab-gradient-flow-l-h-present", width=1600, height=900, scale=2)
    assert config["displaylogo"] is False
    assert theme.chart_config("Loss")["toImageButtonOptions"]["filename"] == "rnn-lab-loss"
