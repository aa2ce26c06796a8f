"""ui.serving.admission: the job queue admits at most N at once, first come first served, says each waiter's place; budgets; settings."""

from __future__ import annotations

import threading
import time

import pytest

from ui.serving import admission, limits
from ui.serving.admission import Abandoned, Budget, JobQueue

GUARD_S = 30.0  # only against a hang: nothing here is timed


class Clock:
    """Stands in for the time module inside ui.serving.admission: the test sets what monotonic() says."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


def until(condition) -> bool:
    """Poll condition until it holds (True) or GUARD_S passes (False): a guard against a hang, not a timing."""
    deadline = time.monotonic() + GUARD_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def test_at_most_n_jobs_run_at_once_and_all_finish():
    queue, lock, release = JobQueue(2), threading.Lock(), threading.Event()
    running, peak, done = [0], [0], []

    def job(i):
        with queue.slot(seconds=10.0):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            release.wait(GUARD_S)  # the first two hold their slots until all twelve have arrived
            with lock:
                running[0] -= 1
                done.append(i)

    threads = [threading.Thread(target=job, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    lined_up = until(lambda: queue.running == 2 and queue.waiting == 10)
    release.set()
    for t in threads:
        t.join(GUARD_S)
    assert lined_up and sorted(done) == list(range(12)) and peak[0] == 2 and queue.running == 0 and queue.waiting == 0


def test_waiters_are_told_their_place_and_start_in_arrival_order():
    queue = JobQueue(1)
    release, order, notes = threading.Event(), [], {}
    holder_in = threading.Event()

    def holder():
        with queue.slot(seconds=10.0):
            holder_in.set()
            release.wait(GUARD_S)

    def waiter(name):
        with queue.slot(seconds=10.0, on_wait=lambda k: notes.setdefault(name, []).append(k)):
            order.append(name)

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    holder_in.wait(GUARD_S)
    for name in ("a", "b", "c"):
        t = threading.Thread(target=waiter, args=(name,))
        t.start()
        threads.append(t)
        assert until(lambda: queue.waiting == len(threads) - 1)  # each joins the line before the next arrives
    assert notes["a"][0] == 1 and notes["b"][0] == 2 and notes["c"][0] == 3
    release.set()
    for t in threads:
        t.join(GUARD_S)
    assert order == ["a", "b", "c"]
    # places only count down (the jobs ahead may finish between two looks), and the last note is the start (0)
    for name in "abc":
        assert notes[name][-1] == 0 and all(x > y for x, y in zip(notes[name], notes[name][1:]))


def test_light_work_skips_the_line():
    queue = JobQueue(1)
    with queue.slot(seconds=10.0):
        with queue.slot(seconds=admission.LIGHT_S / 2):  # would deadlock if it waited for the held slot
            assert queue.running == 1


def test_a_waiter_whose_session_ends_leaves_the_line_without_running():
    queue, stop = JobQueue(1), threading.Event()
    ran, raised = [], []

    def waiter():
        try:
            with queue.slot(seconds=10.0, stop=stop):
                ran.append(True)
        except Abandoned:
            raised.append(True)

    with queue.slot(seconds=10.0):
        t = threading.Thread(target=waiter)
        t.start()
        assert until(lambda: queue.waiting == 1)
        stop.set()
        t.join(GUARD_S)
    assert raised == [True] and not ran and queue.waiting == 0 and queue.running == 0


def test_an_error_inside_the_slot_frees_it():
    queue = JobQueue(1)
    with pytest.raises(RuntimeError):
        with queue.slot(seconds=10.0):
            raise RuntimeError("the pass failed")
    assert queue.running == 0
    with queue.slot(seconds=10.0):
        assert queue.running == 1


def test_budget_is_set_when_its_time_is_spent_or_the_other_signal_is(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(admission, "time", clock)
    other = threading.Event()
    budget = Budget(0.05, other).start()
    assert not budget.is_set() and not budget.spent
    clock.now = 0.0499
    assert not budget.is_set() and not budget.spent
    clock.now = 0.05
    assert budget.is_set() and budget.spent
    endless = Budget(None, other).start()
    clock.now = 1e9
    assert not endless.is_set()
    other.set()
    assert endless.is_set() and not endless.spent


def test_a_training_slot_holds_a_place_and_starts_its_budget_only_once_admitted(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(admission, "time", clock)
    monkeypatch.setenv("RNNLAB_RUN_BUDGET_S", "0.05")
    queue, stop, places, result = JobQueue(1), threading.Event(), [], {}
    admitted, moved_on = threading.Event(), threading.Event()

    def worker():
        with admission.training_slot(10.0, stop, on_wait=places.append, queue=queue) as budget:
            result["fresh"] = not budget.is_set()  # the time in line did not use up the budget
            admitted.set()
            moved_on.wait(GUARD_S)
            result["spent"] = budget.is_set() and budget.spent

    t = threading.Thread(target=worker)
    with queue.slot(seconds=10.0):
        t.start()
        assert until(lambda: queue.waiting == 1)
        clock.now = 100.0  # 2000 budgets' worth spent in line
    assert admitted.wait(GUARD_S)
    clock.now += 0.05
    moved_on.set()
    t.join(GUARD_S)
    assert result == {"fresh": True, "spent": True} and places == [1, 0]
    assert "0.05 s" in Budget(0.05).message()


def test_settings_from_the_environment():
    assert admission.max_jobs({}) == 2 and admission.max_jobs({"RNNLAB_MAX_JOBS": "5"}) == 5
    assert admission.max_jobs({"RNNLAB_MAX_JOBS": "0"}) == 2 and admission.max_jobs({"RNNLAB_MAX_JOBS": "x"}) == 2
    assert admission.run_budget_s({}) is None and admission.run_budget_s({"RNNLAB_RUN_BUDGET_S": "12.5"}) == 12.5
    assert admission.run_budget_s({"RNNLAB_PUBLIC": "1"}) == admission.PUBLIC_BUDGET_S
    assert admission.run_budget_s({"RNNLAB_PUBLIC": "1", "RNNLAB_RUN_BUDGET_S": "60"}) == 60
    assert admission.run_budget_s({"RNNLAB_RUN_BUDGET_S": "nan"}) is None
    assert admission.allow_override({}) and not admission.allow_override({"RNNLAB_PUBLIC": "1"})
    assert "position 3" in admission.queued_note(3, slots=2)


def test_public_caps_are_tighter_and_the_variables_only_tighten_them():
    open_caps, public_caps = limits.caps({}), limits.caps({"RNNLAB_PUBLIC": "1"})
    assert public_caps == limits.PUBLIC_CAPS and all(public_caps[k] < open_caps[k] for k in public_caps)
    tighter = limits.caps({"RNNLAB_PUBLIC": "1", "RNNLAB_MAX_HIDDEN": "64", "RNNLAB_MAX_SEQ_LEN": "1000"})
    assert tighter["hidden_size"] == 64 and tighter["seq_len"] == limits.PUBLIC_CAPS["seq_len"]
