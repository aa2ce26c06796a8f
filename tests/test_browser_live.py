"""The page's live behaviour in a real Chromium (issue 7): a task switch keeps T, Stop stops at once, the chart never blanks.

One server for the module, a fresh tab (its own session) per test. Every measurement is taken
inside the page by browser_support.PROBE_JS (timers and a MutationObserver), so Python round
trips miss nothing. Skips without Chromium or playwright, unless RNNLAB_REQUIRE_BROWSER=1 (CI),
where that is a failure. Labels and selectors: the block at the end of browser_support.py.
"""

from __future__ import annotations

import contextlib
import json
import re
import time

import browser_support as bs
import pytest

from viz.training import HEAT_TITLE

pytestmark = pytest.mark.browser

ARTIFACTS = bs.ROOT / "artifacts" / "browser"
EVERY = 5  # snapshot interval of the Stop test's run: the heatmap's last row lies within one interval of the last step
MOVES_BEFORE_STOP = 3  # step-counter changes seen before Stop is pressed: the run is moving
WATCH_AFTER_STOP_S = 3.0  # seconds the page is watched after Stop was handled (an observation window, not a limit)
SAMPLE_S = 3.0  # seconds of training sampled, one DOM sample per 50 ms
MIN_SAMPLES = 10  # a page whose timers are starved still gives this many


@pytest.fixture(scope="module")
def browser():
    """Chromium on a fresh `streamlit run app.py`; yields (browser, base URL); both end on teardown."""
    with bs.served_chromium(ARTIFACTS, "live_server.log") as served:
        yield served


@pytest.fixture
def open_app(browser):
    """Open the app at a query string in a new window with the probe installed; waits for the first chart; closes it after."""
    chromium, url = browser
    contexts = []

    def opener(query: str = ""):
        context = bs.probed_context(chromium)
        contexts.append(context)
        page = bs.open_page(context, f"{url}/{query}")
        bs.wait_first_chart(page)
        return page

    yield opener
    for context in contexts:
        context.close()


def start_training(page) -> None:
    """Open the Training tab, start the in-page samplers, press Run and wait for a drawn chart and a moving step counter."""
    bs.open_training(page)
    bs.start_watch(page)
    bs.training_button(page, bs.BUTTON_RUN).click()
    bs.wait_training_chart(page)


# In the Training panel: the last step each training curve draws (x: the training step, from 0), and the gradient heatmap's
# last row (a snapshot's step) with the step gap to the row before it (one snapshot interval, more once rows are pooled).
LAST_DRAWN_JS = """() => {
  const out = {};
  for (const gd of window.__probe.charts(window.__probe.panel(__TAB__))) for (const d of gd._fullData || []) {
    const named = d.name === 'training loss' || (d.name || '').includes('norm');
    if (d.type === 'heatmap' && d.name === __HEAT__ && d.y && d.y.length) {
      const n = d.y.length;
      out.heatmap = [Number(d.y[n - 1]), n > 1 ? Number(d.y[n - 1]) - Number(d.y[n - 2]) : null];
    } else if (named && d.x && d.x.length) out[d.name] = Number(d.x[d.x.length - 1]);
  }
  return out;
}""".replace("__TAB__", json.dumps(bs.TAB_TRAINING)).replace("__HEAT__", json.dumps(HEAT_TITLE))
STOPPED = re.compile(r"Training stopped after ([\d,]+) of ([\d,]+) steps \(Stop was pressed\)")


def stop_message(page) -> tuple[int, int]:
    """(N, M) from the page's "Training stopped after N of M steps (Stop was pressed)", once the page shows it."""
    message = page.get_by_text(STOPPED).first
    message.wait_for(timeout=bs.RERUN_MS)
    found = STOPPED.search(message.inner_text())
    return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))


def test_task_switch_keeps_the_sequence_length(open_app):
    """T=120 from the link survives "first input" and the way back to "adding problem" (the URL and the slider agree)."""
    page = open_app(f"?{bs.PARAM_T}=120")
    seen = [("link", bs.url_param(page, bs.PARAM_T), bs.control_value(page, bs.LABEL_T))]
    for task in (bs.TASK_FIRST, bs.TASK_ADDING):
        bs.wait_rerun(page, lambda task=task: bs.choose_option(page, bs.LABEL_TASK, task))
        seen.append((task, bs.url_param(page, bs.PARAM_T), bs.control_value(page, bs.LABEL_T)))
    assert seen == [(step, "120", "120") for step in ("link", bs.TASK_FIRST, bs.TASK_ADDING)], f"(after, URL T, slider T): {seen}"
    assert bs.exceptions(page) == []


