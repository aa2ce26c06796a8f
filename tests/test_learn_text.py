"""The Learn prose as Markdown: every measured number comes from the checks, and the LRU is written as the engine stores it.

claims.toml is bench/claim_ranges.py's output (seeds 0-49); here two of those seeds are measured again with the
same checks, and must lie in the stored range. The LRU's equations are checked against the engine's own parameters.
"""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import pytest
import torch

from engine import Config, Model, run
from ui.page.widget_values import config_for
from ui.serving import limits
from ui.teaching import learn_text, lessons

ROOT = Path(__file__).resolve().parents[1]
CAP = limits.caps({})


def bench():
    spec = importlib.util.spec_from_file_location("claim_ranges", ROOT / "bench" / "claim_ranges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_section_parses_and_every_placeholder_is_a_measured_claim():
    sections = learn_text.sections()
    assert [s.name[:2] for s in sections] == [f"{i:02d}" for i in range(1, len(sections) + 1)] and len(sections) >= 12
    measured = learn_text.claims()
    raw = "".join(p.read_text() for p in sorted(learn_text.FOLDER.glob("*.md")))
    names = set(learn_text.PLACEHOLDER.findall(raw))
    assert len(names) >= 10 and {n for n, _ in names} <= set(measured)
    for section in sections:
        assert "{{" not in section.body and all("{{" not in text for text, _ in section.tries), section.name
    assert sum(len(s.tries) for s in sections) >= 30
    with pytest.raises(KeyError):
        learn_text.fill("lost {{lstm_fb0_ordres}} orders", measured)  # a typo is caught, not shown


def test_a_try_link_is_read_by_configs_parser():
    sections = {s.name: s for s in learn_text.sections()}
    text, settings = next(t for t in sections["04-truncation"].tries if t[1] and t[1].get("bptt") == "k1k2")
    assert settings == {"task": "sine", "seq_len": 100, "bptt": "k1k2", "k1": 10, "k2": 40} and "$k_1 = 10$" in text
    assert learn_text.settings_of("?recurrent_scale=1.0&seq_len=100") == {"recurrent_scale": 1.0, "seq_len": 100}
    with pytest.raises(ValueError):
        learn_text.settings_of("?seq_len=abc")


@pytest.mark.parametrize("seed", [0, 49])
def test_the_stored_ranges_hold_the_checks_measured_again(seed):
    """Seeds 0 and 49, through the same settings and checks as bench/claim_ranges.py: inside the stored range."""
    claim_ranges, measured = bench(), learn_text.claims()
    assert set(claim_ranges.CLAIMS) <= set(measured)
    for name, (settings, check, _) in claim_ranges.CLAIMS.items():
        if isinstance(check, tuple):
            scenario, base = claim_ranges.lesson_scenario(*check)
        else:
            scenario, base = lessons.Scenario({}, "", check), {}
        value = lessons.check(scenario, run(config_for({**base, **settings, "seed": seed}, CAP))).value
        if claim_ranges.check_is_ratio_for_orders(check, scenario):
            value = lessons.orders(value)
        lo, hi = measured[name]["lo"], measured[name]["hi"]
        assert lo - 1e-9 * abs(lo) <= value <= hi + 1e-9 * abs(hi), (name, seed, value, lo, hi)


def test_claims_name_their_seeds_and_a_claim_on_some_seeds_says_how_many():
    measured = learn_text.claims()
    assert all(row["seeds"] == "0-49" and row["n"] == 50 for name, row in measured.items() if not name.startswith(("lstm_t50", "rnn_t100")))
    learned = measured["lstm_t50_learned"]
    text = next(s for s in learn_text.sections() if s.name == "07-lstm").tries
    said = " ".join(t for t, _ in text)
    assert f"{learned['lo']} of {learned['hi']}" in said
    if learned["lo"] < learned["hi"]:
        assert "on most seeds" in said


def test_the_lru_is_written_as_the_engine_stores_it():
    """log|λ| and θ stored, so |λ| >= 1 is allowed; γ = √|1 − |λ|²| at init; D a full matrix (the paper's is diagonal)."""
    body = next(s for s in learn_text.sections() if s.name == "10-lru").body
    assert r"\lambda_j = \exp\!\left(a_j + \mathrm{i}\,\theta_j\right)" in body and r"a_j = \log \lvert \lambda_j \rvert" in body
    assert r"\sqrt{\big\lvert 1 - \lvert \lambda_j \rvert^2 \big\rvert}" in body and "$D$ is a full real matrix" in body
    assert "-e^{\\nu" not in body.split("the paper writes")[0]  # the paper's parametrisation only as the paper's
    cfg = Config(cell="lru", init="identity", recurrent_scale=1.2, hidden_size=5, task="adding")
    P = Model(cfg).params
    mag = P["log_mag"].exp()
    assert torch.allclose(mag, torch.full_like(mag, 1.2))  # |λ| above 1, as stored
    assert torch.allclose(P["gamma_norm"], (1 - mag**2).abs().sqrt())
    assert P["D"].shape == (5, 2) and P["D"].count_nonzero() > 5  # H x input, not a diagonal


def test_no_range_in_the_learn_text_is_typed_with_its_old_seeds():
    """Every 'seeds 0-9' or 'seeds 0-4' range was measured again over 0-49 (bench/claim_ranges.py)."""
    raw = "".join(p.read_text() for p in sorted(learn_text.FOLDER.glob("*.md")))
    assert not re.search(r"seeds 0[-–][49]\b", raw)
    assert math.isfinite(learn_text.claims()["lstm_fb0_orders"]["hi"])


def test_the_readme_quotes_the_measured_range():
    measured = learn_text.claims()
    readme = (ROOT / "README.md").read_text()
    assert f"loses {measured['lstm_fb0_orders']['text']} orders of magnitude over the 99 steps (seeds 0-49" in readme
