"""Every dependent widget range of ui/limits.py: k <= T, k2 >= k1, T >= 2 for adding, hosted caps; ranges Config accepts."""

import itertools
from contextlib import nullcontext

import pytest

from engine import Config, ConfigError
from engine.config import field_info
from ui import limits

ENGINE = limits.caps({})
NUMERIC = {"seq_len", "hidden_size", "batch_size", "recurrent_scale", "forget_bias", "truncation", "k1", "k2", "clip_threshold", "lr"}


def values(**kw) -> dict:
    return dict(dict(task="sine", seq_len=50, k1=10, k2=10, truncation=10), **kw)


def test_caps_are_the_engine_limits_tightened_only_by_sane_environment_values():
    assert ENGINE == {"seq_len": 2000, "hidden_size": 1024, "batch_size": 512, "steps": limits.MAX_STEPS}
    env = {"RNNLAB_MAX_SEQ_LEN": "500", "RNNLAB_MAX_HIDDEN": " 128 ", "RNNLAB_MAX_BATCH": "9999", "RNNLAB_MAX_STEPS": "-3"}
    assert limits.caps(env) == {"seq_len": 500, "hidden_size": 128, "batch_size": 512, "steps": limits.MAX_STEPS}
    assert limits.caps({"RNNLAB_MAX_SEQ_LEN": "0", "RNNLAB_MAX_HIDDEN": "1e3", "RNNLAB_MAX_STEPS": "77"})["steps"] == 77
    assert limits.caps({"RNNLAB_MAX_SEQ_LEN": "0"})["seq_len"] == 2000


@pytest.mark.parametrize("T,cap_T", [(1, 2000), (7, 2000), (50, 2000), (2000, 2000), (900, 300)])
def test_truncation_ranges_end_at_the_sequence_length(T, cap_T):
    cap = dict(ENGINE, seq_len=cap_T)
    r = limits.ranges(values(seq_len=T, k1=1), cap)
    shown_T = min(T, cap_T)
    assert r["truncation"] == (1, shown_T) and r["k1"] == (1, shown_T) and r["k2"] == (1, shown_T)
    assert r["seq_len"] == (1, cap_T)


@pytest.mark.parametrize("T,k1", [(50, 1), (50, 7), (50, 50), (50, 80), (10, 0), (1, 3)])
def test_k2_starts_at_k1_inside_the_sequence(T, k1):
    r = limits.ranges(values(seq_len=T, k1=k1), ENGINE)
    want_lo = min(max(k1, 1), T)
    assert r["k2"] == (want_lo, T)
    assert r["k2"][0] <= r["k2"][1]


@pytest.mark.parametrize("task,lo", [("adding", 2), ("first", 1), ("copy", 1), ("sine", 1)])
def test_the_adding_task_needs_two_steps(task, lo):
    assert limits.ranges(values(task=task), ENGINE)["seq_len"][0] == lo
    with pytest.raises(ConfigError) if lo == 2 else nullcontext():
        Config(task=task, seq_len=1)


@pytest.mark.parametrize("cap_name", ["hidden_size", "batch_size", "steps"])
def test_other_ranges_end_at_their_caps(cap_name):
    env = limits.CAP_ENV[cap_name]
    cap = limits.caps({env: "17"})
    assert limits.ranges(values(), cap)[cap_name] == (1, 17)


@pytest.mark.parametrize("task,T,k1", list(itertools.product(["adding", "copy"], [2, 9, 2000], [1, 5, 2000])))
def test_every_value_a_range_offers_is_one_config_accepts(task, T, k1):
    """Both ends of each range, with the other settings as the UI would send them, make a valid Config."""
    r = limits.ranges(values(task=task, seq_len=T, k1=k1), ENGINE)
    assert NUMERIC <= set(r) and all(lo <= hi for lo, hi in r.values())
    for name in NUMERIC:
        for end in r[name]:
            kw = dict(task=task, seq_len=T, cell="lstm" if name == "forget_bias" else "rnn")
            if name == "seq_len":
                kw["seq_len"] = end
            elif name == "k1":
                kw.update(k1=end, k2=max(end, r["k2"][1]))
            elif name == "k2":
                kw.update(k1=r["k2"][0], k2=end)
            else:
                kw[name] = end
            Config(**kw)  # raises ConfigError if the widget could offer a refused value
    assert r["seed"] == (field_info("seed")["lo"], field_info("seed")["hi"])


def test_fit_clamps_t_first_then_the_ranges_that_depend_on_it():
    out, moved = limits.fit(values(seq_len=3000, k1=2500, k2=2600, truncation=2400, hidden_size=4096, steps=10**6), ENGINE)
    assert (out["seq_len"], out["k1"], out["k2"], out["truncation"]) == (2000, 2000, 2000, 2000)
    assert out["hidden_size"] == 1024 and out["steps"] == limits.MAX_STEPS
    assert {m.split("=")[0] for m in moved} == {"seq_len", "k1", "k2", "truncation", "hidden_size", "steps"}
    out, moved = limits.fit(values(seq_len=20, k1=12, k2=4), ENGINE)
    assert (out["k1"], out["k2"]) == (12, 12) and moved == ["k2=4 is outside the offered range 12..20; using 12"]
    out, _ = limits.fit(values(task="adding", seq_len=1), ENGINE)
    assert out["seq_len"] == 2
    out, moved = limits.fit(values(seq_len=40, k1=30, k2=35), dict(ENGINE, seq_len=25))
    assert (out["seq_len"], out["k1"], out["k2"]) == (25, 25, 25) and len(moved) == 3
