"""engine.cost against the engine's own counts, and the host calibration against a fake clock: no test reads a real time.

The work units are counted in the engine as it runs (forward steps on the tape, step_back calls,
connectivity's alive rows, eig/SVD/QR calls, parameters), the bytes against the tensors a pass
really keeps. The seconds are checked against measured times by `bench/calibrate_cost.py --check`
(a benchmark: a clock on a shared machine flakes), after the calibration tested here.
"""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pytest
import torch

import engine
from engine import calibration, connectivity, cost, theory
from engine.cells import get_cell
from engine.config import CELLS
from engine.model import Model
from engine.tasks import TASKS

C = engine.Config


class Calls:
    """Wraps a function and keeps the arguments of every call."""

    def __init__(self, fn):
        self.fn, self.args = fn, []

    def __call__(self, *args, **kwargs):
        self.args.append(args)
        return self.fn(*args, **kwargs)


def engine_pass(cfg):
    """(forward steps on the tape, step_back calls) of one forward_backward, as the engine did them."""
    model = Model(cfg)
    model.cell.fast_sweep = None  # the LSTM's in-place sweep visits the same steps (tests/test_lstm_sweep.py): count them here
    model.cell.step_back = Calls(model.cell.step_back)
    with torch.no_grad():
        p = model.forward_backward(model.batch(0))
    return len(p.tape.caches), len(model.cell.step_back.args)


PASSES = [
    C(seq_len=40),
    C(seq_len=40, truncation=10),
    C(seq_len=40, k1=10, k2=30),
    C(seq_len=40, task="copy"),
    C(seq_len=40, task="sine", k1=5, k2=15),
    C(seq_len=41, task="adding", truncation=7),
    *(C(cell=cell, seq_len=23, hidden_size=6, batch_size=3, task="sine", truncation=5) for cell in CELLS),
    *(C(cell=cell, seq_len=17, hidden_size=5, batch_size=2, dtype="float64") for cell in CELLS),
]


@pytest.mark.parametrize("cfg", PASSES, ids=lambda c: f"{c.cell}-{c.task}-T{c.seq_len}-k{c.truncation}-{c.k1}:{c.k2}-{c.dtype}")
def test_one_pass_counts_the_engines_forward_steps_backward_visits_flops_and_elements(cfg):
    forward, back = engine_pass(cfg)
    work, _ = cost.work_units(cfg)
    per = get_cell(cfg.cell).cost(cfg.hidden_size, cfg.batch_size, TASKS[cfg.task].input_size, 8 if cfg.dtype == "float64" else 4)
    assert work[f"step:{cfg.cell}"] == forward == cfg.seq_len
    assert work[f"back:{cfg.cell}"] == back
    assert work["flop"] == pytest.approx((forward + back) / 2 * per.flops)
    assert work[f"elem:{cfg.cell}"] == pytest.approx((forward + back) / 2 * per.bytes)
    assert work[f"run:{cfg.cell}"] == 1


@pytest.mark.parametrize("steps, every", [(1, 1), (5, 2), (5, 3), (7, 7), (10, 4), (12, 1)])
def test_snapshot_count_is_what_train_yields(steps, every):
    yielded = sum(1 for _ in engine.train(C(seq_len=3, hidden_size=2, batch_size=1), steps, every))
    assert cost.snapshot_count(steps, every) == yielded
    assert cost.work_units(C(seq_len=3, hidden_size=2, batch_size=1), train_steps=steps, every=every)[0]["snapshot"] == yielded


@pytest.mark.parametrize("cell", CELLS)
def test_parameters_and_updates_count_the_models_tensors(cell):
    cfg = C(cell=cell, hidden_size=7, task="copy")
    numel = sum(p.numel() for p in Model(cfg).params.values())
    task = TASKS[cfg.task]
    assert cost.param_count(get_cell(cell), 7, task.input_size, task.output_size) == numel
    assert cost.work_units(cfg, train_steps=9, every=3)[0]["update"] == 9 * numel


