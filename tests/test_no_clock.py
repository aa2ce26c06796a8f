"""No test asserts on a time or a rate: a static scan of tests/*.py (issue 16).

A test that compares with the clock is a benchmark in disguise: it passes on one machine and
fails on a slower or busier one. Timed figures belong in bench/. Two honest, simple rules over
each `assert`'s condition (its message may say anything):

- no clock word: `_ms`, `per_s`, `elapsed`, `monotonic`, `perf_counter`, `process_time`,
  `performance.now`, `timeStamp` (not `seconds`: the cost model's estimates are in seconds,
  a model's output, not a clock reading);
- no value read from a Python clock (time.monotonic(), time.time(), ...) in the same function,
  followed through assignments, appends and loops.

Waiting for something with a generous timeout (a hang guard) never asserts on the clock, so it
passes. A helper or fixture in tests/ that returns a clock reading counts as a clock. What this
cannot see: a time measured in another process or in the browser, handed back under a neutral name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SAMPLES = TESTS / "clock_samples"  # source of made-up tests, planted clock asserts among them, that the scan must find
CLOCK_WORDS = re.compile(r"_ms\b|\bms_|per_s\b|elapsed|monotonic|perf_counter|process_time|thread_time|performance\.now|timeStamp")
CLOCK_CALLS = {"monotonic", "perf_counter", "process_time", "thread_time", "time", "now", "utcnow"}
CLOCK_MODULES = {"time", "datetime"}
ALLOWED = {
    # The Stop figures that bench/bench_browser.py prints, worked out on a record written by hand: arithmetic, no clock.
    ("test_browser_live.py", "test_stop_figures_read_a_hand_made_record"),
    # The animation's configured frame durations, read back from the figure Plotly gets: settings, no clock read.
    ("test_viz_backward_anim.py", "test_pace_and_reduced_motion"),
}


def _is_clock_call(node: ast.AST, helpers: frozenset = frozenset()) -> bool:
    """time.monotonic(), time.perf_counter_ns(), datetime.now() and the like, or a call of a tests/ helper that returns one."""
    if not isinstance(node, ast.Call):
        return False
    if isinstance(node.func, ast.Name):
        return node.func.id in helpers
    if not isinstance(node.func, ast.Attribute):
        return False
    name, owner = node.func.attr.removesuffix("_ns"), node.func.value
    owner_name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
    return (name in CLOCK_CALLS and owner_name in CLOCK_MODULES) or node.func.attr in helpers


def _reads_clock(node: ast.AST, tainted: set[str], helpers: frozenset = frozenset()) -> bool:
    return any(_is_clock_call(n, helpers) or (isinstance(n, ast.Name) and n.id in tainted) for n in ast.walk(node))


def _names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _tainted(function: ast.AST, helpers: frozenset = frozenset()) -> set[str]:
    """Names in the function that hold a clock reading or something computed from one (to a fixed point).

    A parameter named after a helper or fixture that returns a time (`measured`) holds one from the start.
    """
    tainted = {a.arg for a in function.args.args if a.arg in helpers}
    if not tainted and not any(_is_clock_call(n, helpers) for n in ast.walk(function)):
        return tainted  # most tests never read a clock
    while True:
        before = len(tainted)
        for node in ast.walk(function):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                if _reads_clock(node.value, tainted, helpers):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    tainted |= set().union(*map(_names, targets))
            elif isinstance(node, (ast.For, ast.comprehension)) and _reads_clock(node.iter, tainted, helpers):
                tainted |= _names(node.target)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                appended = any(_reads_clock(a, tainted, helpers) for a in node.args)
                if node.func.attr in ("append", "extend", "add", "update", "insert") and appended:
                    tainted.add(node.func.value.id)  # times.append(time.monotonic() - start)
        if len(tainted) == before:
            return tainted


def _returns_clock(function: ast.AST, helpers: frozenset) -> bool:
    tainted = _tainted(function, helpers)
    values = [n.value for n in ast.walk(function) if isinstance(n, (ast.Return, ast.Yield)) and n.value is not None]
    return any(_reads_clock(v, tainted, helpers) for v in values)


def clock_helpers(trees: list[ast.Module]) -> frozenset:
    """Module-level functions and fixtures in tests/ whose return (or yield) value is a time: calling one reads the clock."""
    functions = [f for tree in trees for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
    helpers: frozenset = frozenset()
    while True:
        found = frozenset(f.name for f in functions if _returns_clock(f, helpers))
        if found == helpers:
            return helpers
        helpers = found


def clock_asserts(source: str | ast.Module, filename: str = "<test>", helpers: frozenset | None = None) -> list[str]:
    """`file:line function: condition` for every assert whose condition reads the clock or names a time."""
    tree = ast.parse(source) if isinstance(source, str) else source
    helpers = clock_helpers([tree]) if helpers is None else helpers
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or (filename, function.name) in ALLOWED:
            continue
        tainted = _tainted(function, helpers)
        for node in ast.walk(function):
            if isinstance(node, ast.Assert):
                condition = ast.unparse(node.test)
                if CLOCK_WORDS.search(condition) or _reads_clock(node.test, tainted, helpers):
                    found.append((node.lineno, f"{filename}:{node.lineno} {function.name}: assert {condition}"))
    return [text for _, text in sorted(set(found))]


def test_no_test_asserts_on_a_time_or_a_rate():
    trees = {path.name: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(TESTS.glob("*.py"))}
    helpers = clock_helpers(list(trees.values()))
    found = [hit for name, tree in trees.items() for hit in clock_asserts(tree, name, helpers)]
    assert found == [], "asserts on a time (count steps, states or events instead; timed figures go to bench/):\n" + "\n".join(found)


def test_the_scan_finds_clock_assertions_and_passes_hang_guards():
    timed = (SAMPLES / "timed.txt").read_text(encoding="utf-8")  # planted offenders: kept out of .py files, which are scanned
    names = ["test_stop_is_fast", "test_figures", "test_rate", "test_cpu", "test_stamp", "test_estimate_within_a_factor_of_two"]
    assert _functions(clock_asserts(timed)) == names, clock_asserts(timed)
    guarded = (SAMPLES / "guarded.txt").read_text(encoding="utf-8")
    assert clock_asserts(guarded) == []
    allowed = timed.replace("def test_figures", "def test_stop_figures_read_a_hand_made_record")
    assert _functions(clock_asserts(allowed, "test_browser_live.py")) == [n for n in names if n != "test_figures"]
    assert len(clock_asserts(allowed, "test_other.py")) == len(names)  # the allow-list names one test in one file


def _functions(hits: list[str]) -> list[str]:
    return [hit.split(" ")[1].rstrip(":") for hit in hits]
