"""The CLI and the API use one BLAS/torch thread unless told otherwise; running out of memory is exit code 2 and one line."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from engine.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SHOW = "import os, torch; print(torch.get_num_threads(), *(os.environ.get(v) for v in {vars!r}))"


def python(code: str, env_extra: dict, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    env.update(env_extra, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, **kw)


def test_importing_the_engine_limits_threads_unless_the_environment_or_the_caller_chose():
    show = SHOW.format(vars=THREAD_VARS)
    assert python("import engine; " + show, {}).stdout.split() == ["1", "1", "1", "1"]
    chosen = python("import engine; " + show, {"OMP_NUM_THREADS": "2"}).stdout.split()
    assert chosen == ["2", "2", "None", "None"]  # one variable set is the caller's choice: the engine adds none
    torch_first = python("import torch; import engine; " + show, {}).stdout.split()
    assert torch_first[1:] == ["None", "None", "None"]  # torch already set up its pool: the engine leaves it alone


def test_out_of_memory_is_exit_code_2_and_one_line():
    """A real allocation failure: the process may use 3 GB of address space, the setting needs ~16 GB at once."""

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    args = ["-m", "engine", "run", "--cell", "lstm", "--seq-len", "2000", "--hidden-size", "1024", "--batch-size", "512", "--json"]
    env = {k: v for k, v in os.environ.items()}
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, preexec_fn=limit)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    # Refused by the estimate against the free memory (engine/memory.py), or, where more is free, by the failed allocation
    assert len(lines) == 1 and lines[0].startswith(("error: this setting needs about", "error: out of memory: this setting needs about"))


def test_a_memory_error_from_numpy_is_the_same_one_line(monkeypatch, capsys):
    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(engine, "run", no_memory)
    with pytest.raises(SystemExit) as done:
        main(["run", "--seq-len", "5", "--json"])
    out = capsys.readouterr()
    assert done.value.code == 2 and out.out == "" and len(out.err.strip().splitlines()) == 1 and "out of memory" in out.err
