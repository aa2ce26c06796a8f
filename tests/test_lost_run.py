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


# ---- a reload on the same server: the token in the URL finds the run ----


def kept_run(monkeypatch, status="running", owner="old-session", connected=False):
    """A run kept under a token, as register() keeps it, whose owner's websocket is (not) still connected."""
    from ui.page import lost_run

    run = SimpleNamespace(status=status, done=42, stopper=SimpleNamespace(session_id=owner))
    token = "tok-" + status
    monkeypatch.setitem(lost_run._KEPT, token, lost_run._Kept({"training_run": run}, owner))
    monkeypatch.setattr(lost_run, "session_is_connected", lambda session_id: connected)
    return run, token


def test_a_reload_takes_over_a_run_this_server_still_has(monkeypatch):
    from ui.page.lost_run import found_message

    run, token = kept_run(monkeypatch)
    at = AppTest.from_function(_page, default_timeout=30)
    at.query_params["run_step"], at.query_params["run_id"] = "40", token
    at.run()
    assert at.session_state["training_run"] is run
    assert [i.value for i in at.info] == [found_message(40)] and warnings(at) == []
    assert at.query_params["run_step"] == "42" and at.query_params["run_id"] == token  # the run's own step now
    assert run.stopper.session_id != "old-session"  # its life follows the new session


def test_a_run_whose_tab_is_still_open_stays_there(monkeypatch):
    from ui.page.lost_run import elsewhere_message

    run, token = kept_run(monkeypatch, connected=True)
    at = AppTest.from_function(_page, default_timeout=30)
    at.query_params["run_step"], at.query_params["run_id"] = "40", token
    at.run()
    assert "training_run" not in at.session_state and run.stopper.session_id == "old-session"
    assert [i.value for i in at.info] == [elsewhere_message(40)] and warnings(at) == []
    assert "run_step" not in at.query_params and "run_id" not in at.query_params


def test_an_unknown_token_is_a_lost_run(monkeypatch):
    kept_run(monkeypatch)
    at = AppTest.from_function(_page, default_timeout=30)
    at.query_params["run_step"], at.query_params["run_id"] = "40", "no-such-token"
    at.run()
    assert warnings(at) == [lost_message(40)] and "training_run" not in at.session_state


def test_a_run_that_ended_meanwhile_is_shown_as_it_ended(monkeypatch):
    """The run finished while the page reloaded: the new session gets it (its report), with no note and no step in the URL."""
    run, token = kept_run(monkeypatch, status="finished")
    at = AppTest.from_function(_page, default_timeout=30)
    at.query_params["run_step"], at.query_params["run_id"] = "40", token
    at.run()
    assert at.session_state["training_run"] is run and list(at.info) == [] and warnings(at) == []
    assert "run_step" not in at.query_params and "run_id" not in at.query_params


def test_register_keeps_running_runs_and_drops_ended_ones_nobody_can_reload(monkeypatch):
    from ui.page import lost_run

    monkeypatch.setattr(lost_run, "_KEPT", {})
    alive = {"gone-owner": False, "live-owner": True}
    monkeypatch.setattr(lost_run, "session_is_alive", lambda sid: alive[sid])
    for token, status, owner in [("a", "finished", "gone-owner"), ("b", "running", "gone-owner"), ("c", "finished", "live-owner")]:
        lost_run._KEPT[token] = lost_run._Kept({"training_run": SimpleNamespace(status=status)}, owner)

    def press_run():
        from types import SimpleNamespace

        import streamlit as st

        from ui.page import lost_run

        st.session_state["token"] = lost_run.register({"training_run": SimpleNamespace(status="running", done=0)})

    at = AppTest.from_function(press_run, default_timeout=30).run()
    new = at.session_state["token"]
    assert sorted(lost_run._KEPT) == sorted(["b", "c", new]) and at.session_state["run_token"] == new