@pytest.mark.parametrize(
    "cfg, steps, every",
    [
        (C(cell="lstm", hidden_size=12, init="normal"), 7, 3),
        (C(cell="rnn", hidden_size=10, init="torch"), 5, 2),
        (C(cell="gru", hidden_size=9, init="orthogonal"), 6, 2),
        (C(cell="rnn", hidden_size=8, init="identity"), 4, 1),
        (C(cell="indrnn", hidden_size=8, init="normal"), 4, 1),
    ],
    ids=lambda v: f"{v.cell}-{v.init}" if isinstance(v, C) else str(v),
)
def test_eig_svd_and_qr_units_are_the_engines_factorisations(monkeypatch, cfg, steps, every):
    """Each 'spectra' unit is an eigvals + SVD pair of an H x H block, each 'qr' an orthogonal_ init: counted where they run."""
    eig, svd = Calls(theory.spectral_radius), Calls(theory.sigma_max)
    qr = Calls(torch.nn.init.orthogonal_)
    monkeypatch.setattr(theory, "spectral_radius", eig)
    monkeypatch.setattr(theory, "sigma_max", svd)
    monkeypatch.setattr(torch.nn.init, "orthogonal_", qr)
    for _ in engine.train(cfg, steps, every):
        pass
    work, _ = cost.work_units(cfg, train_steps=steps, every=every)
    cube = cfg.hidden_size**3
    assert all(a[0].shape == (cfg.hidden_size, cfg.hidden_size) for a in eig.args + svd.args)
    assert 2 * work.get("spectra", 0) == (len(eig.args) + len(svd.args)) * cube
    assert work.get("qr", 0) == len(qr.args) * cube


CONNECTIVITY = [
    (C(seq_len=30, hidden_size=4, batch_size=3), {}),
    (C(cell="gru", seq_len=30, hidden_size=4, batch_size=3, truncation=7), {}),
    (C(cell="lstm", seq_len=30, hidden_size=4, batch_size=3, k1=5, k2=12), {}),  # the LSTM's many-rows fast path
    (C(cell="lru", seq_len=30, hidden_size=4, batch_size=3, task="sine"), {"conn_rows": [3, 17, 29], "conn_batch": 2}),
    (C(cell="indrnn", seq_len=50, hidden_size=4, batch_size=8, truncation=10), {"conn_rows": [9, 49], "conn_batch": 2}),
    (C(seq_len=50, hidden_size=4, batch_size=8, truncation=10), {"conn_rows": [9, 49], "conn_full": True}),
    (C(cell="gru", seq_len=30, hidden_size=4, batch_size=3, dtype="float64"), {}),
]


@pytest.mark.parametrize("cfg, kw", CONNECTIVITY, ids=lambda v: f"{v.cell}-k{v.truncation}" if isinstance(v, C) else str(v))
def test_connectivity_units_are_the_engines_steps_and_row_steps(monkeypatch, cfg, kw):
    """conn_step: the steps k the engine carries rows through; conn_flop/conn_elem: per alive row and sequence,
    float64 counting twice (its arithmetic and bytes cost twice float32's)."""
    steps = []
    walk = connectivity._steps

    def counted(rows, lowest, T):
        for k, a, b, new in walk(rows, lowest, T):
            steps.append(b - a)
            yield k, a, b, new

    monkeypatch.setattr(connectivity, "_steps", counted)
    engine.run(cfg, connectivity=True, **kw)
    mode = "full" if kw.get("conn_full") else True
    work, _ = cost.work_units(cfg, connectivity=mode, conn_rows=kw.get("conn_rows"), conn_batch=kw.get("conn_batch"))
    nb = min(cfg.batch_size, kw.get("conn_batch", cfg.batch_size))
    itemsize = 8 if cfg.dtype == "float64" else 4
    per = get_cell(cfg.cell).cost(cfg.hidden_size, nb, TASKS[cfg.task].input_size, itemsize)
    assert work[f"conn_step:{cfg.cell}"] == len(steps)
    assert work[f"conn_flop:{cfg.cell}"] == pytest.approx(sum(steps) * per.flops * itemsize / 4)
    assert work["conn_elem"] == pytest.approx(sum(steps) * per.bytes / 4)


