"""Drive the real app in Debian's Chromium: start a Streamlit server, open pages, wait on conditions, read Plotly data."""

from __future__ import annotations

import contextlib
import importlib.util
import json
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
    # Headless Chromium opens every new page in a new window, and each window built its own omnibox popup (a WebUI
    # renderer, ~0.7 s of CPU): on 2 cores it competed with the page under test. A person's new tab pays nothing of it.
    "--disable-features=WebUIOmniboxPopup",
]
REQUIRE_ENV = "RNNLAB_REQUIRE_BROWSER"
CHART = '[data-testid="rnnlabChart"].js-plotly-plot'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'
FIRST_LOAD_MS = 120_000  # the first session imports torch and the engine: slow on a loaded 2-core machine
RERUN_MS = 60_000
LAUNCHER = (sys.executable, "-m", "ui.serving.serve")  # `streamlit run` with the server guards of ui/serving/serve.py, as `make run`

# JS: every chart on the page as {title, ytype, traces: [{name, type, y, zrows, xaxis}]}; titles lose their <b> tags.
CHARTS_JS = """() => Array.from(document.querySelectorAll('[data-testid="rnnlabChart"].js-plotly-plot'))
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
def streamlit_server(
    log_path: Path | None = None,
    timeout_s: float = 60.0,
    env: dict | None = None,
    args: tuple = (),
    script="app.py",
    launcher: tuple = LAUNCHER,
):
    """`streamlit run <script>` through the launcher (plus options args) on a free local port; yields the base URL, always ends it."""
    port = free_port()
    cmd = [*launcher, str(script), "--server.headless", "true", "--server.port", str(port)]
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
        stop_process(proc)
        if log is not subprocess.DEVNULL:
            log.close()


def launch(playwright):
    """Debian's Chromium through playwright (no downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def served_chromium(artifacts: Path, log_name: str = "server.log"):
    """A fresh app server (its log at artifacts/log_name) and Chromium: yields (browser, base URL); both end on exit.

    The one set-up of every browser test module's fixture; fails (CI) or skips without Chromium or playwright.
    """
    require_browser()
    from playwright.sync_api import sync_playwright

    artifacts.mkdir(parents=True, exist_ok=True)
    with streamlit_server(artifacts / log_name) as url, sync_playwright() as pw:
        browser = launch(pw)
        try:
            yield browser, url
        finally:
            browser.close()


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


# ---- Live behaviour (issue 7): every label and selector the live tests and bench/bench_browser.py rely on. ----
# Widgets are found by role + accessible name (substring match), so a longer label or a number input next to a slider
# (role "spinbutton") does not break them; adjust here when the UI changes.
MAIN = '[data-testid="stMain"]'  # the page body without Streamlit's header (its own "Stop" button lives in the header)
LABEL_T = "Sequence length T"  # a number box (role "spinbutton")
LABEL_SCALE = "Recurrent scale"  # slider, step 0.05: the control-change benchmark steps it with the arrow keys
LABEL_TASK = "Task"  # select box (role "combobox"); its options have role "option"
TASK_FIRST, TASK_ADDING = "first input", "adding problem"
TAB_TRAINING = "Training"  # tab (role "tab"); its panel is the role="tabpanel" labelled by the tab
BUTTON_RUN, BUTTON_STOP = "Run training", "Stop"  # buttons inside MAIN
PROGRESS = '[data-testid="stProgress"]'  # the training progress; its text holds STEP_PATTERN
STEP_PATTERN = r"Step\s+([\d,]+)\s+of\s+([\d,]+)"  # JS RegExp source: group 1 is the step done
PARAM_T, PARAM_STEPS = "seq_len", "steps"  # URL parameters

