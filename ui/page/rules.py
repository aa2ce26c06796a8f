"""Settings that depend on each other (k <= T, k1 <= k2, the adding problem's T >= 2), settled in words.

A value the user set survives every other control's change. Only a value that became
impossible is changed, and each change comes with a sentence that says what and why. Between
k1 and k2 the control just moved keeps its value and the other one gives way; a value that is
impossible on its own (k above T, T = 1 for the adding problem) is pulled to the nearest
possible one.
"""

from __future__ import annotations

SYMBOL = {"seq_len": "T", "truncation": "k", "task": "the task"}


def settle(values: dict, cap: dict, moved: str | None = None) -> tuple[dict, list[str]]:
    """(changes, notes) that make the widget values one valid Config; moved = the control just changed."""
    v, changes, notes = dict(values), {}, []

    def change(name, new, why):
        if v.get(name) != new:
            notes.append(f"{why}: {SYMBOL.get(name, name)} changed from {v.get(name)} to {new}.")
            v[name] = changes[name] = new

    if v.get("task") == "adding" and v.get("seq_len", 2) < 2:
        if cap["seq_len"] >= 2:
            change("seq_len", 2, "The adding problem needs at least 2 steps (it adds two marked inputs)")
        else:
            change("task", "first", f"This server offers T = {cap['seq_len']} only, too short for the adding problem")
    T = v.get("seq_len", 1)
    mode = v.get("bptt", "full")
    if mode == "k" and v.get("truncation", 1) > T:
        change("truncation", T, f"The truncation horizon cannot exceed the sequence length T = {T}")
    if mode == "k1k2":
        for name in ("k1", "k2"):
            if v.get(name, 1) > T:
                change(name, T, f"{name} cannot exceed the sequence length T = {T}")
        if v["k1"] > v["k2"]:
            if moved == "k2":
                change("k1", v["k2"], "TBPTT needs k1 ≤ k2 (otherwise some losses are never backpropagated)")
            else:
                change("k2", v["k1"], "TBPTT needs k1 ≤ k2 (otherwise some losses are never backpropagated)")
    return changes, notes
