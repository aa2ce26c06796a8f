"""Links round-trip real values exactly: floats with many digits, tiny and huge ones, through a real URL string."""

from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
import pytest

from engine import Config
from ui import limits, links

HARD_FLOATS = [0.0123456789, 1e-5, 3.3333333333333335, 0.1 + 0.2, 1.0000000000000002, 5.960464477539063e-08, 2.5e-3]
CAP = limits.caps({})


def through_url(query: dict) -> dict:
    """What the page reads back after the browser has held the link: every value a string."""
    url = "http://localhost:8501/?" + urlencode(query)
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


@pytest.mark.parametrize("name", ["recurrent_scale", "clip_threshold", "lr", "forget_bias"])
@pytest.mark.parametrize("value", HARD_FLOATS)
def test_config_query_round_trips_every_digit(name, value):
    cell = "lstm" if name == "forget_bias" else "rnn"
    cfg = Config(cell=cell, **{name: value})
    back = Config.from_query(through_url(cfg.to_query()))
    assert back == cfg and getattr(back, name) == value  # exact: float equality, no tolerance


def random_floats(lo: float, hi: float, n: int = 200, seed: int = 0) -> list:
    """Floats spread over [lo, hi] on a log scale where it is positive, every mantissa bit random."""
    rng = np.random.default_rng(seed)
    if lo > 0:
        return [float(v) for v in np.exp(rng.uniform(np.log(lo), np.log(hi), n))]
    return [float(v) for v in rng.uniform(lo, hi, n)]


def test_config_query_round_trips_any_float():
    columns = zip(
        random_floats(1e-6, 10.0), random_floats(1e-9, 1e6, seed=1), random_floats(1e-12, 10.0, seed=2), random_floats(-10.0, 10.0, seed=3)
    )
    for scale, theta, lr, bias in columns:
        cfg = Config(cell="lstm", recurrent_scale=scale, clip_threshold=theta, lr=lr, forget_bias=bias, clip="value")
        assert Config.from_query(through_url(cfg.to_query())) == cfg


def ui_cfg(**kw) -> Config:
    return Config(cell="lstm", clip="norm", **kw)


@pytest.mark.parametrize("value", [v for v in HARD_FLOATS if 0.05 <= v <= 5] + [0.0123456789 * 100, 0.05, 5.0])
def test_ui_link_round_trips_floats_exactly(value):
    """query_for -> URL -> parse gives back the widget values of the same Config, digit for digit, with no message."""
    cfg = ui_cfg(recurrent_scale=value, forget_bias=-value, clip_threshold=value / 7, lr=value / 1000)
    values, errors, warnings = links.parse(through_url(links.query_for(cfg, 333, 7)), CAP)
    assert errors == [] and warnings == []
    assert values == links.widget_values(cfg, 333, 7)
    for name in ("recurrent_scale", "forget_bias", "clip_threshold", "lr"):
        assert values[name] == getattr(cfg, name) and type(values[name]) is float


def test_ui_link_round_trips_any_float_inside_the_widget_ranges():
    columns = zip(
        random_floats(0.05, 6.0, 100, 4),
        random_floats(0.001, 1e6, 100, 5),
        random_floats(1e-5, 10.0, 100, 6),
        random_floats(-5.0, 5.0, 100, 7),
    )
    for scale, theta, lr, bias in columns:
        cfg = ui_cfg(recurrent_scale=scale, clip_threshold=theta, lr=lr, forget_bias=bias)
        values, errors, warnings = links.parse(through_url(links.query_for(cfg, limits.DEFAULT_STEPS, limits.DEFAULT_EVERY)), CAP)
        assert (errors, warnings) == ([], [])
        assert values == links.widget_values(cfg)


@pytest.mark.parametrize("kw", [dict(truncation=7), dict(k1=3, k2=11), dict()])
def test_ui_link_round_trips_the_backprop_mode_and_integers(kw):
    cfg = ui_cfg(seq_len=1999, hidden_size=3, batch_size=511, seed=2**31 - 1, **kw)
    values, errors, _ = links.parse(through_url(links.query_for(cfg, 4999, 99)), CAP)
    assert errors == [] and values == links.widget_values(cfg, 4999, 99)
    assert values["bptt"] == ("k" if "truncation" in kw else "k1k2" if kw else "full")
