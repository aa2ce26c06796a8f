"""A run lost with its server is named on the landing page; a running run keeps its step in the URL (issue 22).

AppTest drives the page. Oracles: the exact step in the URL and in the message, and the
parameter gone once the run ends or the loss has been told.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from streamlit.testing.v1 import AppTest

from ui.page.lost_run import lost_message

APP = Path(__file__).resolve().parents[1] / "app.py"


def _page():
    import streamlit as st

    from ui.page import lost_run

    lost_run.update(st.session_state.get("training_run"))


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


def test_a_new_session_names_the_lost_run_then_forgets_the_step():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["run_step"] = "151"
    at.run()
    assert not at.exception
    assert lost_message(151) in warnings(at)
    assert "run_step" not in at.query_params
    at.run()  # any click: the note stays until Run is pressed
    assert lost_message(151) in warnings(at)


def test_no_step_in_the_link_no_note():
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert warnings(at) == [] and "run_step" not in at.query_params


def test_a_running_run_keeps_its_step_in_the_url_and_an_ended_one_removes_it():
    at = AppTest.from_function(_page, default_timeout=30)
    at.session_state["training_run"] = SimpleNamespace(status="running", done=42)
    at.run()
    assert at.query_params["run_step"] == "42"
    at.session_state["training_run"] = SimpleNamespace(status="finished", done=100)
    at.run()
    assert "run_step" not in at.query_params
    assert warnings(at) == []


def test_a_session_with_its_own_run_says_nothing_of_a_step_in_the_url():
    """A reconnect to the same session (a blip): its run is still there, so the step in the URL is its own."""
    at = AppTest.from_function(_page, default_timeout=30)
    at.query_params["run_step"] = "7"
    at.session_state["training_run"] = SimpleNamespace(status="running", done=9)
    at.run()
    assert warnings(at) == []
    assert at.query_params["run_step"] == "9"


def test_pressing_run_ends_the_note():
    at = AppTest.from_function(_page, default_timeout=30)
    at.query_params["run_step"] = "5"
    at.run()
    assert warnings(at) == [lost_message(5)]
    at.session_state["training_run"] = SimpleNamespace(status="running", done=0)
    at.run()
    assert warnings(at) == []
