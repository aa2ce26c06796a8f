"""engine.cancel: a caller's stop signal ends the connectivity pass within one step back, and only inside its scope."""

import numpy as np
import pytest

import engine
from engine import cancel

CFG = engine.Config(cell="gru", seq_len=40, hidden_size=8, batch_size=4)


class StopAfter:
    """A stop signal that reads unset for the first `n` asks, set after: it counts the steps the work took."""

    def __init__(self, n: int):
        self.n, self.asked = n, 0

    def is_set(self) -> bool:
        self.asked += 1
        return self.asked > self.n


@pytest.mark.parametrize("cell", sorted(engine.config.CELLS))
def test_a_set_signal_ends_connectivity_at_the_next_step_back(cell):
    cfg = engine.Config(cell=cell, seq_len=40, hidden_size=8, batch_size=4)
    stop = StopAfter(5)
    with cancel.scope(stop), pytest.raises(cancel.Cancelled):
        engine.run(cfg, connectivity=True)
    assert stop.asked == 6  # five steps back ran, the sixth ask saw the signal: not one step more


def test_an_unset_signal_changes_nothing_and_is_asked_once_per_step_back():
    plain = engine.run(CFG, connectivity=True)
    stop = StopAfter(10**9)
    with cancel.scope(stop):
        watched = engine.run(CFG, connectivity=True)
    assert stop.asked == CFG.seq_len  # full BPTT: every step k = T-1 .. 0 carries some row
    np.testing.assert_array_equal(watched.conn_x, plain.conn_x)
    np.testing.assert_array_equal(watched.conn_h, plain.conn_h)


def test_the_signal_holds_only_inside_its_scope():
    stop = StopAfter(0)  # set from the first ask
    with cancel.scope(stop):
        engine.run(CFG)  # no connectivity: the pass never asks
        assert stop.asked == 0
        with cancel.scope(None):  # an inner scope without a signal lifts it
            assert np.isfinite(engine.run(CFG, connectivity=True).conn_x).all()
        with pytest.raises(cancel.Cancelled):  # and the outer one holds again after it
            engine.run(CFG, connectivity=True)
        assert stop.asked == 1
    trace = engine.run(CFG, connectivity=True)  # after the scope, nothing is cancelled
    assert np.isfinite(trace.conn_x).all() and stop.asked == 1