def test_training_counts_one_pass_per_step():
    cfg = C(hidden_size=64, init="identity")
    one, _ = cost.work_units(cfg)
    many, _ = cost.work_units(cfg, train_steps=100, every=10)
    assert many["flop"] == pytest.approx(100 * one["flop"])
    assert many["back:rnn"] == 100 * one["back:rnn"]


def stored_bytes(*objects) -> int:
    """Bytes of the distinct tensor storages reachable from the objects (views of one storage count once)."""
    seen = {}

    def visit(obj):
        if isinstance(obj, torch.Tensor):
            storage = obj.untyped_storage()
            seen[storage.data_ptr()] = storage.nbytes()
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                visit(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                visit(item)
        elif hasattr(obj, "__dict__"):
            for item in vars(obj).values():
                visit(item)

    for obj in objects:
        visit(obj)
    return sum(seen.values())


def pass_bytes(cfg) -> int:
    """What one pass really holds at its end: the tape, the gradients it carried back, the parameters."""
    model = Model(cfg)
    p = model.forward_backward(model.batch(0))
    return stored_bytes(p, model.params)


SIZES = [(40, 16, 4), (80, 16, 4), (40, 32, 4), (40, 16, 8), (120, 48, 12)]


@pytest.mark.parametrize("cell", CELLS)
def test_memory_estimate_grows_with_T_B_and_H_as_the_pass_does(cell):
    """Doubling T, H or B grows the estimate as it grows what the engine stores; and the estimate stays within 2x of it."""
    est, real = {}, {}
    for T, H, B in SIZES:
        cfg = C(cell=cell, seq_len=T, hidden_size=H, batch_size=B)
        est[T, H, B], real[T, H, B] = cost.estimate(cfg).bytes, pass_bytes(cfg)
        assert 0.5 <= est[T, H, B] / real[T, H, B] <= 2, (T, H, B, est[T, H, B], real[T, H, B])
    base = SIZES[0]
    for doubled in SIZES[1:4]:  # T, H, B in turn
        grown = real[doubled] / real[base]
        assert grown > 1.8  # the engine's storage is linear in each of them (H: the tape, not the H^2 weights, at these sizes)
        assert est[doubled] / est[base] == pytest.approx(grown, rel=0.1), doubled


def test_training_memory_adds_gradients_and_adams_moments():
    cfg = C(hidden_size=24)
    numel = sum(p.numel() for p in Model(cfg).params.values())
    assert cost.estimate(cfg, train_steps=5).bytes - cost.estimate(cfg).bytes == 8 * 3 * numel


# ---- the host calibration, against a fake clock ----


class FakeClock:
    """A clock that only moves when the fake pass says: each pass of cfg takes overhead_f x its fitted overhead + arith_f x arithmetic."""

    def __init__(self, overhead_f: float, arith_f: float, first_round_extra: float = 0.0):
        self.now, self.f, self.extra = 0.0, (overhead_f, arith_f), first_round_extra
        self.passes = []

    def __call__(self) -> float:
        return self.now

    def work(self, cfg) -> None:
        part = cost.fitted_parts(cost.work_units(cfg)[0])
        disturbed = self.extra if self.passes.count(cfg) == 0 else 0.0  # the first pass of each probe: a busy machine
        self.passes.append(cfg)
        self.now += self.f[0] * part.overhead + self.f[1] * part.arith + disturbed


@pytest.mark.parametrize("k", [0.5, 1.0, 2.6, 3.5])  # up to ~3.8 two rounds fit BUDGET_S: the second one filters the disturbance
def test_a_host_k_times_slower_gets_factor_k_and_estimates_k_times_longer(monkeypatch, k):
    monkeypatch.setattr(cost, "HOST", cost.HostScale())
    clock = FakeClock(k, k, first_round_extra=0.01)
    found = calibration.calibrate(timer=clock, work=clock.work)
    assert found.scale == pytest.approx((k, k))
    assert cost.HOST.calibrated and cost.HOST.get() == found.scale
    for cfg, kw in [(C(cell="lstm", seq_len=90, hidden_size=128), {}), (C(cell="gru", seq_len=40), {"train_steps": 20, "every": 5})]:
        fitted = cost.estimate(cfg, scale=cost.Scale(), **kw)
        assert cost.estimate(cfg, **kw).seconds == pytest.approx(k * fitted.seconds)
        assert cost.estimate(cfg, **kw).bytes == fitted.bytes  # memory is counted, not timed


def test_overhead_and_arithmetic_are_scaled_apart():
    """A host whose interpreter is 3x slower but whose BLAS is 2x faster: the probes separate the two parts."""
    clock = FakeClock(3.0, 0.5)
    found = calibration.probe(timer=clock, work=clock.work)
    assert found.scale == pytest.approx((3.0, 0.5))
    cfg = C(cell="lstm", seq_len=30, hidden_size=256, batch_size=64)
    part = cost.fitted_parts(cost.work_units(cfg)[0])
    assert cost.estimate(cfg, scale=found.scale).seconds == pytest.approx(3.0 * part.overhead + 0.5 * part.arith)


def test_the_probe_takes_the_fastest_round_and_reports_its_own_cpu_time():
    clock = FakeClock(2.0, 2.0, first_round_extra=0.01)
    found = calibration.probe(timer=clock, work=clock.work)
    assert found.rounds == calibration.ROUNDS
    assert clock.passes == [calibration.WARM_UP] + list(calibration.PROBES) * calibration.ROUNDS
    assert found.cpu_seconds == clock.now  # every pass, the warm-up and the disturbed ones included
    for _cfg, part, measured in found.cases:
        assert measured == pytest.approx(2.0 * sum(part))  # not the disturbed first round


def test_the_probe_stops_repeating_at_its_cpu_budget():
    clock = FakeClock(1.0, 1.0)
    per_round = sum(sum(cost.fitted_parts(cost.work_units(cfg)[0])) for cfg in calibration.PROBES)
    slow = calibration.BUDGET_S / 2 / per_round  # a round takes half the budget: no room for a second
    clock.f = (slow, slow)
    found = calibration.probe(timer=clock, work=clock.work)
    assert found.rounds == 1 and found.scale == pytest.approx((min(slow, calibration.HIGHEST),) * 2)


def test_absurd_measurements_are_clamped():
    parts = [cost.fitted_parts(cost.work_units(cfg)[0]) for cfg in calibration.PROBES]
    fitted = [sum(p) for p in parts]
    lo, hi = calibration.LOWEST, calibration.HIGHEST
    assert calibration.fit(parts, [1000 * f for f in fitted]) == (hi, hi)
    assert calibration.fit(parts, [0.0] * len(parts)) == (lo, lo)
    assert calibration.fit(parts, [float("nan")] * len(parts)) == (1.0, 1.0)  # nothing measured: the fitted figures stay
    assert calibration.fit(parts, [float("inf")] + [3 * f for f in fitted[1:]]) == pytest.approx((3.0, 3.0))  # one bad probe is dropped


def test_a_fit_that_cannot_separate_the_parts_uses_one_factor():
    """measured = a * overhead + b * arith with b < 0 is noise, not a machine: the geometric mean of measured / fitted instead."""
    parts = [cost.Parts(1.0, 0.0), cost.Parts(1.0, 1.0)]
    assert calibration.fit(parts, [1.0, 0.5]) == pytest.approx((0.5, 0.5))  # sqrt(1/1 * 0.5/2)


def test_the_probe_is_small_and_separates_the_parts():
    """Its fitted work fits the 1 s budget with room for a host 3x slower; some probes are nearly all overhead, some mostly arithmetic."""
    parts = [cost.fitted_parts(cost.work_units(cfg)[0]) for cfg in (calibration.WARM_UP, *calibration.PROBES)]
    assert sum(map(sum, parts[1:])) * calibration.ROUNDS + sum(parts[0]) <= 1.0 / 3
    assert calibration.BUDGET_S <= 1.0
    assert {cfg.cell for cfg in calibration.PROBES} == set(CELLS)
    assert max(p.overhead / sum(p) for p in parts[1:]) > 0.95
    assert max(p.arith / sum(p) for p in parts[1:]) > 0.7


def test_the_probe_runs_the_real_passes(monkeypatch):
    """The real work function on every probe (a fake clock: the factor is whatever the counts say, not a time)."""
    monkeypatch.setattr(calibration, "ROUNDS", 1)
    ticks = iter(range(10_000))
    found = calibration.probe(timer=lambda: float(next(ticks)))
    assert found.rounds == 1 and len(found.cases) == len(calibration.PROBES)
    assert json.loads(json.dumps(found.to_dict()))["cases"][0]["config"] == calibration.PROBES[0].to_dict()


def test_the_background_starter_probes_once_and_the_fitted_figures_serve_until_then():
    host, release, calls = cost.HostScale(), threading.Event(), []
    clock = FakeClock(4.0, 4.0)

    def slow_calibrate():
        calls.append(threading.current_thread().name)
        release.wait(30)
        return calibration.calibrate(host=host, timer=clock, work=clock.work)

    starter = calibration.Starter(slow_calibrate, wait=lambda: None)
    starters = [threading.Thread(target=starter.start) for _ in range(8)]
    for t in starters:
        t.start()
    for t in starters:
        t.join(30)
    assert starter.start() is starter.thread and starter.thread.daemon
    assert host.get() == cost.Scale() and not host.calibrated  # still probing: the fitted figures
    release.set()
    starter.thread.join(30)
    assert calls == ["cost-calibration"] and host.get() == pytest.approx((4.0, 4.0))
    assert starter.result.scale == host.get()


class BusyProcess:
    """A fake process clock: busy (0.9 of a core) until `busy_until` seconds, then idle (0.05)."""

    def __init__(self, busy_until: float):
        self.now = self.used = 0.0
        self.busy_until = busy_until

    def clock(self) -> float:
        return self.now

    def cpu(self) -> float:
        return self.used

    def sleep(self, seconds: float) -> None:
        self.used += seconds * (0.9 if self.now < self.busy_until else 0.05)
        self.now += seconds


@pytest.mark.parametrize("busy_until", [0.0, 1.0, 3.2, 12.0])
def test_the_server_probe_waits_for_the_first_page_to_be_drawn(busy_until):
    """It starts in the first quiet window after the first wait: never while the process is busy with a page."""
    proc = BusyProcess(busy_until)
    waited = calibration.quiet_moment(proc.clock, proc.cpu, proc.sleep)
    first, window = calibration.FIRST_WAIT_S, calibration.QUIET_WINDOW_S
    assert waited >= max(first, busy_until) and waited == first + window * math.ceil(max(busy_until - first, 0) / window + 1)


def test_a_process_that_never_quiets_down_is_probed_after_the_longest_wait():
    proc = BusyProcess(float("inf"))
    waited = calibration.quiet_moment(proc.clock, proc.cpu, proc.sleep)
    assert calibration.LONGEST_WAIT_S <= waited < calibration.LONGEST_WAIT_S + calibration.QUIET_WINDOW_S


def test_a_failed_probe_leaves_the_fitted_figures():
    host = cost.HostScale()

    def broken():
        raise RuntimeError("no engine here")

    starter = calibration.Starter(broken, wait=lambda: None)
    starter.start().join(30)
    assert starter.result is None and host.get() == cost.Scale() and not host.calibrated


# ---- the command line ----


def cli(capsys, *args) -> dict:
    from engine.__main__ import main

    assert main(list(args)) == 0
    (line,) = capsys.readouterr().out.splitlines()
    return json.loads(line)


def test_cli_estimate_is_the_models_for_the_same_options(capsys, monkeypatch):
    monkeypatch.setattr(cost, "HOST", cost.HostScale())
    cfg = C(cell="gru", seq_len=70, hidden_size=40, batch_size=8, truncation=10, dtype="float64")
    opts = ["--cell", "gru", "--seq-len", "70", "--hidden-size", "40", "--batch-size", "8", "--truncation", "10", "--dtype", "float64"]
    one = cli(capsys, "estimate", *opts, "--json")
    assert one["config"] == cfg.to_dict() and not one["calibrated"]
    assert (one["seconds"], one["bytes"]) == tuple(cost.estimate(cfg))
    conn = cli(capsys, "estimate", *opts, "--connectivity")
    assert conn["seconds"] == cost.estimate(cfg, connectivity=True).seconds > one["seconds"]
    trained = cli(capsys, "estimate", *opts, "--steps", "30", "--every", "3")
    assert trained["seconds"] == cost.estimate(cfg, train_steps=30, every=3).seconds
    assert trained["seconds"] > cli(capsys, "estimate", *opts, "--steps", "30", "--every", "30")["seconds"]  # more snapshots


def test_cli_calibrate_measures_and_estimate_uses_it(capsys, monkeypatch):
    monkeypatch.setattr(cost, "HOST", cost.HostScale())
    clock = FakeClock(2.0, 3.0)
    real = calibration.probe
    monkeypatch.setattr(calibration, "probe", lambda: real(timer=clock, work=clock.work))  # what the CLI calls, on a fake clock
    found = cli(capsys, "calibrate", "--json")
    assert (found["overhead_factor"], found["arith_factor"]) == pytest.approx((2.0, 3.0))
    assert found["probe_cpu_seconds"] == clock.now and found["torch_threads"] == torch.get_num_threads()
    assert len(found["cases"]) == len(calibration.PROBES)
    monkeypatch.setattr(cost, "HOST", cost.HostScale())
    est = cli(capsys, "estimate", "--cell", "lstm", "--calibrate")
    assert est["calibrated"] and est["scale"] == pytest.approx({"overhead": 2.0, "arith": 3.0})
    assert est["seconds"] == pytest.approx(cost.estimate(C(cell="lstm"), scale=cost.Scale(2.0, 3.0)).seconds)


def test_estimate_by_default_is_the_hosts(monkeypatch):
    monkeypatch.setattr(cost, "HOST", cost.HostScale())
    cfg = C(cell="lstm", seq_len=2, hidden_size=1024, batch_size=2, init="normal")  # issue 5: 4 eig + SVD of 1024 x 1024 blocks
    fitted = cost.estimate(cfg).seconds
    assert np.isclose(fitted, cost.estimate(cfg, scale=cost.Scale()).seconds)
    cost.HOST.set(cost.Scale(1.0, 2.0))
    part = cost.fitted_parts(cost.work_units(cfg)[0])
    assert part.arith > 0.99 * sum(part)  # the H^3 factorisations are arithmetic
    assert cost.estimate(cfg).seconds == pytest.approx(part.overhead + 2 * part.arith)


# ---- the page ----


def test_the_page_starts_the_probe_once_and_shows_this_servers_estimate(monkeypatch):
    """Admission and the cost gate read the calibrated figures; the page says where they come from."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from ui.page import compute

    calls = []
    monkeypatch.setattr(calibration, "SERVER", calibration.Starter(lambda: calls.append(1), wait=lambda: None))
    monkeypatch.setattr(cost, "HOST", cost.HostScale())
    big = {"cell": "lstm", "seq_len": "2", "hidden_size": "1024", "batch_size": "2", "init": "normal"}  # 4 eig + SVD of 1024 x 1024
    cfg = C(cell="lstm", seq_len=2, hidden_size=1024, batch_size=2, init="normal")
    fitted = cost.estimate(cfg).seconds
    monkeypatch.setattr(compute, "LONG_RUN_S", 2 * fitted)
    assert compute.affordable(cfg)
    cost.HOST.set(cost.Scale(1.0, 3.0))
    assert not compute.affordable(cfg)  # this server is slower: the same setting now waits for a go-ahead
    monkeypatch.setattr(cost, "HOST", cost.HostScale())
    monkeypatch.setattr(compute, "LONG_RUN_S", 0.0)  # the page computes nothing here: it shows the estimate
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.query_params.update(big)
    at.run()
    assert f"about {fitted:.0f} s" in at.warning[0].value and "this server is still measuring its own speed" in at.warning[0].value
    cost.HOST.set(cost.Scale(1.0, 3.0))
    at.run()
    calibrated = cost.estimate(cfg).seconds
    assert calibrated > 2.5 * fitted  # the H^3 factorisations are arithmetic
    assert f"about {calibrated:.0f} s" in at.warning[0].value and "estimated on this server" in at.warning[0].value
    calibration.SERVER.thread.join(30)
    assert calls == [1]  # two page runs, one probe
