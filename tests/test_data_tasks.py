"""The real-data tasks (nile, co2, sunspots, series, text) and the task chart's record, against oracles.

Oracles: the bundled files read with the csv module, torch's cross-entropy, and an autograd
unroll of the cell equations loaded with the model's weights (tests/definitions.py).
"""

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from definitions import params64, unroll

from engine import Config, ConfigError, run, to_json, train
from engine.__main__ import main
from engine.data import DATA_DIR, SERIES, DataError, builtin_text, sha256_of
from engine.model import Model

SMALL = dict(seq_len=12, hidden_size=6, batch_size=4, dtype="float64", seed=3)
WAVE = np.sin(0.4 * np.arange(80)) + 0.01 * np.arange(80)  # a series passed as an array


def column(name: str) -> np.ndarray:
    """A bundled series read with the csv module alone."""
    b = SERIES[name]
    with open(DATA_DIR / b.file, newline="") as f:
        return np.array([float(row[b.column]) for row in csv.DictReader(f)])


def outputs(model: Model, x: np.ndarray) -> np.ndarray:
    """(T, B, O) read-out of the cell equations, by the test's own unroll, with the model's weights."""
    P = params64(model)
    hs = torch.stack(unroll(model.cfg, P, x))
    return (hs @ P["head_weight"].T + P["head_bias"]).detach().numpy()


