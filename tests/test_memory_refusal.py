"""Work that will not fit is refused before allocating: engine.cost's bytes against the memory free now (issue 22).

The free memory is monkeypatched (no real allocation ever happens); Model is replaced by a
tripwire in the refusal tests, so "before allocating" is checked, not assumed. Oracle for the
figure: engine.cost.estimate of the same work.
"""

from __future__ import annotations

import math

import pytest

import engine
from engine import Config, memory
from engine.__main__ import main
from engine.cost import estimate

BIG = Config(seq_len=2000, hidden_size=1024, batch_size=512)  # ~38 GB by the estimate
SMALL = Config(seq_len=20, hidden_size=8, batch_size=4)


@pytest.fixture
def free(monkeypatch):
    """Set the memory the machine has free (bytes); the container has no limit."""
    box = {"bytes": 4e9}
    monkeypatch.setattr(memory, "meminfo_available", lambda *a: box["bytes"])
    monkeypatch.setattr(memory, "cgroup_available", lambda *a: math.inf)
    return box


@pytest.fixture
def tripwire(monkeypatch):
    """Building a Model (the first allocation of every entry point) fails the test."""
    import importlib

    def never(*args, **kwargs):
        raise AssertionError("allocated before refusing")

    # All imported first (engine.phase the module, not the function): a module first imported after engine.model's
    # Model is patched would bind the tripwire for good.
    modules = [importlib.import_module(name) for name in ("engine.model", "engine.training", "engine.phase")]
    for module in modules:
        monkeypatch.setattr(module, "Model", never)


def test_run_refuses_before_allocating(free, tripwire):
    with pytest.raises(memory.TooBig) as err:
        engine.run(BIG)
    assert isinstance(err.value, MemoryError)
    assert err.value.needed == estimate(BIG).bytes and err.value.available == 4e9
    assert f"{estimate(BIG).bytes / 1e9:.1f} GB" in str(err.value) and "4.0 GB" in str(err.value)


def test_train_and_phase_refuse_before_allocating(free, tripwire):
    with pytest.raises(memory.TooBig) as err:
        next(iter(engine.train(BIG, 10, 5)))
    assert err.value.needed == estimate(BIG, train_steps=10, every=5).bytes
    with pytest.raises(memory.TooBig) as err:
        engine.phase(BIG, [0.5, 1.0, 1.5])
    assert err.value.needed == 3 * estimate(BIG).bytes


def test_what_fits_runs(free):
    free["bytes"] = estimate(SMALL).bytes * 1.01
    assert engine.run(SMALL).config == SMALL
    free["bytes"] = estimate(SMALL).bytes * 0.99
    with pytest.raises(memory.TooBig):
        engine.run(SMALL)


@pytest.mark.parametrize("command", ["run", "train", "phase"])
def test_cli_exits_2_with_one_line(free, tripwire, capsys, command):
    args = [command, "--seq-len", "2000", "--hidden-size", "1024", "--batch-size", "512", "--json"]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "GB is available" in err


def test_meminfo_and_cgroup_are_read(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   2000000 kB\n")
    assert memory.meminfo_available(meminfo) == 2000000 * 1024
    assert memory.meminfo_available(tmp_path / "none") == math.inf
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("max\n")
    (v2 / "memory.current").write_text("1000\n")
    assert memory.cgroup_available(v2, tmp_path / "v1") == math.inf  # no limit
    (v2 / "memory.max").write_text("3000\n")
    assert memory.cgroup_available(v2, tmp_path / "v1") == 2000
    (v2 / "memory.current").write_text("5000\n")
    assert memory.cgroup_available(v2, tmp_path / "v1") == 0