# In-page probe, installed before the app's scripts (context.add_init_script) and read back with page.evaluate.
# Times are performance.now() in ms since the tab's navigation started (input events: their own time stamp, when the
# input was issued, so time spent queued behind a busy page counts). The samplers run inside the page, so Python
# round trips miss nothing; a starved main thread delays them exactly as it delays what the user sees.
_PROBE_TEMPLATE = r"""(() => {
  const CHART = __CHART__, MAIN = __MAIN__, PROGRESS = __PROGRESS__, STEP = new RegExp(__STEP__);
  const drawn = gd => !!(gd && gd._fullLayout && gd._fullData && gd.querySelector('g.trace, g.hm'));  // data built, a trace drawn
  const state = () => {
    const a = document.querySelector('[data-testid="stApp"]');
    return a ? a.getAttribute('data-test-script-state') : null;
  };
  const hash = arr => {  // length and the first 2000 values, rounded: enough to tell two data sets apart
    let h = arr.length;
    for (let i = 0; i < Math.min(arr.length, 2000); i++) {
      const v = Number(arr[i]);
      h = (h * 31 + (Number.isFinite(v) ? Math.round(v * 1e6) % 1000003 : 7)) % 2147483647;
    }
    return h;
  };
  const lastRow = z => z[z.length - 1] || [];
  const traceSig = d => [d.type, d.x ? d.x.length : 0, d.y ? hash(d.y) : 0, d.z ? d.z.length + ':' + hash(lastRow(d.z)) : 0].join('/');
  const chartSig = gd => drawn(gd) ? gd._fullData.map(traceSig).join(';') : 'undrawn';
  const P = window.__probe = {
    firstChart: null, changes: [], parts: [], pending: null,
    state,
    charts: root => root ? Array.from(root.querySelectorAll(CHART)) : [],
    mainSig: () => P.charts(document.querySelector(MAIN)).map(chartSig).join('|'),
    panel: tabName => {
      const tabs = Array.from(document.querySelectorAll('[role="tab"]')), text = t => t.textContent.trim();
      const tab = tabs.find(t => text(t) === tabName) || tabs.find(t => text(t).endsWith(tabName));  // an icon adds its name first
      return tab ? document.querySelector(`[role="tabpanel"][aria-labelledby="${tab.id}"]`) : null;
    },
    step: () => {
      const el = document.querySelector(PROGRESS), m = el && STEP.exec(el.textContent);
      return m ? Number(m[1].replace(/,/g, '')) : null;
    },
  };
  // Page load: the first drawn chart.
  const load = setInterval(() => { if (P.charts(document).some(drawn)) { P.firstChart = performance.now(); clearInterval(load); } }, 10);
  // Control change -> updated charts: a key press or click opens a pending change; it closes at the first 10 ms tick where
  // the charts' data differ from what they were at the input and the script is idle. Parts: ms from the input to the first
  // tick that sees the script running, and to the first tick that sees new chart data (-1: not seen).
  const open = e => { P.pending = {t: e.timeStamp, sig: P.mainSig(), running: -1, data: -1}; };
  document.addEventListener('keydown', open, true);
  document.addEventListener('pointerdown', open, true);
  P.watchChanges = () => setInterval(() => {
    const p = P.pending, now = performance.now();
    if (!p) return;
    const s = state(), fresh = P.mainSig() !== p.sig;
    if (s === 'running' && p.running < 0) p.running = now - p.t;
    if (fresh && p.data < 0) p.data = now - p.t;
    if (s === 'notRunning' && fresh) { P.changes.push(now - p.t); P.parts.push([p.running, p.data]); P.pending = null; }
  }, 10);
  // Training, in one tab's panel: a 10 ms sampler notes every new state of its charts' data; a 50 ms timer (how often it
  // fires says how responsive the page is) notes how many chart elements are there and how many are drawn; so does every
  // painted frame (requestAnimationFrame runs just before a paint); a MutationObserver notes every change of the step.
  P.watchTraining = tabName => {
    const T = P.train = {start: performance.now(), states: [], ticks: [], elements: [], present: [], replaced: [], steps: [],
                         clicks: [], frames: [], on: true};
    const look = () => { const gds = P.charts(P.panel(tabName)); return [gds, gds.filter(drawn)]; };
    let lastSig = null, lastDrawn = [], lastStep = P.step();
    T.fast = setInterval(() => {
      const [, ok] = look(), sig = ok.map(chartSig).join('|');
      if (ok.length && sig !== lastSig) { T.states.push([performance.now(), ok.map(chartSig)]); lastSig = sig; }
    }, 10);
    T.slow = setInterval(() => {
      const [gds, ok] = look(), now = performance.now();
      for (const gd of lastDrawn) if (!gd.isConnected) T.replaced.push(now);  // a drawn chart's element left the page
      lastDrawn = ok;
      T.ticks.push(now); T.elements.push(gds.length); T.present.push(ok.length);
    }, 50);
    const frame = () => {
      if (!T.on) return;
      const [gds, ok] = look();
      T.frames.push([performance.now(), gds.length, ok.length]);
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    const noteStep = () => {
      const s = P.step();
      if (s !== null && s !== lastStep) { T.steps.push([performance.now(), s]); lastStep = s; }
    };
    T.observer = new MutationObserver(noteStep);
    T.observer.observe(document.body, {childList: true, subtree: true, characterData: true});
    T.onClick = e => { const b = e.target.closest('button'); T.clicks.push([e.timeStamp, b ? b.textContent.trim() : '']); };
    document.addEventListener('pointerdown', T.onClick, true);
  };
  P.stopTraining = () => {
    const T = P.train;
    T.on = false; clearInterval(T.fast); clearInterval(T.slow); T.observer.disconnect();
    document.removeEventListener('pointerdown', T.onClick, true);
    const {fast, slow, observer, onClick, on, ...record} = T;
    return {...record, end: performance.now()};
  };
})();"""
PROBE_JS = (
    _PROBE_TEMPLATE.replace("__CHART__", json.dumps(CHART))
    .replace("__MAIN__", json.dumps(MAIN))
    .replace("__PROGRESS__", json.dumps(PROGRESS))
    .replace("__STEP__", json.dumps(STEP_PATTERN))
)


