"""Fine settings (recurrent scale, forget bias): a number box holds the exact value, a slider beside it the range that matters.

On a phone a 12 px drag moved the forget bias from 0 to 1 (a -10..10 slider). Now the Config field's
widget is a number box (its key, its URL parameter, the field's whole range) and the slider beside
it spans the values where the behaviour changes. Oracles: the Config the sidebar returns and the
critical values the dials must centre on (AppTest does not see bound URL parameters: the phone's
browser test reads the URL).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from engine.config import field_info
from ui.page import controls
from ui.serving import limits

SIDEBAR_APP = """
import streamlit as st
from ui.page import controls
settings = st.session_state["_settings"] = controls.sidebar()
"""
DIALS = [name for name, c in controls.CONTROLS.items() if c.dial is not None]


def sidebar(query: dict | None = None) -> AppTest:
    at = AppTest.from_string(SIDEBAR_APP, default_timeout=30)
    at.query_params.update(query or {})
    return at.run()


def config(at):
    settings = at.session_state["_settings"]
    assert settings.error is None and not at.exception, (settings.error, at.exception)
    return settings.config


def test_the_fine_settings_have_dials_centred_on_their_critical_values():
    assert set(DIALS) == {"recurrent_scale", "forget_bias"}
    centre = {"recurrent_scale": 1.0, "forget_bias": 1.0}  # rho = 1: neither vanishing nor exploding; b_f = 1: the usual fix
    rng = limits.ranges(limits.caps({}))
    for name in DIALS:
        lo, hi, step = controls.CONTROLS[name].dial
        assert (lo + hi) / 2 == pytest.approx(centre[name])
        assert rng[name][0] <= lo < hi <= rng[name][1]  # inside the field's range: every slider position is a valid Config
        assert hi - lo <= (field_info(name)["hi"] - field_info(name)["lo"]) / 3  # at least 3x finer than the whole range
        assert round((hi - lo) / step) == pytest.approx((hi - lo) / step)  # the ends lie on the slider's grid


def test_the_number_box_sets_the_forget_bias_exactly_and_the_slider_follows():
    at = sidebar({"cell": "lstm"})
    at.sidebar.number_input(key="forget_bias").set_value(0.37).run()
    assert config(at).forget_bias == 0.37  # exact, off the slider's 0.1 grid
    assert at.sidebar.slider(key="forget_bias" + controls.DIAL).value == 0.37


def test_the_slider_sets_the_field_and_its_url_parameter():
    at = sidebar()
    at.sidebar.slider(key="recurrent_scale" + controls.DIAL).set_value(1.25).run()
    assert config(at).recurrent_scale == 1.25
    assert at.sidebar.number_input(key="recurrent_scale").value == 1.25


def test_a_value_beyond_the_dial_is_kept_and_the_slider_waits_at_its_end():
    at = sidebar({"recurrent_scale": "4.5"})  # a link may carry any value of the field's range
    lo, hi, _ = controls.CONTROLS["recurrent_scale"].dial
    assert config(at).recurrent_scale == 4.5
    assert at.sidebar.slider(key="recurrent_scale" + controls.DIAL).value == hi
    at.sidebar.number_input(key="recurrent_scale").set_value(0.05).run()
    assert config(at).recurrent_scale == 0.05 and at.sidebar.slider(key="recurrent_scale" + controls.DIAL).value == lo


def test_dials_are_disabled_with_their_field():
    at = sidebar()  # the vanilla RNN has no forget gate
    assert at.sidebar.number_input(key="forget_bias").disabled and at.sidebar.slider(key="forget_bias" + controls.DIAL).disabled
    at.sidebar.radio(key="cell").set_value("lstm").run()
    assert not at.sidebar.slider(key="forget_bias" + controls.DIAL).disabled


def test_reset_brings_the_slider_back_with_its_box():
    at = sidebar({"cell": "lstm", "forget_bias": "2.5"})
    assert at.sidebar.slider(key="forget_bias" + controls.DIAL).value == 2.5
    at.sidebar.button(key="reset").click().run()
    default = field_info("forget_bias")["default"]
    assert at.sidebar.number_input(key="forget_bias").value == default == at.sidebar.slider(key="forget_bias" + controls.DIAL).value
