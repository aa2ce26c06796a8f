"""Contracts of the engine's edges: Config refuses every bad input by name, overflow is said in words,
connectivity under truncation shows what training carries, and imports point one way."""

import ast
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import torch
from reference import equation_step, task_loss

from engine import Config, ConfigError, run
from engine.model import Model

ROOT = Path(__file__).resolve().parents[1]
WRONG = [
    None,
    [],
    {},
    (1,),
    np.array([1, 2]),
    np.array(["rnn"]),
    object(),
    b"rnn",
    1j,
    True,
    float("nan"),
    float("inf"),
    10**400,
    -(10**400),
    -1,
    1e300,
    "",
    "x" * 5000,
    "1" * 5000,
]


@pytest.mark.parametrize("name", [f.name for f in fields(Config)])
def test_every_wrong_value_of_every_field_is_a_config_error_naming_it(name):
    default = getattr(Config(), name)
    for value in WRONG:
        if isinstance(value, type(default)) and not isinstance(value, bool):
            try:
                Config(**{name: value})
            except ConfigError as err:
                assert err.field in (name, "seq_len", "truncation", "k1", "k2")
            continue  # a value of the right type may be valid
        with pytest.raises(ConfigError) as info:
            Config(**{name: value})
        assert info.value.field == name, (name, value)


def test_the_two_reported_bad_inputs():
    with pytest.raises(ConfigError, match="recurrent_scale"):
        Config(recurrent_scale=10**400)
    with pytest.raises(ConfigError, match="cell"):
        Config(cell=np.array([1, 2]))


@pytest.mark.parametrize(
    "cfg, steps",
    [
        (
            Config(activation="linear", task="first", init="identity", recurrent_scale=2.0, seq_len=33, hidden_size=2, batch_size=16),
            "float32",
        ),
        (
            Config(
                activation="linear",
                task="first",
                init="identity",
                recurrent_scale=10.0,
                seq_len=90,
                hidden_size=2,
                batch_size=16,
                dtype="float64",
            ),
            "float64",
        ),
    ],
)
def test_every_out_of_range_number_is_said_in_words(cfg, steps):
    t = run(cfg)
    limit = np.finfo(cfg.dtype).max
    bad = ~np.isfinite(t.contrib) | (t.contrib > limit)
    assert bad.any() and t.nonfinite
    msg = t.overflow_message()
    assert "contrib" in msg and steps in msg and f"{np.flatnonzero(bad)[0]}-" in msg
    assert t.to_dict()["overflow_message"] == msg


def test_an_infinite_theory_bound_is_explained():
    t = run(Config(init="normal", seq_len=2000, hidden_size=8, batch_size=2))
    assert not np.isfinite(t.bound).all()
    note = t.bound_note()
    assert "upper bound, not a measurement" in note and note in t.overflow_message()
    assert run(Config(seq_len=20)).bound_note() is None


def truncated_connectivity(cfg, K):
    """conn_x[t, k] by autograd with the state detached every K steps: what truncated training carries."""
    model = Model(cfg)
    batch = model.batch(0)
    P = {k: v.detach().double() for k, v in model.params.items()}
    x = torch.as_tensor(batch.x).requires_grad_(True)
    T, B, _ = x.shape
    state = (torch.zeros(B, cfg.hidden_size, dtype=torch.float64),) * (2 if cfg.cell == "lstm" else 1)
    feats = []
    for t in range(T):
        if t % K == 0:
            state = tuple(s.detach() for s in state)
        state, f = equation_step(cfg, P, x[t], state)
        feats.append(f)
    rows = np.zeros((T, T))
    target = batch.row_targets()
    for t in range(T):
        y = feats[t] @ P["head_weight"].T + P["head_bias"]
        loss = task_loss(type(batch)(batch.x, target[t : t + 1], np.array([t]), batch.kind), [y]).sum()
        (g,) = torch.autograd.grad(loss, x, retain_graph=True)
        rows[t] = g.norm(dim=-1).mean(-1).numpy()
    return rows


@pytest.mark.parametrize("cell", ["rnn", "lstm", "lru"])
def test_connectivity_under_truncation_is_what_the_truncated_gradient_carries(cell):
    cfg = Config(cell=cell, task="sine", seq_len=12, hidden_size=4, batch_size=3, dtype="float64", truncation=4)
    t = run(cfg, connectivity=True)
    assert t.conn_truncated
    ref = truncated_connectivity(cfg, 4)
    np.testing.assert_allclose(t.conn_x, ref, rtol=1e-10, atol=1e-14)
    assert np.all(t.conn_x[11, :8] == 0) and np.all(t.conn_x[11, 8:] > 0)
    full = run(cfg, connectivity=True, conn_full=True)
    assert not full.conn_truncated and np.all(full.conn_x[11, :8] > 0)
    np.testing.assert_array_equal(t.blocks, np.array(cfg.truncation_blocks()))


def imports_of(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "package, banned", [("engine", {"streamlit", "plotly", "ui", "viz"}), ("viz", {"torch", "streamlit", "engine", "ui"})]
)
def test_imports_point_one_way(package, banned):
    found = {str(p.relative_to(ROOT)): imports_of(p) & banned for p in sorted((ROOT / package).rglob("*.py"))}
    assert {k: v for k, v in found.items() if v} == {}
