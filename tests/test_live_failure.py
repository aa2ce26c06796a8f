"""A training run that fails shows the visitor a generic line and leaves the exception in the server log (issue 22)."""

from __future__ import annotations

import logging

import engine
from ui.page import live

SECRET = "secret path /srv/rnnlab/weights.pt"


def test_a_failed_run_says_so_without_the_exception_and_logs_it(monkeypatch, caplog):
    def broken(cfg, steps, every, stop=None, data=None):
        yield from ()
        raise OSError(SECRET)

    monkeypatch.setattr(engine, "train", broken)
    run = live.TrainingRun(engine.Config(seq_len=10, hidden_size=4, batch_size=2), steps=3, every=1)
    with caplog.at_level(logging.ERROR, logger="ui.page.live"):
        run.start().thread.join(30)
    assert not run.thread.is_alive()
    assert run.status == "failed"
    assert run.reason == "training failed; the server log has the details"
    assert SECRET not in run.reason and "OSError" not in run.reason
    [record] = [r for r in caplog.records if r.name == "ui.page.live"]
    assert record.exc_info is not None and SECRET in str(record.exc_info[1])
