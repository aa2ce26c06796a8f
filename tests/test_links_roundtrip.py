"""Links round-trip real values exactly: floats with many digits, tiny and huge ones, through a real URL string.

The page's path: URL -> ui.page.links.parse (raw parameters, each a list) -> widget values -> ui.page.rules.settle ->
ui.page.controls.read_config -> Config; Config.to_query writes the link back. Oracle: float equality, digit for digit.
"""

from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
import pytest

from engine import Config
from ui.page import links, rules
from ui.page.widget_values import defaults, read_config
from ui.serving import limits

HARD_FLOATS = [0.0123456789, 1e-5, 3.3333333333333335, 0.1 + 0.2, 1.0000000000000002, 5.960464477539063e-08, 2.5e-3]
CAP = limits.caps({})


def raw_url(query: dict) -> dict[str, list[str]]:
    """What the page reads back after the browser has held the link: every parameter a list of strings."""
    url = "http://localhost:8501/?" + urlencode(query, doseq=True)
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def through_url(query: dict) -> dict:
    return {k: v[-1] for k, v in raw_url(query).items()}


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


def page_config(query: dict, cap=CAP) -> tuple[Config | None, list, list]:
    """The Config a page opened on this link runs: parse, the widgets' defaults for the rest, settle, read back."""
    values, errors, warnings = links.parse(raw_url(query), cap)
    wanted = defaults(cap) | values
    changes, notes = rules.settle(wanted, cap)
    cfg, error = read_config(wanted | changes)
    assert error is None, error
    return cfg, errors, warnings + notes


def ui_cfg(**kw) -> Config:
    return Config(cell="lstm", clip="norm", **kw)


@pytest.mark.parametrize("value", [v for v in HARD_FLOATS if 0.05 <= v <= 5] + [0.0123456789 * 100, 0.05, 5.0])
def test_ui_link_round_trips_floats_exactly(value):
    """Config -> link -> the page's Config -> link -> Config: the same floats, digit for digit, with no message."""
    cfg = ui_cfg(recurrent_scale=value, forget_bias=-value, clip_threshold=value / 7, lr=value / 1000)
    got, errors, warnings = page_config(cfg.to_query())
    assert (errors, warnings) == ([], [])
    assert got == cfg and Config.from_query(through_url(got.to_query())) == cfg
    for name in ("recurrent_scale", "forget_bias", "clip_threshold", "lr"):
        assert getattr(got, name) == getattr(cfg, name) and type(getattr(got, name)) is float


def test_ui_link_round_trips_0_0123456789_in_every_float_widget_that_offers_it():
    rng = limits.ranges(CAP)
    for name in ("forget_bias", "clip_threshold", "lr"):
        assert rng[name][0] <= 0.0123456789 <= rng[name][1]
        cfg = ui_cfg(**{name: 0.0123456789})
        got, errors, warnings = page_config(cfg.to_query())
        assert (errors, warnings) == ([], []) and getattr(got, name) == 0.0123456789 and got == cfg


def test_ui_link_round_trips_any_float_inside_the_widget_ranges():
    columns = zip(
        random_floats(0.05, 6.0, 100, 4),
        random_floats(0.001, 1e6, 100, 5),
        random_floats(1e-5, 10.0, 100, 6),
        random_floats(-5.0, 5.0, 100, 7),
    )
    for scale, theta, lr, bias in columns:
        cfg = ui_cfg(recurrent_scale=scale, clip_threshold=theta, lr=lr, forget_bias=bias)
        got, errors, warnings = page_config(cfg.to_query())
        assert (errors, warnings) == ([], []) and got == cfg


@pytest.mark.parametrize("kw", [dict(truncation=7), dict(k1=3, k2=11), dict(k1=11, k2=1999), dict()])
def test_ui_link_round_trips_the_backprop_mode_and_integers(kw):
    cfg = ui_cfg(seq_len=1999, hidden_size=3, batch_size=511, seed=2**31 - 1, **kw)
    values, errors, warnings = links.parse(raw_url(cfg.to_query()), CAP)
    assert (errors, warnings) == ([], [])
    assert values.get("bptt") == ("k" if "truncation" in kw else "k1k2" if kw else None)  # links without bptt: the mode is read off k
    got, _, _ = page_config(cfg.to_query())
    assert got == cfg and got.tbptt == cfg.tbptt


def test_legacy_and_explicit_backprop_links():
    assert page_config({"seq_len": "60", "truncation": "20"})[0].tbptt == (20, 20)  # old links: truncation alone means bptt=k
    for zero in ({"truncation": "0"}, {"truncation": "0", "bptt": "full"}):
        cfg, errors, _ = page_config(zero)
        assert errors == [] and cfg.tbptt is None and cfg.truncation == 0  # 0 = full BPTT, as in Config and the CLI
    cfg, _, _ = page_config({"bptt": "full", "truncation": "20"})
    assert cfg.tbptt is None  # the mode decides: a kept k does not truncate full BPTT
    cfg, _, warnings = page_config({"bptt": "k1k2", "k1": "12", "k2": "4"})
    assert cfg.tbptt == (12, 12) and any("k2 changed from 4 to 12" in w for w in warnings)  # k2 gives way to the link's k1


def test_repeated_parameters_use_the_last_value_and_say_so():
    values, errors, warnings = links.parse(raw_url({"lr": ["0.5", "0.0123456789"], "cell": ["gru", "lstm"]}), CAP)
    assert errors == [] and values["lr"] == 0.0123456789 and values["cell"] == "lstm"
    assert any("`lr` was given 2 times" in w and links.quote("0.0123456789") in w for w in warnings)
    assert any("`cell` was given 2 times" in w and links.quote("lstm") in w for w in warnings)


@pytest.mark.parametrize(
    "name,raw",
    [("cell", "<b>x</b>"), ("lr", "[click](http://evil.example)"), ("seq_len", "1e3"), ("recurrent_scale", "nan"), ("bptt", "**k**")],
)
def test_a_refused_value_is_an_error_that_shows_it_escaped(name, raw):
    values, errors, _ = links.parse(raw_url({name: raw}), CAP)
    assert name not in values and len(errors) == 1
    assert f"`{name}`" in errors[0] and links.quote(raw) in errors[0]
    assert raw not in errors[0] or raw == links.escape(raw)  # never the raw markup


def test_values_above_a_host_cap_are_clamped_with_a_warning_and_then_settled():
    cap = limits.caps({"RNNLAB_MAX_SEQ_LEN": "25", "RNNLAB_MAX_HIDDEN": "17"})
    query = {"seq_len": "40", "bptt": "k1k2", "k1": "30", "k2": "35", "hidden_size": "500", "task": "copy"}
    values, errors, warnings = links.parse(raw_url(query), cap)
    assert errors == [] and (values["seq_len"], values["k1"], values["k2"], values["hidden_size"]) == (25, 25, 25, 17)
    assert {w.split("`")[1] for w in warnings} == {"seq_len", "k1", "k2", "hidden_size"}
    cfg, _, _ = page_config(query, cap)
    assert (cfg.seq_len, cfg.tbptt, cfg.hidden_size) == (25, (25, 25), 17)
    values, errors, _ = links.parse(raw_url({"seq_len": "3000", "hidden_size": "2048"}), cap)  # beyond the engine itself: refused
    assert values == {} and len(errors) == 2
