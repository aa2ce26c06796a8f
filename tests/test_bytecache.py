"""ui.serving.bytecache: the cache holds at most its bytes (arrays' nbytes), drops the least recently used, computes a key once."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import engine
from ui.serving.bytecache import ByteLRU, cache_bytes, deep_nbytes


def block(kib: int) -> np.ndarray:
    return np.zeros(kib * 128)  # float64: kib KiB


def test_bytes_stay_under_the_bound_and_the_least_recently_used_go_first():
    cache = ByteLRU(100 * 1024)
    for key in "abc":
        cache.get_or_compute(key, lambda: block(40))
    assert "a" not in cache and "b" in cache and "c" in cache and cache.total == 80 * 1024
    cache.get_or_compute("b", lambda: pytest.fail("b is cached"))  # b is now the most recent
    cache.get_or_compute("d", lambda: block(40))
    assert "c" not in cache and "b" in cache and cache.total <= cache.max_bytes


def test_a_value_larger_than_the_whole_cache_is_returned_but_not_kept():
    cache = ByteLRU(10 * 1024)
    cache.get_or_compute("small", lambda: block(4))
    big = cache.get_or_compute("big", lambda: block(20))
    assert big.nbytes == 20 * 1024 and "big" not in cache and "small" in cache


def test_a_trace_is_counted_by_its_arrays():
    trace = engine.run(engine.Config(seq_len=30, hidden_size=16, batch_size=4))
    arrays = sum(v.nbytes for v in vars(trace).values() if isinstance(v, np.ndarray))
    assert arrays <= deep_nbytes(trace) <= arrays + 64 * 1024


def test_concurrent_callers_of_one_key_share_one_computation():
    cache, calls = ByteLRU(1 << 20), []

    def compute():
        calls.append(1)
        time.sleep(0.1)
        return block(1)

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)  # a guard against a hang, nothing timed
    assert len(calls) == 1 and len(results) == 8 and all(r is results[0] for r in results)


def test_an_error_reaches_every_waiter_and_is_not_cached():
    cache = ByteLRU(1 << 20)
    with pytest.raises(ValueError):
        cache.get_or_compute("k", lambda: (_ for _ in ()).throw(ValueError("bad")))
    assert "k" not in cache and cache.get_or_compute("k", lambda: 5) == 5


def test_size_from_the_environment():
    assert cache_bytes({}) == 512 << 20 and cache_bytes({"RNNLAB_CACHE_MB": "64"}) == 64 << 20
    assert cache_bytes({"RNNLAB_CACHE_MB": "lots"}) == 512 << 20 and cache_bytes({"RNNLAB_CACHE_MB": "0"}) == 0


@pytest.fixture
def waiting(monkeypatch) -> threading.Event:
    """An event set once a second caller waits on a computation in flight (the cache's _Pending, instrumented)."""
    from ui.serving import bytecache

    event = threading.Event()

    class Done(threading.Event):
        def wait(self, timeout=None):
            event.set()
            return super().wait(timeout)

    class Pending(bytecache._Pending):
        def __init__(self):
            super().__init__()
            self.done = Done()

    monkeypatch.setattr(bytecache, "_Pending", Pending)
    return event


def test_a_computation_cancelled_for_its_owner_is_computed_again_for_a_waiter(waiting):
    """The owner's session ended (engine.cancel.Cancelled): the owner sees it, a waiter gets the value, computed once more."""
    from engine.cancel import Cancelled

    cache, calls, owner_error, got = ByteLRU(1 << 20), [], [], []

    def cancelled():
        calls.append("owner")
        assert waiting.wait(30)  # the waiter is in line before the owner gives up
        raise Cancelled("its session ended")

    def fresh():
        calls.append("waiter")
        return block(1)

    def owner():
        try:
            cache.get_or_compute("k", cancelled)
        except Cancelled as err:
            owner_error.append(err)

    first = threading.Thread(target=owner)
    first.start()
    while "k" not in cache._pending and first.is_alive():  # the owner has claimed the key
        threading.Event().wait(0.01)
    waiter = threading.Thread(target=lambda: got.append(cache.get_or_compute("k", fresh)))
    waiter.start()
    first.join(30)
    waiter.join(30)
    assert len(owner_error) == 1 and len(got) == 1 and got[0].nbytes == 1024
    assert calls == ["owner", "waiter"] and "k" in cache


def test_any_other_error_of_the_owner_reaches_its_waiters(waiting):
    """Only a cancellation is computed again: a real failure is every caller's, as before."""
    cache, errors = ByteLRU(1 << 20), []

    def failing():
        assert waiting.wait(30)
        raise ValueError("bad")

    def call(compute):
        try:
            cache.get_or_compute("k", compute)
        except ValueError as err:
            errors.append(err)

    first = threading.Thread(target=call, args=(failing,))
    first.start()
    while "k" not in cache._pending and first.is_alive():
        threading.Event().wait(0.01)
    second = threading.Thread(target=call, args=(lambda: pytest.fail("a failure is not computed again"),))
    second.start()
    first.join(30)
    second.join(30)
    assert len(errors) == 2 and errors[0] is errors[1]