@pytest.mark.parametrize(
    "cell,task,data",
    [
        ("rnn", "nile", None),
        ("lstm", "co2", None),
        ("gru", "sunspots", None),
        ("rnn", "series", WAVE),
        ("lstm", "text", None),
        ("gru", "copy", None),
    ],
)
def test_the_task_chart_shows_the_models_own_prediction(cell, task, data):
    cfg = Config(cell=cell, task=task, **SMALL)
    model = Model(cfg, data)
    ex = run(cfg, data=data).example
    b = model.example_batch()
    y = outputs(model, b.x)[:, 0]
    if ex["kind"] == "mse":
        np.testing.assert_allclose(ex["prediction"], y[:, 0], rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(ex["target"], b.target[:, 0, 0])
        np.testing.assert_array_equal(ex["input"], b.x[:, 0])
    else:
        p = torch.softmax(torch.as_tensor(y), -1).numpy()
        np.testing.assert_array_equal(ex["prediction"], p.argmax(-1))
        np.testing.assert_allclose(ex["p_target"], p[np.arange(cfg.seq_len), b.target[:, 0]], rtol=1e-10)
        np.testing.assert_array_equal(ex["input"], b.x[:, 0].argmax(-1))
    assert ex["measures"].startswith("The loss is")


def test_a_series_example_is_a_test_window_the_training_never_sees():
    values = column("nile")
    cfg = Config(task="nile", **SMALL)
    w = Model(cfg).windows
    ex = run(cfg).example
    start = w.n_train  # the first test window
    np.testing.assert_allclose(ex["input"][:, 0] * w.std + w.mean, values[start : start + 12], rtol=1e-12)
    np.testing.assert_allclose(ex["target"] * w.std + w.mean, values[start + 1 : start + 13], rtol=1e-12)
    train_part = values[: w.n_train + 12]
    assert w.mean == pytest.approx(train_part.mean(), rel=1e-12) and w.std == pytest.approx(train_part.std(), rel=1e-12)


def test_snapshots_carry_the_prediction_before_and_after_training():
    cfg = Config(task="sine", seq_len=10, hidden_size=8, batch_size=8, seed=1)
    snaps = list(train(cfg, 40, 39))
    first, last = snaps[0].trace.example, snaps[-1].trace.example
    np.testing.assert_array_equal(first["prediction"], run(cfg).example["prediction"])  # step 0: the initial weights
    np.testing.assert_array_equal(first["input"], last["input"])  # one sequence, two predictions
    err = [np.mean((e["prediction"] - e["target"]) ** 2) for e in (first, last)]
    assert err[1] < err[0]  # 40 Adam steps on the sine: the chart shows the prediction that learned


def test_the_text_loss_is_torch_cross_entropy_of_the_next_character():
    cfg = Config(cell="lstm", task="text", seq_len=30, hidden_size=8, batch_size=3, dtype="float64", seed=5)
    model = Model(cfg)
    b = model.batch(0)
    text = builtin_text().text
    chars = "".join(chr(32 + i - 1) if i else "\n" for i in range(96))  # the alphabet's order: newline, then ASCII 32..126
    for s in range(cfg.batch_size):
        window = "".join(chars[i] for i in b.x[:, s].argmax(-1)) + chars[b.target[-1, s]]
        assert window in text  # input and next characters are a stretch of the passage
        np.testing.assert_array_equal(b.target[:-1, s], b.x[1:, s].argmax(-1))  # the target is the next input
    y = torch.as_tensor(outputs(model, b.x))  # (T, B, V)
    want = torch.nn.functional.cross_entropy(y.reshape(-1, y.shape[-1]), torch.as_tensor(b.target).reshape(-1))
    assert run(cfg).loss == pytest.approx(want.item(), rel=1e-12)


def test_your_own_text_and_series_go_in_as_a_string_and_an_array():
    t = run(Config(task="text", **SMALL), data="the quick brown fox jumps over the lazy dog")
    assert t.data["sha256"] == sha256_of("the quick brown fox jumps over the lazy dog") and t.data["count"] == 43
    s = run(Config(task="series", **SMALL), data=WAVE)
    assert s.data["sha256"] == sha256_of(WAVE) and s.data["source"] == "array"
    assert json.loads(to_json(s))["data"]["sha256"] == sha256_of(WAVE)
    with pytest.raises(DataError, match="needs data"):
        run(Config(task="series", **SMALL))
    with pytest.raises(DataError, match="seq_len"):
        run(Config(task="series", **SMALL), data=WAVE[:13])


def test_config_refuses_windows_longer_than_a_bundled_series():
    assert Config(task="nile", seq_len=98).seq_len == 98
    with pytest.raises(ConfigError) as err:
        Config(task="nile", seq_len=99)
    assert err.value.field == "seq_len" and "98" in str(err.value)


def cli(capsys, *args):
    try:
        code = main(list(args))
    except SystemExit as done:
        code = done.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("name", sorted(SERIES))
def test_cli_runs_each_bundled_file_and_names_its_source_and_hash(capsys, name):
    path = str(DATA_DIR / SERIES[name].file)
    code, out, err = cli(capsys, "run", "--series", path, "--column", SERIES[name].column, "--seq-len", "8", "--hidden-size", "3", "--json")
    assert code == 0 and err == ""
    d = json.loads(out)
    assert d["config"]["task"] == "series" and d["data"]["source"] == path
    assert d["data"]["sha256"] == sha256_of(column(name)) and d["data"]["count"] == SERIES[name].count


def test_cli_text_file_and_train(capsys, tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("to be or not to be, that is the question")
    code, out, _ = cli(capsys, "train", "--text", str(f), "--seq-len", "6", "--hidden-size", "3", "--steps", "2", "--every", "1", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 2 and all(d["data"]["sha256"] == sha256_of(f.read_text()) for d in lines)
    assert lines[0]["example"]["input_chars"] in f.read_text()


@pytest.mark.parametrize(
    "content,args,words",
    [
        (b"", [], "empty"),
        (b"1\n2\nabc\n", [], "'abc' is not a number"),
        (bytes(range(256)), [], "binary"),
        (b"a,b\n1,2\n3,4\n5,6\n", ["--column", "c"], "no column named 'c'"),
        (b"1\n2\n3\n4\n5\n", ["--seq-len", "10"], "--seq-len"),
        (b"1\n2\n3\n4\n5\n", ["--task", "nile"], "--task"),
    ],
)
def test_cli_bad_files_exit_2_with_one_line(capsys, tmp_path, content, args, words):
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    code, out, err = cli(capsys, "run", "--series", str(f), *args, "--json")
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err


def test_cli_missing_file_and_misused_flags_exit_2(capsys, tmp_path):
    for argv, words in [
        (["run", "--series", str(tmp_path / "none.csv")], "cannot read"),
        (["run", "--column", "x"], "--column"),
        (["run", "--series", str(DATA_DIR / "nile.csv"), "--text", str(DATA_DIR / "gettysburg.txt")], "not both"),
        (["run", "--task", "series"], "needs data"),
    ]:
        code, out, err = cli(capsys, *argv, "--json")
        assert code == 2 and out == "" and err.count("\n") == 1 and words in err, argv


def test_the_bundled_files_have_their_source_and_licence_beside_them():
    readme = (Path(DATA_DIR) / "README.md").read_text()
    for name in [b.file for b in SERIES.values()] + ["gettysburg.txt"]:
        row = next(line for line in readme.splitlines() if f"`{name}`" in line)
        assert "public domain" in row and ("via" in row or "Library of Congress" in row), name
    assert io.StringIO(readme).read().count("statsmodels") >= 1


def test_the_exported_command_line_names_the_data_file_and_reproduces_the_run(capsys, tmp_path):
    import shlex

    from engine.data import parse_series
    from engine.export import command_line

    f = tmp_path / "mine.csv"
    f.write_text("t;v\n" + "\n".join(f"{i};{np.sin(i / 3):.6f}".replace(".", ",") for i in range(40)))
    cfg = Config(task="series", seq_len=7, hidden_size=3, batch_size=2)
    words = shlex.split(command_line(cfg, data_file=str(f)))
    assert words[-3:] == ["--series", str(f), "--json"]
    code, out, _ = cli(capsys, *words[3:])
    want = json.loads(to_json(run(cfg, data=parse_series(f.read_bytes(), source=str(f)))))
    assert code == 0 and json.loads(out) == want


def test_the_trust_badge_checks_a_run_on_your_own_data():
    from engine.check import verify

    assert verify(Config(task="series", seq_len=10, hidden_size=4, batch_size=3), data=WAVE).ok
    assert verify(Config(task="text", cell="lstm", seq_len=10, hidden_size=4, batch_size=3), data="a b c d e f g h i j k l m").ok


def test_the_exported_python_reads_the_data_file_and_reproduces_the_run(tmp_path, monkeypatch):
    from engine.data import parse_text
    from engine.export import python_snippet

    (tmp_path / "my_text.txt").write_text("a rose is a rose is a rose")
    cfg = Config(task="text", seq_len=6, hidden_size=3, batch_size=2)
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(python_snippet(cfg, data_file="my_text.txt"), scope)  # noqa: S102 - the snippet the page shows, run as a reader would
    want = run(cfg, data=parse_text("a rose is a rose is a rose"))
    np.testing.assert_array_equal(scope["trace"].grad_h, want.grad_h)
    assert scope["trace"].data["sha256"] == want.data["sha256"] and "data=data" in python_snippet(cfg, steps=3, data_file="x.txt")
