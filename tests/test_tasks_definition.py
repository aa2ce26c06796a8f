"""Each task's data against its definition (inputs, targets, loss steps), and the baselines the literature gives."""

import numpy as np
import pytest
from definitions import BLANK, definition_loss_steps, targets_from_definition, task_batch

from engine import TASKS, Config, run
from engine.tasks import copy_delay

SIZES = [(2, 64), (7, 40), (50, 32)]  # (T, B): the shortest the task allows, odd, and the default length


@pytest.mark.parametrize("T,B", SIZES)
def test_adding_marks_two_values_in_0_1_and_asks_their_sum_at_the_last_step(T, B):
    b = task_batch(Config(task="adding", seq_len=T, batch_size=B))
    values, markers = b.x[..., 0], b.x[..., 1]
    assert b.x.shape == (T, B, 2) and TASKS["adding"].input_size == 2
    assert np.all((values >= 0) & (values <= 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=0), 2)  # exactly two marked steps per sequence
    np.testing.assert_array_equal(b.loss_steps, definition_loss_steps("adding", T))
    np.testing.assert_allclose(b.target, targets_from_definition("adding", b.x), rtol=0, atol=1e-15)


@pytest.mark.parametrize("T,B", SIZES)
def test_first_asks_the_first_input_at_the_last_step(T, B):
    b = task_batch(Config(task="first", seq_len=T, batch_size=B))
    assert b.x.shape == (T, B, 1) and b.kind == "mse"
    np.testing.assert_array_equal(b.loss_steps, definition_loss_steps("first", T))
    np.testing.assert_array_equal(b.target, targets_from_definition("first", b.x))


@pytest.mark.parametrize("T,B", [(1, 8), (2, 8), (7, 16), (50, 16)])
def test_copy_target_is_the_symbol_seen_d_steps_earlier_and_blank_before(T, B):
    b = task_batch(Config(task="copy", seq_len=T, batch_size=B))
    d = copy_delay(T)
    assert d >= 1  # a delay of 0 would ask for the current symbol: no memory needed
    assert T < 2 or d < T  # with two steps or more, some step asks for a remembered symbol
    assert b.x.shape == (T, B, BLANK) and b.kind == "ce" and TASKS["copy"].output_size == BLANK + 1
    np.testing.assert_array_equal(b.x.sum(axis=-1), 1)  # one-hot symbols
    np.testing.assert_array_equal(b.loss_steps, definition_loss_steps("copy", T))
    np.testing.assert_array_equal(b.target, targets_from_definition("copy", b.x, d))


def test_copy_delay_is_half_the_sequence_capped_at_ten():
    assert [copy_delay(T) for T in (1, 2, 3, 8, 20, 21, 500)] == [1, 1, 1, 4, 10, 10, 10]


@pytest.mark.parametrize("T,B", [(2, 8), (30, 64)])
def test_sine_target_is_the_next_clean_value_of_a_pure_sinusoid(T, B):
    b = task_batch(Config(task="sine", seq_len=T, batch_size=B))
    y = b.target[..., 0]  # (T, B)
    np.testing.assert_array_equal(b.loss_steps, definition_loss_steps("sine", T))
    assert b.x.shape == (T, B, 1) and y.shape == (T, B)
    noise = b.x[1:, :, 0] - y[:-1]  # x_{t+1} is the next clean value plus noise: the target at t
    if T > 2:
        assert abs(noise.mean()) < 0.02 and 0.08 < noise.std() < 0.12, (noise.mean(), noise.std())
        # a pure sinusoid of frequency omega: y_{t+1} + y_{t-1} = 2 cos(omega) y_t, omega in [0.1, 0.5]
        two_cos = (y[2:] + y[:-2]) / np.where(np.abs(y[1:-1]) > 0.2, y[1:-1], np.nan)
        spread = np.nanmax(two_cos, axis=0) - np.nanmin(two_cos, axis=0)
        assert np.all(spread < 1e-9)
        omega = np.arccos(np.nanmean(two_cos, axis=0) / 2)
        assert np.all((omega >= 0.1 - 1e-9) & (omega <= 0.5 + 1e-9))
        # and the target is the sinusoid's *next* value, not the current one: x_t is farther from y_t than from y_{t-1}
        assert np.mean((b.x[1:, :, 0] - y[1:]) ** 2) > 2 * np.mean(noise**2)
    assert np.all(np.abs(y) <= 1)


def test_adding_trivial_loss_is_one_sixth():
    """Sum of two U(0, 1): mean 1, variance 2/12; the best constant prediction (1) scores 1/6 (Hochreiter & Schmidhuber)."""
    assert TASKS["adding"].trivial_loss == pytest.approx(1 / 6, rel=1e-12)
    b = task_batch(Config(task="adding", seq_len=20, batch_size=512), 0)
    targets = np.concatenate([task_batch(Config(task="adding", seq_len=20, batch_size=512), i).target.ravel() for i in range(40)])
    assert abs(targets.mean() - 1.0) < 0.01
    assert np.mean((targets - 1.0) ** 2) == pytest.approx(1 / 6, rel=0.03)
    assert b.kind == "mse"


@pytest.mark.parametrize("task,best_constant", [("first", 0.0), ("sine", 0.0)])
def test_trivial_loss_is_the_mse_of_the_best_constant_prediction(task, best_constant):
    cfg = Config(task=task, seq_len=30, batch_size=512)
    targets = np.concatenate([task_batch(cfg, i).target.ravel() for i in range(20)])
    assert np.mean((targets - best_constant) ** 2) == pytest.approx(TASKS[task].trivial_loss, rel=0.03)


def test_copy_trivial_loss_is_the_entropy_of_a_guess_among_the_symbols():
    """Once the blank is over, the symbol d steps back is uniform over 4: a blind guess costs log 4 per step."""
    assert TASKS["copy"].trivial_loss == pytest.approx(np.log(4), rel=1e-12)


@pytest.mark.parametrize("task", list(TASKS))
def test_trace_loss_steps_follow_the_definition(task):
    data = np.sin(np.arange(30.0)) if task == "series" else None  # your own series: the one task that needs data passed
    trace = run(Config(task=task, seq_len=9, hidden_size=3, batch_size=2), data=data)
    np.testing.assert_array_equal(trace.loss_steps, definition_loss_steps(task, 9))
    assert (trace.grad_h_last is not None) == (TASKS[task].loss_at == "every")
    assert TASKS[task].loss_at == ("last" if task in ("adding", "first") else "every")
    assert TASKS[task].measures.startswith("The loss is")  # the task chart's sentence on what the loss measures