def test_stop_freezes_the_counter_and_the_charts_at_the_step_the_page_reports(open_app):
    """Stop on a moving 5000-step run: counter and charts end at the step where the server handled the click, then stay.

    Counted in training steps, never in ms (a busy machine delays the click, not the outcome). The
    server freezes the log when it handles Stop (ui/page/live.py TrainingRun.stop) and the page's message
    names that step, N. The counter must end at N, every training curve at step N - 1 (steps count
    from 0), the heatmap within one snapshot interval of it; then, watched for WATCH_AFTER_STOP_S,
    nothing on the page moves again. That the worker begins no step after Stop is counted in
    tests/test_live_stop.py; the time it all takes is bench/bench_browser.py's figure.
    """
    page = open_app(f"?{bs.PARAM_STEPS}=5000&every={EVERY}")
    start_training(page)
    page.wait_for_function(f"() => window.__probe.train.steps.length >= {MOVES_BEFORE_STOP}", timeout=bs.RERUN_MS, polling=50)
    bs.training_button(page, bs.BUTTON_STOP).click()
    stopped, total = stop_message(page)
    page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)
    drawn_at_n = f"() => ({LAST_DRAWN_JS})()['training loss'] === {stopped - 1}"
    with contextlib.suppress(bs.PlaywrightTimeout):  # the charts may still be drawing their last state: give them time
        page.wait_for_function(drawn_at_n, timeout=bs.RERUN_MS, polling=50)
    watch_from = page.evaluate("() => performance.now()")
    time.sleep(WATCH_AFTER_STOP_S)  # an observation window: whatever moves in it is counted below, never timed
    last = page.evaluate(LAST_DRAWN_JS)
    counter = page.evaluate("() => window.__probe.step()")
    rec = bs.end_watch(page)
    fig = bs.stop_figures(rec)
    moved = {
        "steps": [s for t, s in rec["steps"] if t > watch_from],
        "charts": len(bs.frozen_charts_changes(rec["states"], watch_from)),
    }
    report = {"stopped_at": stopped, "counter": counter, "last_drawn": last, "moved_while_watched": moved, "figures": fig}
    (ARTIFACTS / "stop.json").write_text(json.dumps({**report, "steps": rec["steps"], "clicks": rec["clicks"]}))
    assert fig["step_changes_before_click"] >= MOVES_BEFORE_STOP, f"the run was not moving before Stop: {report}"
    assert total == 5000 and fig["step_at_click"] <= stopped < 5000, report
    assert counter == fig["final_step"] == stopped, f"the step counter did not end where the server stopped: {report}"
    curves = {k: v for k, v in last.items() if k != "heatmap"}
    assert "training loss" in curves and set(curves.values()) == {stopped - 1}, f"a training curve ends elsewhere: {report}"
    row, gap = last["heatmap"]
    assert stopped - 1 - max(EVERY, gap or 0) < row <= stopped - 1, f"the heatmap's last row is not the run's last snapshot: {report}"
    assert moved == {"steps": [], "charts": 0}, f"the page moved after Stop was handled: {report}"
    assert bs.exceptions(page) == []


def test_training_chart_is_in_every_frame(open_app):
    """For 3 s of training, no 50 ms DOM sample and no painted frame (requestAnimationFrame) lacks a training chart seen before."""
    page = open_app(f"?{bs.PARAM_STEPS}=5000")
    start_training(page)
    # 3 s of page time from the first drawn sample, and at least MIN_SAMPLES samples however starved the page's timers are
    enough = (
        "() => { const T = window.__probe.train, i = T.present.findIndex(n => n > 0);"
        f" return i >= 0 && performance.now() - T.ticks[i] >= {SAMPLE_S * 1000} && T.present.length - i >= {MIN_SAMPLES}; }}"
    )
    page.wait_for_function(enough, timeout=30_000, polling=100)
    rec = bs.end_watch(page)
    bs.training_button(page, bs.BUTTON_STOP).click()  # leave the server idle for the next test
    first, drawn, elements = bs.since_first_chart(rec)
    frames = [n for t, _, n in rec["frames"] if t >= first]
    fig = bs.training_figures(rec)
    (ARTIFACTS / "frames.json").write_text(json.dumps({"figures": fig, "drawn": drawn, "elements": elements, "frames": frames}))
    problems = []
    if bs.missing(drawn):
        problems.append(f"{len(bs.missing(drawn))} of {len(drawn)} samples (50 ms) missing a training chart")
    if bs.missing(frames):
        problems.append(f"{len(bs.missing(frames))} of {len(frames)} painted frames missing a training chart")
    assert problems == [], f"{'; '.join(problems)}; {fig}"
    assert bs.exceptions(page) == []


def test_stop_figures_read_a_hand_made_record():
    """The Stop arithmetic on a record worked out by hand: changes after the click, charts added after it not counted."""
    rec = {
        "start": 0.0,
        "end": 8000.0,
        "clicks": [[1000.0, "play_arrowRun training"], [5000.0, "stopStop"]],
        "steps": [[4000.0, 100], [4900.0, 120], [5200.0, 130], [5600.0, 140]],
        "states": [[4500.0, ["a"]], [5100.0, ["a2"]], [5300.0, ["a2", "grad"]]],
    }
    fig = bs.stop_figures(rec)
    assert fig["click_after_run_ms"] == 4000.0 and fig["watched_after_click_ms"] == 3000.0
    assert (fig["step_at_click"], fig["final_step"], fig["steps_after_click"]) == (120, 140, 20)
    assert fig["last_step_change_ms"] == 600.0
    assert fig["last_chart_change_ms"] == 100.0  # "a" -> "a2" at 5100; the chart added at 5300 is not a change
    assert bs.missing([0, 1, 1, 0, 2, 1, 2]) == [3, 5]  # fewer drawn charts than an earlier sample showed


