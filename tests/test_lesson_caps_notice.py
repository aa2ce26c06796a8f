"""A lesson opened by a link on a capped server says when a cap changed one of its settings (issue 22).

Oracle: the lesson's own settings (ui/teaching/lessons.toml) against the cap; the page's warning names
the setting, the cap and what the lesson asked for, and the control holds the capped value.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.teaching import lessons

APP = Path(__file__).resolve().parents[1] / "app.py"
SLUG = "vanishing-tanh"


def test_a_capped_lesson_setting_is_said_on_the_page(monkeypatch):
    asked = lessons.get(SLUG).settings["seq_len"]
    cap = asked // 2
    monkeypatch.setenv("RNNLAB_MAX_SEQ_LEN", str(cap))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["lesson"] = SLUG
    at.run()
    assert not at.exception
    said = [w.value for w in at.warning]
    assert f"This server allows seq_len up to {cap}; the lesson asked for {asked}, so its claim may not hold." in said
    assert at.session_state["seq_len"] == cap


def test_an_uncapped_lesson_says_nothing_of_caps():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["lesson"] = SLUG
    at.run()
    assert not at.exception
    assert not [w.value for w in at.warning if "This server allows" in w.value]
    assert at.session_state["seq_len"] == lessons.get(SLUG).settings["seq_len"]
