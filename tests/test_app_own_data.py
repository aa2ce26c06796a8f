"""Your own data on the page (AppTest): pasted numbers are read and said, bad input is a message, nothing is shared.

Oracles: the numbers pasted (count and range written into the test), engine.data's own words
for a refusal, and the shared cache's keys and values, searched for the data's hash.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from app_charts import figures
from streamlit.testing.v1 import AppTest

from engine.data import sha256_of
from ui.page import compute

APP = str(Path(__file__).resolve().parents[1] / "app.py")
NUMBERS = np.round(np.sin(np.arange(60) / 4) * 50 + 300, 3)  # 60 values, 250.x to 350.x


def title(fig: dict) -> str:
    return fig["layout"].get("title", {}).get("text", "")


def page(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def paste(at: AppTest, text: str) -> AppTest:
    at.sidebar.text_area(key="own_paste").set_value(text)
    at.run()
    assert not at.exception, at.exception
    return at


def test_task_series_asks_for_data_then_says_what_it_read_and_computes():
    at = page({"task": "series", "seq_len": "12", "hidden_size": "8", "batch_size": "4"})
    assert "paste numbers or upload a CSV" in " ".join(e.value for e in at.error)
    assert not figures(at)  # nothing computed without data
    text = "value\n" + "\n".join(str(v) for v in NUMBERS[:30]) + "\nNA\n" + "\n".join(str(v) for v in NUMBERS[30:])
    paste(at, text)
    read = " ".join(s.value for s in at.sidebar.success).replace("\\", "")  # shown as escaped Markdown
    assert f"read 60 values ({NUMBERS.min():.6g} to {NUMBERS.max():.6g})" in read and "1 empty or missing cell dropped (row 32)" in read
    assert not at.error
    assert any("How the gradient flows" in title(f) for f in figures(at))
    assert any("A link cannot carry your data" in c.value for c in at.sidebar.caption)


def test_bad_pasted_input_is_a_message_and_breaks_nothing():
    at = page({"task": "series", "seq_len": "5", "hidden_size": "4", "batch_size": "2"})
    for bad, words in [
        ("1\n2\nabc\n", "'abc' is not a number"),
        ("7", "give at least 3"),
        ("1\ninf\n2", "infinite"),
        ("4\n4\n4\n4", "equal"),
    ]:
        paste(at, bad)
        shown = " ".join(e.value for e in at.sidebar.error).replace("\\", "")
        assert "Not read:" in shown and words in shown, bad
        assert not figures(at)


def test_data_shorter_than_the_windows_is_refused_by_name():
    at = page({"task": "series", "seq_len": "50", "hidden_size": "4", "batch_size": "2"})
    paste(at, "\n".join(str(v) for v in NUMBERS[:20]))
    assert "`seq_len` refused" in " ".join(e.value for e in at.error) and "T ≤ 18" in " ".join(e.value for e in at.error)


def test_your_data_never_enters_the_cache_sessions_share():
    at = page({"task": "series", "seq_len": "10", "hidden_size": "4", "batch_size": "2"})
    paste(at, "\n".join(str(v) for v in NUMBERS))
    assert figures(at)
    digest = sha256_of(NUMBERS.astype(np.float64))
    shared = compute.cache()
    for key, (value, _) in list(shared._items.items()):
        assert "series" not in repr(key), key  # no trace, figure or JSON of task series is shared
        assert digest.encode() not in pickle.dumps(value), key
    assert all(cfg.task != "series" for cfg in compute._checks)  # the trust badge's background checks are shared too
    second = page({"task": "series", "seq_len": "10", "hidden_size": "4", "batch_size": "2"})  # another session: nothing of it
    assert "paste numbers or upload a CSV" in " ".join(e.value for e in second.error) and not figures(second)


def test_training_on_pasted_numbers_shows_the_prediction_before_and_after():
    import base64

    at = page({"task": "series", "seq_len": "8", "hidden_size": "8", "batch_size": "4", "steps": "30", "every": "29"})
    paste(at, "\n".join(str(v) for v in NUMBERS))
    at.session_state["tab"] = "Training"
    at.run()
    at.button(key="train_start").click().run()
    run = at.session_state["training_run"]
    assert run.data is not None and run.data.sha256 == sha256_of(NUMBERS.astype(np.float64))  # the worker trains on the pasted data
    run.thread.join(timeout=60)
    at.run()
    assert not at.exception, at.exception
    chart = next(f for f in figures(at) if "The task" in title(f))
    lines = {d["name"]: d["y"] for d in chart["data"]}

    def y(v):
        return np.frombuffer(base64.b64decode(v["bdata"]), v["dtype"]) if isinstance(v, dict) else np.asarray(v, dtype=float)

    np.testing.assert_allclose(y(lines["prediction before training"]), run.first_example["prediction"])
    np.testing.assert_allclose(y(lines["prediction after training (step 29)"]), run.log.last.trace.example["prediction"])
    assert run.log.last.trace.data["sha256"] == run.data.sha256


def test_pasted_text_is_read_and_its_connectivity_names_the_characters():
    at = page({"task": "text", "seq_len": "12", "hidden_size": "6", "batch_size": "2"})
    assert not at.error and any("The task" not in title(f) for f in figures(at))  # the bundled passage
    at.sidebar.text_area(key="own_text").set_value("the cat sat on the mat and the rat ran").run()
    assert "read 38 characters" in " ".join(s.value for s in at.sidebar.success)
    at.session_state["tab"] = "Connectivity"
    at.run()
    conn = next(f for f in figures(at) if "Which earlier characters" in title(f))
    labels = "".join(conn["layout"]["xaxis"]["ticktext"]).replace("␣", " ")
    assert len(labels) == 12 and labels in "the cat sat on the mat and the rat ran"
