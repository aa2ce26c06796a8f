"""Widget ranges and the rules between settings: fixed ranges from the Config table within host caps, settled into a valid Config.

Oracles: the Config field table (engine.config.field_info), the engine's own validation (Config
refuses what it cannot run), and the definition of each rule (k <= T, k1 <= k2 with the moved
control winning, the adding problem's T >= 2).
"""

import itertools

import pytest

from engine import TASKS, Config, ConfigError
from engine.config import field_info
from ui.page import rules
from ui.page.widget_values import defaults, read_config
from ui.serving import limits

ENGINE = limits.caps({})
HOSTS = [
    ENGINE,
    limits.caps({"RNNLAB_MAX_SEQ_LEN": "300"}),
    limits.caps({"RNNLAB_MAX_SEQ_LEN": "2"}),
    limits.caps({"RNNLAB_MAX_SEQ_LEN": "1"}),
]
CONFIG_FIELDS = ("seq_len", "hidden_size", "batch_size", "recurrent_scale", "forget_bias", "clip_threshold", "lr", "seed")
DEPENDENT = ("seq_len", "truncation", "k1", "k2")
K_WIDGETS = {"full": (), "k": ("truncation",), "k1k2": ("k1", "k2")}


def test_caps_are_the_engine_limits_tightened_only_by_sane_environment_values():
    assert ENGINE == {"seq_len": 2000, "hidden_size": 1024, "batch_size": 512, "steps": field_info("steps")["hi"]}
    env = {"RNNLAB_MAX_SEQ_LEN": "500", "RNNLAB_MAX_HIDDEN": " 128 ", "RNNLAB_MAX_BATCH": "9999", "RNNLAB_MAX_STEPS": "-3"}
    assert limits.caps(env) == {"seq_len": 500, "hidden_size": 128, "batch_size": 512, "steps": field_info("steps")["hi"]}
    assert limits.caps({"RNNLAB_MAX_SEQ_LEN": "0", "RNNLAB_MAX_HIDDEN": "1e3", "RNNLAB_MAX_STEPS": "77"})["steps"] == 77
    assert limits.caps({"RNNLAB_MAX_SEQ_LEN": "0"})["seq_len"] == 2000


@pytest.mark.parametrize("cap", HOSTS, ids=lambda c: f"T{c['seq_len']}")
def test_ranges_are_the_field_table_within_the_caps(cap):
    r = limits.ranges(cap)
    assert all(lo <= hi for lo, hi in r.values())
    for name in CONFIG_FIELDS:
        info = field_info(name)
        lo, hi = r[name]
        assert hi == min(info["hi"], cap.get(name, info["hi"]))
        if name == "forget_bias" or isinstance(info["default"], int):  # Config accepts lo itself
            assert lo == info["lo"]
        else:  # Config needs lo < value: the widget must start strictly above the field's lower limit
            assert info["lo"] < lo <= info["default"]
    for name in ("truncation", "k1", "k2"):
        assert r[name] == (1, cap["seq_len"])  # fixed: never dependent on the current T (values are settled instead)
    assert r["steps"] == (1, cap["steps"]) and r["every"] == (1, field_info("every")["hi"])


@pytest.mark.parametrize("cap_name", ["seq_len", "hidden_size", "batch_size", "steps"])
def test_each_range_ends_at_its_host_cap(cap_name):
    cap = limits.caps({limits.CAP_ENV[cap_name]: "17"})
    assert limits.ranges(cap)[cap_name] == (1, 17)


@pytest.mark.parametrize("cap", HOSTS, ids=lambda c: f"T{c['seq_len']}")
def test_the_defaults_sit_inside_the_ranges_and_make_a_config(cap):
    r, base = limits.ranges(cap), defaults(cap)
    assert all(r[k][0] <= v <= r[k][1] for k, v in base.items() if k in r)
    assert base == defaults(cap) | limits.defaults(cap)
    assert rules.settle(base, cap) == ({}, [])
    cfg, error = read_config(base)
    assert error is None and cfg.seq_len == min(50, cap["seq_len"])


def t_fits(task: str, T: int) -> bool:
    """Whether Config takes this T for this task (the one place the rule is written)."""
    try:
        Config(task=task, seq_len=T)
    except ConfigError:
        return False
    return True


def offered(lo, hi):
    """Both ends of a range and a value inside it."""
    return sorted({lo, hi, min(max(7, lo), hi)})


def settled(values, cap, moved):
    """The widget values after the change callback ran, checked against what rules.settle promises."""
    changes, notes = rules.settle(values, cap, moved=moved)
    assert len(notes) >= len(changes) and all("changed from" in n for n in notes), "every change is said in words"
    for name, new in changes.items():  # a value may give way twice (k1 > T, then k1 > k2): the notes tell the whole way
        said = rules.SYMBOL.get(name, name)
        assert values[name] != new and any(f"{said} changed from {values[name]} to" in n for n in notes)
        assert any(f"{said} changed from" in n and n.endswith(f" to {new}.") for n in notes)
    return values | changes, changes


