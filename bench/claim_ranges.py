"""The ranges the Learn tab and the lessons quote, measured over seeds 0-49 with the lessons' own checks.

Writes ui/teaching/learn/claims.toml with --write.

Each claim is a setting and a check of ui/teaching/lessons.py (a lesson's, one of its `also` scenarios, or a check
kind with the Learn text's own parameters); its number over the seeds is the check's value (end-to-end ratio,
orders of magnitude lost, factor per step, overflow step). The Learn Markdown (ui/teaching/learn/*.md) quotes
them as {{name}} placeholders, so no range is typed by hand. Two training claims (Training tab defaults, 1000
steps of Adam: ~25 s a seed here) run on every fifth seed of 0-49 (10 seeds) to keep the run under 10 minutes;
the file and the text say so.

    .venv/bin/python bench/claim_ranges.py            # print the ranges
    .venv/bin/python bench/claim_ranges.py --write    # and write ui/teaching/learn/claims.toml
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from engine import TASKS, run, train  # noqa: E402
from engine.config import field_info  # noqa: E402
from ui.page.widget_values import config_for  # noqa: E402
from ui.serving import limits  # noqa: E402
from ui.teaching import lessons  # noqa: E402
from ui.teaching.learn_text import CLAIMS_FILE, claims  # noqa: E402

SEEDS = range(50)
TRAINING_SEEDS = range(0, 50, 5)  # every fifth: 1000 training steps cost ~25 s a seed on a 2-core machine
CAP = limits.caps({})
TRIVIAL = TASKS["adding"].trivial_loss
LEARNED = TRIVIAL / 10  # "learns": the last 100 steps' mean loss below a tenth of the trivial loss (tests/test_training_defaults.py)

# name: (settings, check: a lesson slug with optional `when`, or {kind, parameters}, how the number is written)
EXPLODING = {"cell": "rnn", "activation": "linear", "recurrent_scale": 1.3, "seq_len": 300}
TANH15 = {"activation": "tanh", "recurrent_scale": 1.5, "seq_len": 100}
LRU_RNN = {"cell": "rnn", "activation": "tanh", "init": "identity", "recurrent_scale": 0.99, "seq_len": 200}  # the LRU lesson's compare
CLAIMS = {
    "exploding_t300_overflow_step": (EXPLODING, ("exploding", {"seq_len": 300}), "step"),
    "tanh15_factor": (TANH15, {"kind": "factor", "between": [0, 10], "seeds": [0, 0]}, "factor"),
    "irnn_ratio": ({}, ("irnn", {}), "ratio"),
    "irnn095_ratio": ({"recurrent_scale": 0.95}, ("irnn", {}), "ratio"),
    "irnn095_factor": ({}, ("irnn", {"recurrent_scale": 0.95}), "factor"),
    "irnn105_ratio": ({"recurrent_scale": 1.05}, ("irnn", {}), "ratio"),
    "irnn105_factor": ({}, ("irnn", {"recurrent_scale": 1.05}), "factor"),
    "irnn_tanh_ratio": ({}, ("irnn", {"activation": "tanh"}), "ratio"),
    "vanishing09_ratio": ({}, ("vanishing-tanh", {}), "ratio"),
    "vanishing10_ratio": ({}, ("vanishing-tanh", {"recurrent_scale": 1.0}), "ratio"),
    "lstm_fb0_orders": ({}, ("lstm-forget-gate", {}), "orders"),
    "lstm_fb1_orders": ({}, ("lstm-forget-gate", {"forget_bias": 1.0}), "orders"),
    "lstm_fb3_orders": ({}, ("lstm-forget-gate", {"forget_bias": 3.0}), "orders"),
    "gru_orders": ({}, ("gru", {}), "orders"),
    "lru_rnn_orders": (LRU_RNN, {"kind": "flat", "between": [0, 1], "seeds": [0, 0]}, "orders"),
}


def lesson_scenario(slug: str, when: dict):
    lesson = lessons.get(slug)
    if not when:
        return lesson, dict(lesson.settings)
    scenario = next((sc for sc in lesson.scenarios if sc.when == when), None)
    return (scenario or lesson), {**lesson.settings, **when}


def measure(settings: dict, check) -> list[float]:
    """The check's number on every seed (NaN where the check has none)."""
    if isinstance(check, tuple):
        scenario, base = lesson_scenario(*check)
    else:
        scenario, base = lessons.Scenario({}, "", check), {}
    out = []
    for seed in SEEDS:
        trace = run(config_for({**base, **settings, "seed": seed}, CAP))
        value = lessons.check(scenario, trace).value
        out.append(lessons.orders(value) if check_is_ratio_for_orders(check, scenario) else value)
    return out


