"""Settings that depend on each other, repaired with Config's own combination check and said in words.

Config alone decides which combinations are valid (engine/config.py: k <= T, k1 <= k2, the adding
problem's T >= 2, a bundled series' length); this module only repairs. A value the user set
survives every other control's change: only the field Config names is moved, to its nearest value
in the widget's range that Config takes, and the change comes with Config's own reason. Between k1
and k2 the control just moved keeps its value and the other one gives way; when no T this server
offers fits the task (T = 1 only, for the adding problem), the task gives way.
"""

from __future__ import annotations

import re
from dataclasses import fields

from engine import Config, ConfigError
from engine.cells import CELLS
from engine.config import field_info
from ui.serving import limits

SYMBOL = {"seq_len": "T", "truncation": "k", "task": "the task"}
GIVES_WAY = {"k1": "k2", "k2": "k1"}  # Config names one of the pair; the one the user just moved keeps its value
INSTEAD = {"seq_len": "task"}  # no T in this server's range fits: the task gives way
MAX_REPAIRS = 8  # each repair settles one complaint; the rules chain at most T -> k1 -> k2


def config_of(v: dict) -> Config:
    """The Config the widget values describe, by Config's own parser; fields the cell or BPTT mode does not use are neutral.

    Raises ConfigError (naming the field) for a combination Config refuses.
    """
    cell, mode = CELLS[v["cell"]], v["bptt"]
    neutral = {"device": "auto"}
    if not cell.uses_activation:
        neutral["activation"] = "tanh"
    if not cell.has_forget_bias:
        neutral["forget_bias"] = 0.0
    for name, used_in in (("truncation", "k"), ("k1", "k1k2"), ("k2", "k1k2")):
        if mode != used_in:
            neutral[name] = 0
    return Config.from_query({f.name: neutral[f.name] if f.name in neutral else v[f.name] for f in fields(Config)})


def _complaint(v: dict) -> ConfigError | None:
    try:
        config_of(v)
    except ConfigError as err:
        return err
    return None


def _rule(err: ConfigError) -> str:
    """Config's reason without the value it got (our own value: the note says it)."""
    return re.sub(r" \(got [^()]*\)", "", err.reason)


def _words(err: ConfigError) -> str:
    """Config's reason with every number in it as #: the same complaint about other values."""
    return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", _rule(err))


def _nearest(v: dict, name: str, rng: dict, complaint: ConfigError):
    """The value of `name` nearest its own, within the widget's range, that clears Config's complaint; None if none does.

    Cleared: Config takes the values, or its first complaint is about a third field (the next repair's): Config
    checks a field's own rules before the rules that compare other fields with it (T's before k <= T).
    For an integer the others fixed, the values that clear form an interval: walking away from the value,
    Config first repeats its complaint, then clears, then complains otherwise (past the interval). A stride
    that doubles finds where the repeated complaint ends, halving back finds its first value: ~log(range) checks.
    """

    def same(value) -> bool:  # the same complaint, whatever numbers it quotes (k1=9 while k1 is searched)
        after = _complaint({**v, name: value})
        return after is not None and after.field == complaint.field and _words(after) == _words(complaint)

    def clears(value) -> bool:  # and raises no complaint about the value just chosen
        after = _complaint({**v, name: value})
        return after is None or after.field not in (complaint.field, name)

    if field_info(name)["choices"] is not None:
        return next((c for c in field_info(name)["choices"] if c != v[name] and clears(c)), None)
    lo, hi = rng[name]
    here, best = v[name], None
    for sign in (-1, 1):
        inside, stride = here, 1  # inside: the farthest value known to repeat the complaint, this way
        while (probe := min(max(here + sign * stride, lo), hi)) != inside:
            if not same(probe):
                while abs(probe - inside) > 1:  # halve back: the first value that does not repeat it
                    middle = (probe + inside) // 2
                    probe, inside = (probe, middle) if same(middle) else (middle, inside)
                if clears(probe) and (best is None or abs(probe - here) < abs(best - here)):
                    best = probe
                break
            inside, stride = probe, stride * 2
    return best


def settle(values: dict, cap: dict, moved: str | None = None) -> tuple[dict, list[str]]:
    """(changes, notes) that make the widget values one valid Config; moved = the control just changed."""
    v, changes, notes = dict(values), {}, []
    rng = limits.ranges(cap)
    for _ in range(MAX_REPAIRS):
        complaint = _complaint(v)
        if complaint is None:
            break
        named = complaint.field
        order = [GIVES_WAY[named]] if named == moved and named in GIVES_WAY else []
        order += [named] + ([INSTEAD[named]] if named in INSTEAD else [])
        repair = next(((name, new) for name in order if (new := _nearest(v, name, rng, complaint)) is not None), None)
        if repair is None:
            break  # nothing this page offers clears it: the page shows Config's complaint
        name, new = repair
        notes.append(f"{named} {_rule(complaint)}: {SYMBOL.get(name, name)} changed from {v[name]} to {new}.")
        v[name] = changes[name] = new
    return changes, notes
