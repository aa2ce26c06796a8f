"""Stop, counted in training steps (no clock): no step begins after Stop returns, and the log stays where Stop found it.

The engine asks its stop signal before every training step (engine.train), so each "not set"
answer is one step begun. A wrapper around that signal counts them; the oracle is the count.
"""

from __future__ import annotations

import threading
import time

import engine
from engine import Config
from ui.page import live

HANG_GUARD_S = 60.0  # only against a hang: the test counts steps, never times them


def test_no_training_step_begins_after_stop_and_the_log_keeps_the_steps_shown(monkeypatch):
    begun, guard, real = [], threading.Lock(), engine.train

    class Counted:
        """The run's stop signal, counting the steps the engine begins (one per "not set" answer)."""

        def __init__(self, stop):
            self.stop = stop

        def is_set(self) -> bool:
            with guard:
                answer = self.stop.is_set()
                if not answer:
                    begun.append(1)
                return answer

    monkeypatch.setattr(engine, "train", lambda cfg, steps, every, stop, data=None: real(cfg, steps, every, stop=Counted(stop), data=data))
    # Snapshots 25 steps apart: only the stop signal, not the worker's own check at each snapshot, ends the work within a step.
    run = live.TrainingRun(Config(seq_len=40, hidden_size=16, batch_size=4), 5000, 25).start()
    deadline = time.monotonic() + HANG_GUARD_S
    while run.done < 3 and run.thread.is_alive() and time.monotonic() < deadline:
        run.figures()  # what the page's redraw does: move the worker's snapshots into the log
        time.sleep(0.01)
    run.figures()
    shown = run.done  # the steps on screen at the click (a hidden tab's worker may log more before Stop: never fewer)
    run.stop()
    with guard:
        begun_at_stop = len(begun)
    run.thread.join(HANG_GUARD_S)
    assert not run.thread.is_alive(), "the worker went on after Stop"
    assert len(begun) == begun_at_stop, f"{len(begun) - begun_at_stop} training steps began after Stop returned"
    assert run.status == "stopped" and 3 <= shown <= run.stopped_at == run.done < 5000
    run.figures()  # a redraw after Stop logs nothing of what the worker had computed but the page never showed
    assert run.done == run.stopped_at == len(run.log.history["loss"]) and run.pending == []


def test_a_second_stop_keeps_the_first_step_and_reason():
    run = live.TrainingRun(Config(seq_len=20, hidden_size=8, batch_size=2), 5000, 1).start()
    run.stop()
    first = (run.status, run.reason, run.stopped_at)
    run.thread.join(HANG_GUARD_S)
    run.stop("Run was pressed again")
    assert (run.status, run.reason, run.stopped_at) == first and first[:2] == ("stopped", "Stop was pressed")
    assert run.stopped_at == run.done