def check_is_ratio_for_orders(check, scenario) -> bool:
    """A flat/vanishing check read as orders of magnitude lost (the LRU lesson's RNN comparison)."""
    return not isinstance(check, tuple) and check.get("kind") == "flat" and check.get("between") == [0, 1]


def text(lo: float, hi: float, form: str) -> str:
    if form == "orders":
        a, b = f"{lo:.1f}", f"{hi:.1f}"
    elif form == "factor":
        a, b = f"{lo:.2f}", f"{hi:.2f}"
    elif form == "step":
        a, b = f"{lo:.0f}", f"{hi:.0f}"
    else:
        a, b = lessons.fmt(lo), lessons.fmt(hi)
    return a if a == b else f"{a} to {b}"


def training(cfg_settings: dict, steps: int) -> list[dict]:
    """Per seed: the last 100 steps' mean loss, and the first step whose 100-step mean falls under half the trivial loss."""
    out = []
    for seed in TRAINING_SEEDS:
        losses = []
        for snap in train(config_for({**cfg_settings, "seed": seed}, CAP), steps, every=field_info("every")["hi"]):
            losses.extend(snap.history["loss"].tolist())
        means = np.convolve(losses, np.ones(100) / 100, mode="valid")
        left = np.flatnonzero(means < TRIVIAL / 2)
        out.append({"last100": float(np.mean(losses[-100:])), "leaves": int(left[0]) + 100 if left.size else math.inf})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write {CLAIMS_FILE.relative_to(ROOT)}")
    ap.add_argument("--no-training", action="store_true", help="skip the two training claims (~8 minutes); --write keeps their rows")
    args = ap.parse_args()
    rows = {}
    start = time.perf_counter()
    for name, (settings, check, form) in CLAIMS.items():
        values = np.asarray(measure(settings, check), float)
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        rows[name] = {"lo": lo, "hi": hi, "text": text(lo, hi, form), "seeds": "0-49", "n": len(values)}
        print(f"{name:32s} {rows[name]['text']:>20s}   (seeds 0-49)", flush=True)
    print(f"runs: {time.perf_counter() - start:.0f} s", flush=True)
    if not args.no_training:
        steps = field_info("steps")["default"]
        seeds = f"{TRAINING_SEEDS.start}-{TRAINING_SEEDS.stop - 1} step {TRAINING_SEEDS.step}"
        lstm = training({"cell": "lstm", "seq_len": 50}, steps)
        learned = [r for r in lstm if r["last100"] < LEARNED]
        last = [r["last100"] for r in lstm]
        leaves = [r["leaves"] for r in learned]

        def row(lo, hi, shown, n):
            return {"lo": lo, "hi": hi, "text": shown, "seeds": seeds, "n": n}

        rows["lstm_t50_learned"] = row(len(learned), len(lstm), f"{len(learned)} of {len(lstm)}", len(lstm))
        rows["lstm_t50_last100"] = row(min(last), max(last), text(min(last), max(last), "ratio"), len(lstm))
        if leaves:
            rows["lstm_t50_leaves"] = row(min(leaves), max(leaves), text(min(leaves), max(leaves), "step"), len(leaves))
        rnn = [r["last100"] for r in training({"cell": "rnn", "seq_len": 100}, steps)]
        rows["rnn_t100_last100"] = row(min(rnn), max(rnn), text(min(rnn), max(rnn), "ratio"), len(rnn))
        for name in ("lstm_t50_learned", "lstm_t50_last100", "lstm_t50_leaves", "rnn_t100_last100"):
            if name in rows:
                print(f"{name:32s} {rows[name]['text']:>20s}   (seeds {rows[name]['seeds']})", flush=True)
    print(f"total: {time.perf_counter() - start:.0f} s")
    if args.write:
        kept = {k: v for k, v in claims().items() if k not in rows} if args.no_training and CLAIMS_FILE.exists() else {}
        lines = ["# Written by bench/claim_ranges.py: each check's number over the seeds named (lo, hi, as shown). Do not edit.\n"]
        for name, r in {**rows, **kept}.items():
            lines.append(f'\n[{name}]\nlo = {r["lo"]!r}\nhi = {r["hi"]!r}\ntext = "{r["text"]}"\nseeds = "{r["seeds"]}"\nn = {r["n"]}\n')
        CLAIMS_FILE.write_text("".join(lines))
        print(f"wrote {CLAIMS_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
