"""ui.page.lockstep: two runs trained side by side begin their steps together; the one ahead waits, nobody waits for a run that ended.

Oracle: exact step counts. One run is driven step by step by the test (a slow partner it controls);
the other runs free and must never be more than one step ahead of it. No clock: the waits below are
hang guards (30 s), never measurements.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from ui.page.lockstep import Lockstep

GUARD_S = 30.0
STEPS = 200


def free_run(gate, steps: int, out: list) -> threading.Thread:
    """A stand-in for engine.train: asks the gate before every step, as the engine asks its stop signal."""

    def work():
        for _ in range(steps):
            if gate.is_set():
                out.append("stopped")
                return
        out.append("done")

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def wait_until(condition) -> None:
    """Until condition() holds (an Event waits between looks); fails after GUARD_S against a hang."""
    pause = threading.Event()
    for _ in range(int(GUARD_S / 0.01)):
        if condition():
            return
        pause.wait(0.01)
    raise AssertionError("condition not reached (hang guard)")


@pytest.fixture
def pair():
    pace = Lockstep()
    fast, slow = SimpleNamespace(status="running"), SimpleNamespace(status="running")
    never = threading.Event()
    return pace, fast, slow, pace.gate(fast, never), pace.gate(slow, never)


def test_the_run_ahead_waits_for_the_one_behind(pair):
    pace, fast, slow, fast_gate, slow_gate = pair
    assert slow_gate.is_set() is False  # the slow run begins its first step: from now on it is waited for
    out = []
    thread = free_run(fast_gate, STEPS, out)
    for k in range(1, 11):
        wait_until(lambda k=k: pace.begun(fast) >= k + 1)  # the fast run reaches one step beyond the slow one ...
        assert pace.begun(fast) == k + 1 and pace.begun(slow) == k  # ... and no further
        assert slow_gate.is_set() is False
    slow.status = "finished"  # an ended partner is not waited for: the fast run goes on alone
    thread.join(GUARD_S)
    assert out == ["done"] and pace.begun(fast) == STEPS


def test_a_partner_still_in_line_is_not_waited_for(pair):
    pace, fast, slow, fast_gate, _ = pair
    out = []
    free_run(fast_gate, STEPS, out).join(GUARD_S)
    assert out == ["done"] and pace.begun(fast) == STEPS and pace.begun(slow) == 0  # no deadlock on a queued partner


def test_stop_ends_a_run_that_waits():
    pace = Lockstep()
    fast, slow = SimpleNamespace(status="running"), SimpleNamespace(status="running")
    stop = threading.Event()
    fast_gate, slow_gate = pace.gate(fast, stop), pace.gate(slow, threading.Event())
    assert slow_gate.is_set() is False
    out = []
    thread = free_run(fast_gate, STEPS, out)
    wait_until(lambda: pace.begun(fast) == 2)  # waiting for the slow run's second step
    stop.set()
    thread.join(GUARD_S)
    assert out == ["stopped"] and pace.begun(fast) == 2