def probed_context(browser):
    """A browser context (one window: its tabs share the HTTP cache) whose every page gets PROBE_JS before the app loads."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(PROBE_JS)
    return context


def open_page(context, url: str):
    """A new tab in context, navigated to url (the probe installed)."""
    page = context.new_page()
    page.goto(url)
    return page


def wait_first_chart(page, timeout_ms: int = FIRST_LOAD_MS) -> float:
    """ms from navigation start to the first drawn chart (in-page clock), once the first run is over."""
    page.wait_for_function("() => window.__probe && window.__probe.firstChart !== null", timeout=timeout_ms, polling=50)
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    return page.evaluate("() => window.__probe.firstChart")


def main_area(page):
    return page.locator(MAIN)


def choose_option(page, label: str, option: str) -> None:
    """Pick option in the select box called label, as a user would: open it, click the option."""
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def control_value(page, label: str) -> str:
    """What the control called label shows: a number box's value, or a slider's aria-valuenow / aria-valuetext / value."""
    box = page.get_by_role("spinbutton", name=label, exact=True)
    if box.count():
        return box.input_value()
    return page.get_by_role("slider", name=label).evaluate(
        "e => e.getAttribute('aria-valuenow') ?? e.getAttribute('aria-valuetext') ?? String(e.value)"
    )


def url_param(page, name: str) -> str | None:
    return page.evaluate(f"() => new URLSearchParams(location.search).get({name!r})")


def wait_rerun(page, action, timeout_ms: int = RERUN_MS, settle_s: float = 0.3) -> None:
    """Do action, then wait until the script has run and is idle again (idle for settle_s, so a follow-up rerun is caught)."""
    page.evaluate(
        "() => { window.__runs = 0; new MutationObserver(() => { if (window.__probe.state() === 'running') window.__runs++; })"
        ".observe(document.querySelector('[data-testid=\"stApp\"]'), {attributes: true}); }"
    )
    action()
    page.wait_for_function("() => window.__runs > 0 && window.__probe.state() === 'notRunning'", timeout=timeout_ms, polling=20)
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        time.sleep(settle_s)
        if page.evaluate("() => window.__probe.state()") == "notRunning":
            return
        page.wait_for_selector(IDLE, timeout=timeout_ms)


def open_training(page) -> None:
    """Open the Training tab and wait for its Run button."""
    page.get_by_role("tab", name=TAB_TRAINING).click()
    main_area(page).get_by_role("button", name=BUTTON_RUN).wait_for(timeout=RERUN_MS)
    page.wait_for_selector(IDLE, timeout=RERUN_MS)


def training_button(page, name: str):
    """The app's own visible button called name (not Streamlit's header Stop; the page also holds a hidden, zero-size copy)."""
    return main_area(page).get_by_role("button", name=name).filter(visible=True).first


def wait_training_chart(page, timeout_ms: int = RERUN_MS) -> None:
    """Until the Training panel holds a drawn chart and the step counter is moving."""
    page.wait_for_function(
        f"() => {{ const p = window.__probe.panel({TAB_TRAINING!r}); return p && window.__probe.charts(p).some(g => g._fullData)"
        " && window.__probe.step() > 0; }",
        timeout=timeout_ms,
        polling=50,
    )


def start_watch(page) -> None:
    """Start the in-page training samplers (PROBE_JS watchTraining) on the Training tab's panel."""
    page.evaluate(f"() => window.__probe.watchTraining({TAB_TRAINING!r})")


