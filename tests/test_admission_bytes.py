"""Admission counts bytes as well as seconds: every job, light ones included, holds its estimated bytes (issue 22).

Oracles: exact counts (jobs inside at once, bytes held, callers waiting), the order jobs start
in, and glibc's trim called exactly after the jobs that were big enough. Threads meet on events;
nothing is timed (GUARD_S only ends a hang).
"""

from __future__ import annotations

import math
import threading
import time

import pytest

from ui.serving import admission
from ui.serving.admission import JobQueue

GUARD_S = 30.0
LIGHT = admission.LIGHT_S / 2
HEAVY = 10.0


def until(condition) -> bool:
    deadline = time.monotonic() + GUARD_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


class Job:
    """A job on its own thread that holds its slot until released; records when it got in."""

    def __init__(self, queue: JobQueue, seconds: float, nbytes: float, log: list):
        self.inside, self.release = threading.Event(), threading.Event()
        self.held_inside = None

        def work():
            with queue.slot(seconds, nbytes=nbytes):
                self.held_inside = queue.held
                log.append(self)
                self.inside.set()
                self.release.wait(GUARD_S)

        self.thread = threading.Thread(target=work)
        self.thread.start()

    def finish(self) -> None:
        self.release.set()
        self.thread.join(GUARD_S)


@pytest.fixture
def no_trim(monkeypatch):
    calls = []
    monkeypatch.setattr(admission.malloc, "trim", lambda: calls.append(1) or True)
    return calls


def test_light_jobs_wait_for_bytes_and_never_exceed_the_allowance(no_trim):
    queue, log = JobQueue(2, max_bytes=100), []
    a = Job(queue, LIGHT, 80, log)
    assert a.inside.wait(GUARD_S)
    b = Job(queue, LIGHT, 30, log)  # 80 + 30 > 100: light, but it waits
    assert until(lambda: queue.waiting == 1)
    assert not b.inside.is_set() and queue.held == 80
    c = Job(queue, LIGHT, 20, log)  # 80 + 20 fits: light work that fits never queues
    assert c.inside.wait(GUARD_S) and queue.held == 100
    a.finish()
    assert b.inside.wait(GUARD_S)
    assert b.held_inside == 50  # c's 20 and its own 30
    b.finish()
    c.finish()
    assert queue.held == 0 and queue.waiting == 0
    assert [j.held_inside for j in log] == [80, 100, 50]


def test_a_job_larger_than_the_allowance_runs_alone(no_trim):
    queue, log = JobQueue(2, max_bytes=100), []
    small = Job(queue, LIGHT, 10, log)
    assert small.inside.wait(GUARD_S)
    big = Job(queue, HEAVY, 500, log)
    assert until(lambda: queue.waiting == 1) and not big.inside.is_set()
    small.finish()
    assert big.inside.wait(GUARD_S) and big.held_inside == 500
    big.finish()
    assert queue.held == 0


def test_a_heavy_job_with_a_free_slot_still_waits_for_bytes(no_trim):
    queue, log = JobQueue(2, max_bytes=100), []
    first = Job(queue, HEAVY, 60, log)
    assert first.inside.wait(GUARD_S) and queue.running == 1
    second = Job(queue, HEAVY, 60, log)
    assert until(lambda: queue.waiting == 1)
    assert queue.running == 1 and not second.inside.is_set()
    first.finish()
    assert second.inside.wait(GUARD_S)
    second.finish()
    assert log == [first, second] and queue.running == 0


def test_light_work_that_fits_passes_heavy_jobs_waiting_for_a_slot(no_trim):
    queue, log = JobQueue(1, max_bytes=100), []
    holder = Job(queue, HEAVY, 10, log)
    assert holder.inside.wait(GUARD_S)
    waiting = Job(queue, HEAVY, 10, log)
    assert until(lambda: queue.waiting == 1)
    light = Job(queue, LIGHT, 10, log)
    assert light.inside.wait(GUARD_S) and not waiting.inside.is_set()
    for job in (light, holder, waiting):
        job.finish()
    assert log == [holder, light, waiting]


def test_memory_is_handed_back_after_big_jobs_only(no_trim):
    queue = JobQueue(2)
    with queue.slot(LIGHT, nbytes=admission.malloc.TRIM_AFTER_BYTES - 1):
        pass
    assert no_trim == []
    with queue.slot(HEAVY, nbytes=admission.malloc.TRIM_AFTER_BYTES):
        pass
    assert no_trim == [1]


def test_the_allowance_from_the_environment():
    assert admission.jobs_bytes({}) == math.inf
    assert admission.jobs_bytes({"RNNLAB_PUBLIC": "1"}) == admission.PUBLIC_JOBS_MB << 20
    assert admission.jobs_bytes({"RNNLAB_PUBLIC": "1", "RNNLAB_JOBS_MB": "100"}) == 100 << 20
    assert admission.jobs_bytes({"RNNLAB_JOBS_MB": "0"}) == math.inf  # malformed or zero: the default
    assert admission.jobs_bytes({"RNNLAB_JOBS_MB": "lots"}) == math.inf
