"""Config keeps plain Python values: numpy integers and floats are normalised, so run(), JSON and the URL all work (issue 22)."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

import engine
from engine import Config, ConfigError


@pytest.mark.parametrize(
    "name, value, plain",
    [
        ("seed", np.int64(3), 3),
        ("seq_len", np.uint64(12), 12),
        ("seq_len", np.int32(12), 12),
        ("hidden_size", np.int16(5), 5),
        ("recurrent_scale", np.float32(0.5), 0.5),
        ("recurrent_scale", np.float64(0.9), 0.9),
        ("recurrent_scale", 2, 2.0),
        ("lr", np.float16(0.25), 0.25),
        ("cell", np.str_("gru"), "gru"),
        ("clip_threshold", Fraction(1, 3), 1 / 3),  # a Fraction is a numbers.Real: kept as the float it rounds to
    ],
)
def test_numpy_values_become_the_fields_plain_type(name, value, plain):
    cfg = Config(**{name: value})
    got = getattr(cfg, name)
    assert got == plain and type(got) is type(plain)


def test_a_run_with_numpy_settings_equals_the_plain_run_and_serialises():
    odd = Config(seed=np.int64(3), seq_len=np.uint64(12), hidden_size=np.int32(4), batch_size=np.int8(2), recurrent_scale=np.float32(0.5))
    plain = Config(seed=3, seq_len=12, hidden_size=4, batch_size=2, recurrent_scale=0.5)
    assert odd == plain and hash(odd) == hash(plain)
    a, b = engine.run(odd), engine.run(plain)
    np.testing.assert_array_equal(a.grad_h, b.grad_h)
    data = json.loads(engine.to_json(a))
    assert data["config"]["seq_len"] == 12 and data["config"]["seed"] == 3
    assert (
        odd.to_query()
        == plain.to_query()
        == {"seq_len": "12", "hidden_size": "4", "batch_size": "2", "recurrent_scale": "0.5", "seed": "3"}
    )


@pytest.mark.parametrize(
    "name, value",
    [
        ("seq_len", np.int64(0)),
        ("seq_len", np.uint64(2**63)),
        ("seed", np.int64(-1)),
        ("recurrent_scale", np.float32("nan")),
        ("batch_size", np.bool_(True)),
        ("hidden_size", np.float64(4.0)),
    ],
)
def test_numpy_values_out_of_range_or_of_the_wrong_kind_are_refused_by_name(name, value):
    with pytest.raises(ConfigError) as err:
        Config(**{name: value})
    assert err.value.field == name