def end_watch(page) -> dict:
    """Stop the samplers; their record (page ms): start, end, states, ticks/elements/present, replaced, frames, steps, clicks."""
    return page.evaluate("() => window.__probe.stopTraining()")


def missing(drawn_counts) -> list[int]:
    """Indices of the samples that show fewer drawn charts than an earlier sample did: a chart that vanished (or blanked)."""
    most, out = 0, []
    for i, n in enumerate(drawn_counts):
        if n < most:
            out.append(i)
        most = max(most, n)
    return out


def since_first_chart(rec: dict) -> tuple[float, list[int], list[int]]:
    """(time of the first 50 ms sample with a drawn chart, drawn counts and element counts from it on)."""
    first = next((i for i, n in enumerate(rec["present"]) if n > 0), None)
    if first is None:
        raise AssertionError(f"no drawn training chart in {len(rec['ticks'])} samples")
    return rec["ticks"][first], rec["present"][first:], rec["elements"][first:]


def training_figures(rec: dict, until: float | None = None) -> dict:
    """Rates from the first drawn training chart to until (page ms; default the end of sampling): what the page showed, how it kept up."""
    first, _, _ = since_first_chart(rec)
    end = rec["end"] if until is None else until
    seconds = (end - first) / 1000

    def inside(t: float) -> bool:
        return first <= t <= end

    ticks = [i for i, t in enumerate(rec["ticks"]) if inside(t)]
    drawn, elements = [rec["present"][i] for i in ticks], [rec["elements"][i] for i in ticks]
    frames = [f for f in rec["frames"] if inside(f[0])]
    steps = [s for t, s in rec["steps"] if inside(t)]
    return {
        "seconds": seconds,
        "chart_states_per_s": sum(inside(t) for t, _ in rec["states"]) / seconds,
        "timer_50ms_fires_per_s": len(ticks) / seconds,
        "samples": len(ticks),
        "samples_missing_a_chart": len(missing(drawn)),  # fewer drawn charts than seen before
        "samples_with_undrawn_element": sum(e > n for e, n in zip(elements, drawn)),  # an element Plotly had not drawn yet
        "chart_elements_replaced": sum(map(inside, rec["replaced"])),  # drawn chart elements that left the page
        "frames_painted": len(frames),  # requestAnimationFrame callbacks
        "frames_missing_a_chart": len(missing([n for _, _, n in frames])),
        "steps_per_s": (steps[-1] - steps[0]) / seconds if len(steps) > 1 else 0.0,
    }


def frozen_charts_changes(states: list, click: float) -> list[float]:
    """Times after click when a chart that was on the page at the click changed (charts added below it do not count)."""
    shown = [sigs for t, sigs in states if t <= click]
    if not shown:
        return [t for t, _ in states if t > click]
    kept, out = shown[-1], []
    for t, sigs in states:
        if t > click and sigs[: len(kept)] != kept:
            out.append(t)
            kept = sigs[: len(kept)]
    return out


def stop_figures(rec: dict) -> dict:
    """What happened after the last click on the app's Stop: when the step counter and the charts last changed (ms after it)."""
    clicks = [t for t, text in rec["clicks"] if BUTTON_STOP in text]
    if not clicks:
        raise AssertionError(f"no click on {BUTTON_STOP!r} recorded: {rec['clicks']}")
    click = clicks[-1]
    runs = [t for t, text in rec["clicks"] if BUTTON_RUN in text and t < click]
    before = [s for t, s in rec["steps"] if t <= click]
    after = [(t, s) for t, s in rec["steps"] if t > click]
    charts_after = frozen_charts_changes(rec["states"], click)
    at_click = before[-1] if before else None
    final = after[-1][1] if after else at_click
    return {
        "click_after_run_ms": click - (runs[-1] if runs else rec["start"]),
        "watched_after_click_ms": rec["end"] - click,
        "step_changes_before_click": len(before),
        "step_at_click": at_click,
        "final_step": final,
        "steps_after_click": (final - at_click) if after and at_click is not None else 0,
        "last_step_change_ms": after[-1][0] - click if after else 0.0,
        "last_chart_change_ms": charts_after[-1] - click if charts_after else 0.0,
    }


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate a server process, and kill it if it has not ended within 10 s."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