@pytest.mark.parametrize("cap", HOSTS, ids=lambda c: f"T{c['seq_len']}")
@pytest.mark.parametrize("bptt", list(K_WIDGETS))
@pytest.mark.parametrize("task", list(TASKS))
def test_every_value_the_dependent_ranges_offer_settles_into_a_config_the_engine_accepts(cap, bptt, task):
    """T, k, k1 and k2 at both ends of their fixed ranges and inside, whichever moved last: settle() makes a Config the engine runs."""
    r, base = limits.ranges(cap), defaults(cap)
    names = ("seq_len",) + K_WIDGETS[bptt]
    for combo in itertools.product(*(offered(*r[n]) for n in names)):
        for moved in (None, "task", "bptt") + names:
            want = base | {"task": task, "bptt": bptt} | dict(zip(names, combo))
            got, changes = settled(want, cap, moved)
            assert all(r[n][0] <= got[n] <= r[n][1] for n in DEPENDENT), "settled values stay inside the widgets' ranges"
            cfg, error = read_config(got)
            assert error is None, (want, moved, error)
            assert (cfg.task, cfg.seq_len) == (got["task"], got["seq_len"])
            k = {"full": None, "k": (got["truncation"],) * 2, "k1k2": (got["k1"], got["k2"])}[bptt]
            assert cfg.tbptt == k, "the mode and each k reach the engine as set"
            if moved in ("k1", "k2") and want[moved] <= got["seq_len"]:
                assert got[moved] == want[moved], "the control just moved keeps its value"
            if task != "adding" or cap["seq_len"] >= 2:
                assert got["task"] == task, "the task changes only when the host offers no T the adding problem accepts"
            if t_fits(task, want["seq_len"]):
                assert got["seq_len"] == want["seq_len"], "T changes only when the task refuses it"


@pytest.mark.parametrize("cap", HOSTS, ids=lambda c: f"T{c['seq_len']}")
@pytest.mark.parametrize("name", CONFIG_FIELDS[1:])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_every_value_the_other_ranges_offer_is_one_config_accepts(cap, name, cell):
    """Each end of the independent ranges reaches the engine unchanged (the LSTM makes forget_bias count)."""
    for end in limits.ranges(cap)[name]:
        values = defaults(cap) | {"cell": cell, name: end}
        assert rules.settle(values, cap, moved=name) == ({}, [])
        cfg, error = read_config(values)
        assert error is None and (getattr(cfg, name) == end or (name == "forget_bias" and cell == "rnn" and cfg.forget_bias == 0.0))


@pytest.mark.parametrize("k1,k2", list(itertools.product([1, 5, 17, 40], repeat=2)))
def test_settle_keeps_the_moved_k_and_the_other_gives_way(k1, k2):
    cap, T = ENGINE, 40
    base = defaults(cap) | {"bptt": "k1k2", "seq_len": T, "k1": k1, "k2": k2}
    got, _ = settled(base, cap, "k1")
    assert (got["k1"], got["k2"]) == (k1, max(k1, k2))
    got, _ = settled(base, cap, "k2")
    assert (got["k1"], got["k2"]) == (min(k1, k2), k2)
    got, _ = settled(base, cap, None)  # a link: no control moved, k2 gives way
    assert (got["k1"], got["k2"]) == (k1, max(k1, k2))


@pytest.mark.parametrize("T", [1, 2, 9])
def test_shrinking_t_pulls_every_k_down_to_it_and_keeps_t(T):
    for bptt, names in K_WIDGETS.items():
        base = defaults(ENGINE) | {"task": "copy", "bptt": bptt, "truncation": 30, "k1": 20, "k2": 30, "seq_len": T}
        got, changes = settled(base, ENGINE, "seq_len")
        assert got["seq_len"] == T and set(changes) == {n for n in names if base[n] > T}
        assert all(got[n] == min(base[n], T) for n in names)


def test_the_adding_problem_needs_two_steps():
    base = defaults(ENGINE) | {"task": "adding", "seq_len": 1}
    for moved in ("task", "seq_len", None):
        got, changes = settled(base, ENGINE, moved)
        assert changes == {"seq_len": 2} and Config(task="adding", seq_len=got["seq_len"]).seq_len == 2
    got, changes = settled(base, limits.caps({"RNNLAB_MAX_SEQ_LEN": "1"}), "task")
    assert changes == {"task": "first"}  # a host that offers T = 1 only: the task gives way, T stays offered
    with pytest.raises(ConfigError, match="seq_len"):
        Config(task="adding", seq_len=1)  # the engine's own rule that settle() anticipates
