"""ui/'s layout: every module imports without doing anything but defining, and no ui module imports itself in a circle.

Side effects: each module is imported in a fresh interpreter from a copy of ui/ in a temporary
folder (its static/ would be created there), from an empty working directory, and what a module
could change outside itself is compared before and after: files, Plotly's default template, the
GIL switch interval, logger levels, the environment, running threads. Cycles: the import graph is
read from the files with ast, lazy imports inside functions included (the circle between controls
and lessons ran through them). Each check is shown to fail on a planted offender.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 240  # against hangs only: a fresh interpreter imports torch, Streamlit and every ui module

# Runs in one fresh interpreter: argv[1:] are folders, each holding a package `ui` to check, probed in that order (the
# real copy first, so its imports meet a fresh interpreter). Before the next folder, its `ui` modules leave sys.modules.
PROBE = textwrap.dedent(
    """
    import json, logging, os, pkgutil, sys, threading
    from pathlib import Path
    import numpy, plotly.io as pio, streamlit, torch  # third-party imports first: their own effects are not ui's

    def probe(root):
        def state():
            loggers = logging.root.manager.loggerDict.items()
            return {
                "template": pio.templates.default,
                "switch interval": sys.getswitchinterval(),
                "logger levels": {n: lg.level for n, lg in loggers if isinstance(lg, logging.Logger) and lg.level},
                "environment": dict(os.environ),
                "threads": sorted(t.name for t in threading.enumerate()),
                "files": sorted(str(p.relative_to(root)) for p in root.rglob("*") if "__pycache__" not in p.parts),
                "working directory": sorted(os.listdir(".")),
            }
        os.chdir(root / "cwd")
        sys.path.insert(0, str(root))
        import ui
        before, changed = state(), {}
        modules = sorted(m.name for m in pkgutil.walk_packages(ui.__path__, "ui."))
        for name in modules:
            __import__(name)
            now = state()
            for what in before:
                if now[what] != before[what] and what not in changed:
                    changed[what] = name
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == "ui" or m.startswith("ui.")]:
            del sys.modules[name]
        return {"changed": changed, "modules": modules}

    print(json.dumps([probe(Path(folder)) for folder in sys.argv[1:]]))
    """
)

PLANTS = {
    "a_template": "import plotly.io as pio\npio.templates.default = 'plotly_dark'\n",
    "b_switch": "import sys\nsys.setswitchinterval(0.0005)\n",
    "c_copy": "from pathlib import Path\n(Path(__file__).resolve().parents[2] / 'static').mkdir()\n",
    "d_logger": "import logging\nlogging.getLogger('streamlit.elements.lib.policies').setLevel(logging.ERROR)\n",
    "e_env": "import os\nos.environ['RNNLAB_PLANTED'] = '1'\n",
    "f_file": "open('written.txt', 'w').close()\n",
}


def import_effects(*roots: Path) -> list[tuple[dict[str, str], list[str]]]:
    """For each root: ({what changed: the first ui module whose import changed it}, the modules imported); one fresh
    interpreter for all roots (each pays a torch and Streamlit import), run from each root's empty cwd/ in turn."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    argv = [sys.executable, "-B", "-c", PROBE, *map(str, roots)]
    done = subprocess.run(argv, cwd=roots[0] / "cwd", env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return [(f["changed"], f["modules"]) for f in found]


def copy_of_ui(tmp: Path) -> Path:
    """A folder holding a copy of ui/ (and nothing else of the repository): its static/ would appear beside it."""
    shutil.copytree(ROOT / "ui", tmp / "ui", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "cwd").mkdir()
    return tmp


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """(the real ui's copy, its effects), (the planted copy, its effects): both probed by one interpreter."""
    real, planted = copy_of_ui(tmp_path_factory.mktemp("real")), copy_of_ui(tmp_path_factory.mktemp("planted"))
    for name, body in PLANTS.items():
        (planted / "ui" / "serving" / f"{name}.py").write_text(f'"""Planted."""\n{body}')
    real_found, planted_found = import_effects(real, planted)
    return (real, real_found), (planted, planted_found)


def test_importing_any_ui_module_changes_nothing_outside_it(probed):
    root, (changed, modules) = probed[0]
    assert len(modules) >= 30 and {"ui.page.charts", "ui.serving.admission", "ui.teaching.lessons"} <= set(modules)
    assert changed == {}
    assert not (root / "static").exists()  # plotly.js is copied by boot.start(), not by an import


def test_the_import_probe_names_each_planted_offender(probed):
    root, (found, modules) = probed[1]
    assert {f"ui.serving.{name}" for name in PLANTS} <= set(modules)  # the planted copy, not the real one, was imported
    assert found == {
        "template": "ui.serving.a_template",
        "switch interval": "ui.serving.b_switch",
        "files": "ui.serving.c_copy",
        "logger levels": "ui.serving.d_logger",
        "environment": "ui.serving.e_env",
        "working directory": "ui.serving.f_file",
    }


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path, package: str = "ui") -> dict[str, set[str]]:
    """{module: the modules of `package` it imports}, from the source files under root/package, imports in functions included."""
    files = {_module_name(p, root): p for p in (root / package).rglob("*.py")}
    graph = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                    base = f"{anchor}.{base}" if base else anchor
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            else:
                continue
            edges |= {t for t in targets if t in files and t != name}
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted: a group is a circle of imports."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def test_no_ui_module_imports_itself_in_a_circle():
    graph = import_graph(ROOT)
    assert len(graph) >= 30 and "ui.page.widget_values" in graph["ui.teaching.lessons"]  # the graph was read
    assert cycles(graph) == []


def test_a_planted_circle_is_found_through_a_lazy_relative_import(tmp_path):
    pkg = tmp_path / "ui"
    for folder in ("", "page", "teaching"):
        (pkg / folder).mkdir(exist_ok=True)
        (pkg / folder / "__init__.py").write_text('"""Planted."""\n')
    (pkg / "page" / "controls.py").write_text("from ui.teaching import lessons\nfrom . import links\n")
    (pkg / "page" / "links.py").write_text("import json\n")
    (pkg / "teaching" / "lessons.py").write_text("def resolve():\n    from ..page import controls\n")
    (pkg / "teaching" / "steps.py").write_text("from .lessons import resolve\n")
    graph = import_graph(tmp_path)
    assert graph["ui.teaching.lessons"] == {"ui.page.controls"} and graph["ui.teaching.steps"] == {"ui.teaching.lessons"}
    assert cycles(graph) == [["ui.page.controls", "ui.teaching.lessons"]]
    (pkg / "teaching" / "lessons.py").write_text("def resolve():\n    return None\n")
    assert cycles(import_graph(tmp_path)) == []


def test_the_switch_interval_is_short_while_a_worker_trains_and_the_processs_own_comes_back_after_the_last():
    from ui.page.switch_interval import SwitchInterval

    own = sys.getswitchinterval()
    quick = SwitchInterval(own / 10)
    with quick:
        assert sys.getswitchinterval() == pytest.approx(own / 10, rel=1e-3) and quick.inside == 1
        try:
            with quick:  # a second worker (a compared run), ended by an error
                raise RuntimeError
        except RuntimeError:
            pass
        assert sys.getswitchinterval() == pytest.approx(own / 10, rel=1e-3) and quick.inside == 1  # the first one still trains
    assert sys.getswitchinterval() == own and quick.inside == 0
    with SwitchInterval(own * 10):  # never lengthened
        assert sys.getswitchinterval() == own
    assert sys.getswitchinterval() == own
