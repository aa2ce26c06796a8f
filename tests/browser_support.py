"""Drive the real app in Debian's Chromium: start a Streamlit server, open pages, wait on conditions, read Plotly data."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the tests skip (or fail in CI) before anything waits
    PlaywrightTimeout = TimeoutError

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRE_ENV = "RNNLAB_REQUIRE_BROWSER"
CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'
FIRST_LOAD_MS = 120_000  # the first session imports torch and the engine: slow on a loaded 2-core machine
RERUN_MS = 60_000

# JS: every chart on the page as {title, ytype, traces: [{name, type, y, zrows, xaxis}]}; titles lose their <b> tags.
CHARTS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'))
  .filter(gd => gd._fullLayout && gd._fullData)
  .map(gd => ({
    title: ((gd._fullLayout.title || {}).text || '').replace(/<[^>]+>/g, ''),
    ytype: gd._fullLayout.yaxis.type,
    notes: (gd._fullLayout.annotations || []).map(a => (a.text || '').replace(/<[^>]+>/g, '')),
    traces: gd._fullData.map(d => ({
      name: d.name, type: d.type, xaxis: d.xaxis,
      y: d.y ? Array.from(d.y, v => (v === null || v === undefined) ? null : Number(v)) : null,
      zrows: d.z ? d.z.length : null,
    })),
  }))"""


def missing_reason() -> str | None:
    """Why the real-browser test cannot run here (None when Chromium and playwright are both present)."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is not installed (pip install playwright; never `playwright install`)"
    return None


def browser_required() -> bool:
    """CI sets RNNLAB_REQUIRE_BROWSER=1: then a missing browser is a failure, not a skip."""
    return os.environ.get(REQUIRE_ENV, "").strip() == "1"


def require_browser() -> None:
    """Skip when Chromium or playwright is missing, or fail when CI requires the browser (RNNLAB_REQUIRE_BROWSER=1)."""
    import pytest

    reason = missing_reason()
    if reason:
        if browser_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but the real-browser test cannot run: {reason}")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(log_path: Path | None = None, timeout_s: float = 60.0, env: dict | None = None, args: tuple = (), script="app.py"):
    """`streamlit run <script>` (plus extra options args) on a free local port; yields the base URL, always terminates it."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *args]
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # closed in the finally below
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode} before answering (log: {log_path})")
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer /_stcore/health within {timeout_s:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log is not subprocess.DEVNULL:
            log.close()


def launch(playwright):
    """Debian's Chromium through playwright (no downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_idle(page, timeout_ms: int = RERUN_MS) -> None:
    """Until the script run is over and at least one chart is drawn."""
    page.wait_for_selector(CHART, state="visible", timeout=timeout_ms)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def wait_chart(page, js_test: str, timeout_ms: int = RERUN_MS) -> dict:
    """Until some chart satisfies js_test (a JS predicate over one CHARTS_JS entry, `c`) and the run is over; that chart."""
    fn = f"() => ({CHARTS_JS})().some(c => {js_test})"
    page.wait_for_function(fn, timeout=timeout_ms, polling=100)
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    return find_chart(page, js_test)


def find_chart(page, js_test: str) -> dict | None:
    """The first chart on the page satisfying js_test, read fresh."""
    return page.evaluate(f"() => ({CHARTS_JS})().find(c => {js_test}) || null")


def trace_named(chart: dict, name: str) -> dict:
    """The trace called name in a chart read by CHARTS_JS (KeyError listing the names otherwise)."""
    for trace in chart["traces"]:
        if trace["name"] == name:
            return trace
    raise KeyError(f"no trace {name!r} in {chart['title']!r}: {[t['name'] for t in chart['traces']]}")


def exceptions(page) -> list[str]:
    """Texts of the exception boxes Streamlit shows (empty when the script ran cleanly)."""
    return [e.inner_text()[:2000] for e in page.locator(EXCEPTION).all()]
