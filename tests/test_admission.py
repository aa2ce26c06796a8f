"""ui.admission: the job queue admits at most N at once, first come first served, says each waiter's place; budgets; settings."""

from __future__ import annotations

import threading
import time

import pytest

from ui import admission, limits
from ui.admission import Abandoned, Budget, JobQueue


def test_at_most_n_jobs_run_at_once_and_all_finish():
    queue, lock = JobQueue(2), threading.Lock()
    running, peak, done = [0], [0], []

    def job(i):
        with queue.slot(seconds=10.0):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1
                done.append(i)

    threads = [threading.Thread(target=job, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(done) == list(range(12)) and peak[0] == 2 and queue.running == 0 and queue.waiting == 0


def test_waiters_are_told_their_place_and_start_in_arrival_order():
    queue = JobQueue(1)
    release, order, notes = threading.Event(), [], {}
    holder_in = threading.Event()

    def holder():
        with queue.slot(seconds=10.0):
            holder_in.set()
            release.wait(10)

    def waiter(name):
        with queue.slot(seconds=10.0, on_wait=lambda k: notes.setdefault(name, []).append(k)):
            order.append(name)

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    holder_in.wait(5)
    for name in ("a", "b", "c"):
        t = threading.Thread(target=waiter, args=(name,))
        t.start()
        threads.append(t)
        while queue.waiting < len(threads) - 1:  # each joins the line before the next arrives
            time.sleep(0.005)
    assert notes["a"][0] == 1 and notes["b"][0] == 2 and notes["c"][0] == 3
    release.set()
    for t in threads:
        t.join(10)
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
        while not queue.waiting:
            time.sleep(0.005)
        stop.set()
        t.join(5)
    assert raised == [True] and not ran and queue.waiting == 0 and queue.running == 0


def test_an_error_inside_the_slot_frees_it():
    queue = JobQueue(1)
    with pytest.raises(RuntimeError):
        with queue.slot(seconds=10.0):
            raise RuntimeError("the pass failed")
    assert queue.running == 0
    with queue.slot(seconds=10.0):
        assert queue.running == 1


def test_budget_is_set_when_its_time_is_spent_or_the_other_signal_is():
    other = threading.Event()
    budget = Budget(0.05, other).start()
    assert not budget.is_set() and not budget.spent
    time.sleep(0.08)
    assert budget.is_set() and budget.spent
    endless = Budget(None, other).start()
    assert not endless.is_set()
    other.set()
    assert endless.is_set() and not endless.spent


def test_a_training_slot_holds_a_place_and_starts_its_budget_only_once_admitted(monkeypatch):
    monkeypatch.setenv("RNNLAB_RUN_BUDGET_S", "0.05")
    queue, stop, places = JobQueue(1), threading.Event(), []
    with queue.slot(seconds=10.0):
        holder = threading.Timer(0.3, lambda: None)
        holder.start()
        result = {}

        def worker():
            with admission.training_slot(10.0, stop, on_wait=places.append, queue=queue) as budget:
                result["fresh"] = not budget.is_set()  # the 0.3 s in line did not use up the 0.05 s budget
                time.sleep(0.08)
                result["spent"] = budget.is_set() and budget.spent

        t = threading.Thread(target=worker)
        t.start()
        while not queue.waiting:
            time.sleep(0.005)
        holder.join()
    t.join(5)
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