def test_a_link_comes_back_normalised_and_keeps_what_the_page_fixed(open_app):
    """A repeated parameter is written once; a value the page had to change is written as changed, so the link reproduces it."""
    page = open_app("?seq_len=50&seq_len=60&k1=50&k2=10&cell=lstm")
    page.wait_for_function(
        "() => new URLSearchParams(location.search).getAll('seq_len').join() === '60'"
        " && new URLSearchParams(location.search).get('k2') === '50'",
        timeout=bs.RERUN_MS,
    )
    assert bs.url_param(page, "cell") == "lstm" and bs.url_param(page, "bptt") == "k1k2"
    assert bs.control_value(page, bs.LABEL_T) == "60"


def test_a_phone_sees_a_chart_with_data_on_its_first_screen(browser):
    """At 390 × 844 (a phone), the gradient chart with its curve starts inside the first screen."""
    chromium, url = browser
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(url + "/")
        page.wait_for_selector(bs.CHART, timeout=bs.FIRST_LOAD_MS)
        top, points = page.evaluate(
            f"() => {{ const gd = document.querySelector({bs.CHART!r}); "
            "return [gd.getBoundingClientRect().top, Math.max(...gd._fullData.map(d => d.y ? d.y.length : 0))]; }"
        )
        assert top < 844 - 200 and points == 50, (top, points)  # the chart and its curve (T = 50) begin on screen
    finally:
        context.close()


def test_a_click_on_the_phase_diagram_sets_the_recurrent_scale(open_app):
    """The phase diagram's columns are values of the scale: clicking the column at 1.2 moves the slider and the URL there."""
    page = open_app("")
    page.get_by_role("tab", name="Phase diagram").click()
    chart = page.locator('[data-testid="rnnlabChart"].js-plotly-plot').first
    chart.wait_for(timeout=bs.RERUN_MS)
    page.wait_for_function(
        "() => { const gd = document.querySelector('[data-testid=\"rnnlabChart\"].js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData.some(d => d.type === 'heatmap'); }",
        timeout=bs.RERUN_MS,
    )
    x, y = page.evaluate(
        "() => { const gd = document.querySelector('[data-testid=\"rnnlabChart\"].js-plotly-plot'); const L = gd._fullLayout;"
        " const r = gd.getBoundingClientRect(); return [r.left + L._size.l + L.xaxis.l2p(1.2), r.top + L._size.t + L._size.h / 2]; }"
    )
    page.mouse.click(x, y)
    page.wait_for_function("() => new URLSearchParams(location.search).get('recurrent_scale') === '1.2'", timeout=bs.RERUN_MS)
    assert bs.exceptions(page) == []


def test_a_lesson_walks_on_with_next_and_keeps_its_link(open_app):
    """?lesson=vanishing-tanh shows its claim as checked; Next opens the next lesson, its settings and its link."""
    page = open_app("?lesson=vanishing-tanh")
    page.get_by_text("measured on this run").first.wait_for(timeout=bs.RERUN_MS)
    bs.wait_rerun(page, lambda: page.get_by_role("button", name="Next").first.click())
    page.wait_for_function("() => new URLSearchParams(location.search).get('lesson') === 'exploding'", timeout=bs.RERUN_MS)
    assert bs.url_param(page, "activation") == "linear"
    assert bs.exceptions(page) == []


def test_presentation_mode_for_a_projector(open_app):
    """?present=1: no Streamlit header, sidebar folded, chart text ≥ 18 px; the screenshot is the README's kind of picture."""
    page = open_app("?present=1&lesson=vanishing-tanh")
    page.wait_for_selector(bs.CHART, timeout=bs.RERUN_MS)
    bs.wait_idle(page, bs.RERUN_MS)
    header = page.evaluate(
        "() => { const h = document.querySelector('[data-testid=\"stHeader\"]'); return h ? getComputedStyle(h).display : 'none'; }"
    )
    sidebar = page.evaluate(
        "() => { const s = document.querySelector('[data-testid=\"stSidebar\"]');"
        " return s ? (s.getBoundingClientRect().right <= 5 || s.getBoundingClientRect().width <= 5 ? 'false' : 'true') : 'false'; }"
    )
    font = page.evaluate(f"() => document.querySelector({bs.CHART!r})._fullLayout.font.size")
    assert header == "none" and sidebar == "false" and font >= 18, (header, sidebar, font)
    page.screenshot(path=str(ARTIFACTS / "presentation.png"), animations="disabled")
