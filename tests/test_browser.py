"""The app in a real Chromium: charts carry real gradient data, the cell switch redraws, and training really streams.

One server and one page for the module, walked through as a user would: the default RNN
page, then LSTM (chosen in the sidebar), its gates, then a short training run. Each test
states what it needs from the previous one. Skips without Chromium or playwright, unless
RNNLAB_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""

from __future__ import annotations

import json
import math
import time

import browser_support as bs
import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = bs.ROOT / "artifacts" / "browser"
GRAD_TITLE = "How the gradient flows back in time"
STEPS, EVERY = 40, 1  # short, with a redraw after each step, on T ~ 250: a few seconds, so the browser paints several states

# Note the heatmap's row count and the progress bar's value at every DOM change (a MutationObserver)
# and every 25 ms, inside the page, so Python round trips cannot miss the intermediate states.
SAMPLER_JS = """() => {
  window.__samples = [];
  const sample = () => {
    const bar = document.querySelector('[data-testid="stProgress"] [role="progressbar"]');
    const progress = bar ? Number(bar.getAttribute('aria-valuenow')) : null;
    for (const gd of document.querySelectorAll('[data-testid="rnnlabChart"].js-plotly-plot')) {
      const heat = (gd._fullData || []).find(d => d.type === 'heatmap');
      const last = window.__samples[window.__samples.length - 1];
      if (!(last && last[0] === heat.z.length && last[1] === progress)) window.__samples.push([heat.z.length, progress]);
      break;
    }
  };
  window.__observer = new MutationObserver(sample);
  window.__observer.observe(document.body, {childList: true, subtree: true, attributes: true});
  window.__sampler = setInterval(sample, 25);
}"""
STOP_SAMPLER_JS = "() => { clearInterval(window.__sampler); window.__observer.disconnect(); return window.__samples; }"


def _positive(values) -> bool:
    return len(values) > 0 and all(v is not None and math.isfinite(v) and v > 0 for v in values)


@pytest.fixture(scope="module")
def page():
    """A Chromium page on a fresh `streamlit run app.py`, after the first run finished; server and browser end on teardown."""
    with bs.served_chromium(ARTIFACTS) as (browser, url):
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.goto(url + "/")
        bs.wait_idle(pg, bs.FIRST_LOAD_MS)
        yield pg


def test_default_page_draws_positive_gradient_norms_on_a_log_axis(page):
    """Needs: the default page (vanilla RNN, T = 50)."""
    assert bs.exceptions(page) == []
    chart = bs.find_chart(page, f"c.title.includes({GRAD_TITLE!r})")
    assert chart is not None, "the gradient-flow chart is missing"
    assert chart["ytype"] == "log"
    grad = bs.trace_named(chart, "‖∂L/∂hₜ‖ (batch mean)")
    assert len(grad["y"]) == 50 and _positive(grad["y"])
    assert _positive(bs.trace_named(chart, "bound (γ·σ_max)^(s−t)")["y"])  # the RNN's theory overlay
    assert not any("cell state" in t["name"] for t in chart["traces"])


def test_plotly_js_is_loaded_once_by_the_preload_before_any_chart(page):
    """Needs: the default page. The hidden Markdown iframe (ui/page/charts.py preload) ran and asked for plotly.js itself."""
    marks = page.evaluate(
        """() => Object.fromEntries(['rnnlab:preload', 'rnnlab:plotly-requested', 'rnnlab:first-plot']
             .map(n => [n, (performance.getEntriesByName(n)[0] || {}).startTime ?? null]))"""
    )
    assert None not in marks.values(), marks
    assert marks["rnnlab:preload"] <= marks["rnnlab:plotly-requested"] <= marks["rnnlab:first-plot"]
    assert page.evaluate("() => document.querySelectorAll('script[src*=\"/app/static/plotly\"]').length") == 1


def test_choosing_lstm_adds_the_cell_state_and_the_gate_maps(page):
    """Needs: the default page; leaves the LSTM chosen and the Gates tab open."""
    page.locator('[data-testid="stSidebar"] [data-testid="stRadioOption"]', has_text="LSTM").click()
    chart = bs.wait_chart(page, f"c.title.includes({GRAD_TITLE!r}) && c.traces.some(t => t.name.includes('cell state'))")
    assert chart["ytype"] == "log"
    cell = bs.trace_named(chart, "‖∂L/∂cₜ‖ (cell state)")
    assert len(cell["y"]) == 50 and _positive(cell["y"])
    assert not any(t["name"].startswith("bound") for t in chart["traces"])  # no single gamma for gated cells
    assert bs.exceptions(page) == []

    page.get_by_role("tab", name="Gates").click()
    maps = bs.wait_chart(page, "c.notes.includes('forget gate f')")
    assert maps["notes"][:4] == ["input gate i", "forget gate f", "candidate g", "output gate o"]
    heat = [t for t in maps["traces"] if t["type"] == "heatmap"]
    assert [t["name"] for t in heat] == ["input gate i", "forget gate f", "candidate g", "output gate o"]
    assert all(t["zrows"] == 32 for t in heat)  # one row per hidden unit (H = 32)
    curves = bs.find_chart(page, "c.title === 'Gates over time'")
    assert curves is not None and _positive(bs.trace_named(curves, "forget gate f")["y"])
    assert bs.exceptions(page) == []


def _set_number(page, label: str, param: str, value: int) -> None:
    """Type a value into a sidebar number box as a user would, then wait for the URL and the rerun."""
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    in_url = f"() => new URLSearchParams(location.search).get({param!r}) === '{value}'"
    page.wait_for_function(in_url, timeout=bs.RERUN_MS, polling=100)
    page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)


def test_training_streams_the_heatmap_row_by_row(page):
    """Needs: the LSTM chosen. Sets T = 250 and 40 steps with a snapshot after each, runs, and samples the heatmap as it grows."""
    _set_number(page, "Sequence length T", "seq_len", 250)
    _set_number(page, "Training steps", "steps", STEPS)
    _set_number(page, "Snapshot every k steps", "every", EVERY)
    page.get_by_role("tab", name="Training").click()
    run = page.get_by_role("button", name="Run training")
    run.wait_for(timeout=bs.RERUN_MS)
    page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)

    page.evaluate(SAMPLER_JS)
    started = time.monotonic()
    run.click()
    page.get_by_text(f"Finished {STEPS} steps").wait_for(timeout=bs.RERUN_MS)
    page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)
    samples = page.evaluate(STOP_SAMPLER_JS)
    elapsed = time.monotonic() - started
    (ARTIFACTS / "heatmap_samples.json").write_text(json.dumps({"seconds": elapsed, "rows_and_progress": samples}))

    expected_rows = len(set(range(0, STEPS, EVERY)) | {STEPS - 1})  # engine: a snapshot every k steps, and the last
    rows = [r for r, _ in samples]
    streaming = sorted({r for r in rows if r < expected_rows})  # states drawn before the last snapshot arrived
    assert len(streaming) >= 2, f"heatmap never grew while training ran ({elapsed:.1f} s): {samples[:50]}"
    assert rows == sorted(rows), "the heatmap lost rows while streaming"
    assert rows[-1] == expected_rows
    bar = page.locator('[data-testid="stProgress"] [role="progressbar"]')
    assert bar.get_attribute("aria-valuenow") == "100"
    assert page.locator('[data-testid="stProgress"]').inner_text().strip() == f"Step {STEPS} of {STEPS}"
    assert bs.exceptions(page) == []

    final = bs.find_chart(page, "c.traces.some(t => t.type === 'heatmap')")
    assert final["ytype"] == "log"  # the loss panel (yaxis) of the training dashboard
    assert _positive(bs.trace_named(final, "training loss")["y"])
    page.screenshot(path=str(ARTIFACTS / "training.png"), animations="disabled")
