"""Shareable links: the Config (plus steps and every) round-trips through the page URL."""

from __future__ import annotations

from dataclasses import fields

import streamlit as st

from engine import Config, ConfigError

from . import limits

FIELDS = tuple(f.name for f in fields(Config))
EXTRAS = ("steps", "every")  # training settings that are not part of the Config


def widget_values(cfg: Config, steps: int = limits.DEFAULT_STEPS, every: int = limits.DEFAULT_EVERY) -> dict:
    """Sidebar widget values (keys = Config field names) that reproduce cfg."""
    values = {f: getattr(cfg, f) for f in FIELDS if f != "device"}
    k = min(limits.DEFAULT_K, cfg.seq_len)
    values["bptt"] = "k" if cfg.truncation else "k1k2" if cfg.k1 else "full"
    values["truncation"] = cfg.truncation or k
    values["k1"], values["k2"] = (cfg.k1, cfg.k2) if cfg.k1 else (k, k)
    values.update(steps=steps, every=every)
    return values


def parse(query: dict, cap: dict) -> tuple[dict, list[str], list[str]]:
    """(widget values, errors, warnings) from URL parameters; a refused value falls back to its default."""
    query = {k: (v[-1] if isinstance(v, list) else v) for k, v in query.items()}
    q = {k: v for k, v in query.items() if k in FIELDS and k != "device"}
    errors, warnings = [], []
    if "device" in query:
        warnings.append("device is chosen automatically here; the link's device value is ignored")
    cfg = None
    while cfg is None:
        try:
            cfg = Config.from_query(q)
        except ConfigError as e:
            bad = e.field if e.field in q else None
            errors.append(f"Link parameter `{e.field}` refused: {e}. Using the default for it.")
            if bad is None:  # a combination the link did not name directly: start from the defaults
                q = {}
            else:
                q.pop(bad)
    extras = {}
    for name, default in zip(EXTRAS, (limits.DEFAULT_STEPS, limits.DEFAULT_EVERY)):
        raw = query.get(name, str(default))
        try:
            extras[name] = int(raw)
        except ValueError:
            errors.append(f"Link parameter `{name}` refused: must be an integer (got {raw!r}). Using {default}.")
            extras[name] = default
    values, moved = limits.fit(widget_values(cfg, **extras), cap)
    warnings += [f"Link parameter {m}." for m in moved]
    return values, errors, warnings


def query_for(cfg: Config, steps: int, every: int) -> dict[str, str]:
    """URL parameters for the current settings (only what differs from the defaults)."""
    q = cfg.to_query()
    q.pop("device", None)
    if steps != limits.DEFAULT_STEPS:
        q["steps"] = str(steps)
    if every != limits.DEFAULT_EVERY:
        q["every"] = str(every)
    return q


def sync(cfg: Config, steps: int, every: int) -> None:
    """Write the settings into the URL (only when they changed, so a rerun sends nothing new)."""
    target = query_for(cfg, steps, every)
    if st.query_params.to_dict() != target:
        st.query_params.from_dict(target)
