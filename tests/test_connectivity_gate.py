"""Connectivity goes through the cost gate like other heavy work (issue 22): asked for above CONN_ASK_S, refused publicly above LONG_RUN_S.

Oracle: ui.page.compute.estimate(cfg, True) for the same Config; the tab's elements say which way it went.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine import Config
from ui.page import compute, views

APP = str(Path(__file__).resolve().parents[1] / "app.py")
QUERY = {"cell": "gru", "seq_len": "200", "hidden_size": "128", "batch_size": "64", "init": "normal", "dtype": "float64"}
HEAVY = Config(cell="gru", seq_len=200, hidden_size=128, batch_size=64, init="normal", dtype="float64")


def connectivity_page(monkeypatch, **env) -> AppTest:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(QUERY)
    at.session_state["tab"] = "Connectivity"
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_costly_connectivity_waits_for_a_tick(monkeypatch):
    seconds = compute.estimate(HEAVY, True)[0]
    assert views.CONN_ASK_S < seconds <= compute.LONG_RUN_S  # T = 200: below the old "ask" threshold, yet seconds of work
    calls = []
    real = compute.engine.run
    monkeypatch.setattr(compute.engine, "run", lambda *a, **k: calls.append(k.get("connectivity", False)) or real(*a, **k))
    at = connectivity_page(monkeypatch)
    assert "Tick the box above to compute the connectivity map." in [i.value for i in at.info]
    assert f"About {seconds:.1f} s of computing" in " ".join(c.value for c in at.caption)
    assert True not in calls  # nothing computed before the tick


def test_a_public_page_refuses_connectivity_beyond_the_long_run_limit(monkeypatch):
    monkeypatch.setattr(compute, "LONG_RUN_S", 1.5)  # the heavy setting's connectivity (~2 s estimated) is now "long"
    at = connectivity_page(monkeypatch, RNNLAB_PUBLIC="1")
    said = " ".join(e.value for e in at.error)
    assert "Connectivity for this setting needs about" in said and "more than this public page computes" in said
    assert not [c for c in at.get("checkbox") if c.key == "conn_on"]
