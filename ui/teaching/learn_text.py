"""The Learn tab's prose: one Markdown file a section (ui/teaching/learn/*.md), its measured numbers filled in from the checks.

A number a check measures is never typed in the text: the Markdown says {{name}}, and the value comes
from ui/teaching/learn/claims.toml, which bench/claim_ranges.py writes by running the lessons' own checks
over seeds 0-49. A section ends with its experiments under "#### Try this in the app": one list item
each, and an item that ends in a link `[Set the controls](?query)` gets a button that applies the
link's settings (read by Config's own parser). Nothing here calls Streamlit: ui/teaching/learn.py draws.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from engine.config import check_value

FOLDER = Path(__file__).with_name("learn")
CLAIMS_FILE = FOLDER / "claims.toml"
TRY = "#### Try this in the app"
PLACEHOLDER = re.compile(r"\{\{(\w+)(?:\.(\w+))?\}\}")  # {{name}}: the range as shown; {{name.seeds}}: its seeds
SET_LINK = re.compile(r"\s*\[Set the controls\]\((\?[^)\s]*)\)\s*$")


@dataclass(frozen=True)
class Section:
    """One section of the Learn tab: its Markdown body and its experiments (sentence, settings or None)."""

    name: str
    body: str
    tries: tuple[tuple[str, dict | None], ...]


def claims(path: Path = CLAIMS_FILE) -> dict[str, dict]:
    """{name: {lo, hi, text, seeds, n}} as bench/claim_ranges.py measured them."""
    with open(path, "rb") as f:
        return tomllib.load(f)


def fill(text: str, measured: dict[str, dict]) -> str:
    """Every {{name}} replaced by the measured range's text ({{name.seeds}}: the seeds it covers); an unknown name raises KeyError."""
    return PLACEHOLDER.sub(lambda m: str(measured[m.group(1)][m.group(2) or "text"]), text)


def settings_of(query: str) -> dict:
    """A `?field=value&...` link as sidebar values: each field by Config's own parser, bptt as written."""
    return {k: v if k == "bptt" else check_value(k, v) for k, v in parse_qsl(query.lstrip("?"), strict_parsing=True)}


def parse(name: str, text: str) -> Section:
    """A section's Markdown split into its body and its experiments."""
    body, _, tail = text.partition(TRY)
    tries = []
    for line in tail.strip().splitlines():
        if not line.startswith("- "):
            raise ValueError(f"{name}: an experiment is one list item a line (got {line[:40]!r})")
        item = line[2:]
        link = SET_LINK.search(item)
        tries.append((item[: link.start()], settings_of(link.group(1))) if link else (item, None))
    return Section(name, body.strip(), tuple(tries))


def sections(folder: Path = FOLDER) -> tuple[Section, ...]:
    """Every section, in file-name order (01-..., 02-...), its numbers filled in."""
    measured = claims(folder / CLAIMS_FILE.name)
    return tuple(parse(p.stem, fill(p.read_text(), measured)) for p in sorted(folder.glob("*.md")))
