"""The whole lecture in Chromium at 1280x720, in presentation mode, driven only by the page's own controls.

From `?present=1&lesson=<first>`: for every lesson, every step: answer its question (if it asks
one), press the buttons the step names in the lesson card, Reveal, then Next. At every stop a
chart with finite data and the claim must both lie inside the 720 px viewport, and the lesson
text must be at least 24 px. Screenshots of every stop go to artifacts/lecture/ (look at them).
Also: "⚙ Settings" opens the folded sidebar, "Leave presentation" ends the mode, the keyboard
reaches the lesson's controls first and never a chart's toolbar, and "Start here" / Learn's
"Set the controls" land on the chart. No clock is read: the waits only wait.
"""

from __future__ import annotations

import json

import browser_support as bs
import pytest

from ui.page import widget_values
from ui.serving import limits
from ui.teaching import lesson_steps, lessons

pytestmark = pytest.mark.browser

ARTIFACTS = bs.ROOT / "artifacts" / "lecture"
WIDTH, HEIGHT = 1280, 720
PANEL = ".st-key-lesson_panel"
CLAIM = ".st-key-lesson_claim"
MIN_LESSON_PX = 24
DEFAULTS = widget_values.defaults(limits.caps())  # a control at its default is left out of the link

# Every chart of the page: its box and how many finite numbers its traces hold (y values, or heatmap cells).
CHARTS_JS = """() => Array.from(document.querySelectorAll('[data-testid="rnnlabChart"].js-plotly-plot'))
  .filter(gd => gd._fullData && gd.offsetParent !== null)
  .map(gd => {
    const r = gd.getBoundingClientRect();
    let finite = 0;
    for (const d of gd._fullData) {
      for (const v of (d.y || [])) if (v !== null && Number.isFinite(Number(v))) finite++;
      for (const row of (d.z || [])) for (const v of (row || [])) if (v !== null && Number.isFinite(Number(v))) finite++;
    }
    const svg = gd.querySelector('svg.main-svg');
    const col = (gd.closest('[data-testid="stColumn"]') || gd.parentElement).getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, finite, svg_width: svg ? svg.getBoundingClientRect().width : null,
            svg_right: svg ? svg.getBoundingClientRect().right : null, width: r.width, column_right: col.right,
            title: ((gd._fullLayout.title || {}).text || '').replace(/<[^>]+>/g, '')};
  })"""
BOX_JS = "sel => { const e = document.querySelector(sel); return e && [e.getBoundingClientRect().top, e.getBoundingClientRect().bottom]; }"
IN_CELL_JS = '() => !!document.activeElement.closest(\'[data-testid="stSidebar"] [role="radiogroup"]\')'
# Font sizes (px) of the lesson card's text: step and claim paragraphs, captions, the lesson link, the claim box.
FONTS_JS = f"""() => {{
  const px = sel => Array.from(document.querySelectorAll(sel)).map(e => parseFloat(getComputedStyle(e).fontSize));
  return {{
    text: px('{PANEL} [data-testid="stMarkdownContainer"] p'),
    captions: px('{PANEL} [data-testid="stCaptionContainer"]'),
    link: px('{PANEL} code'),
    claim_box: px('{CLAIM} [data-testid="stAlert"] p'),
  }};
}}"""
# Notes a script run once seen (the app's data-test-script-state at "running"): sampled every 10 ms and on every change.
RUNS_JS = """() => { window.__runs = 0; clearInterval(window.__runsPoll);
  const state = () => document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state');
  const note = () => { if (state() === 'running') window.__runs++; };
  window.__runsPoll = setInterval(note, 10);
  new MutationObserver(records => { for (const r of records) if (r.oldValue === 'running') window.__runs++; note(); })
    .observe(document.querySelector('[data-testid="stApp"]'), {attributes: true, attributeOldValue: true}); }"""
SETTLED_JS = """() => window.__runs > 0
  && document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state') === 'notRunning'"""
# Every chart on the page drawn: none queued in ui/page/plotly_chart.js (a chart that left the page may stay queued: not counted).
DRAWN_JS = """() => { const q = window.__rnnlabCharts;
  return !q || (!q.running && Array.from(q.waiting).every(div => !div.isConnected)); }"""


@pytest.fixture(scope="module")
def server():
    with bs.served_chromium(ARTIFACTS) as (browser, url):
        yield url, browser


def _page(server, query: str):
    url, browser = server
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    page.goto(f"{url}/?{query}")
    page.wait_for_selector(bs.IDLE, timeout=bs.FIRST_LOAD_MS)
    _settle(page)
    return page


def _settle(page) -> None:
    """Until no script runs and every chart is drawn, twice over a pause: the first run's URL writes rerun the page."""
    for _ in range(2):
        page.wait_for_timeout(400)
        page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)
        page.wait_for_function(DRAWN_JS, timeout=bs.RERUN_MS, polling=50)
    assert bs.exceptions(page) == []


def _click(page, locator, until: str | None = None) -> None:
    """Click, then wait for what it does (a JS predicate `until`; else a script run seen), the page idle, charts drawn."""
    page.evaluate(RUNS_JS)
    locator.click()
    page.wait_for_function(until or SETTLED_JS, timeout=bs.RERUN_MS, polling=50)
    _settle(page)


def _card_says(text: str) -> str:
    """A JS predicate: the lesson card's text contains this."""
    return f"() => (document.querySelector({PANEL!r}) || {{}}).innerText?.includes({text!r})"


def _tab_open(name: str) -> str:
    """A JS predicate: the tab called name is the selected one."""
    return f"() => [...document.querySelectorAll('[role=tab]')].some(t => t.ariaSelected === 'true' && t.innerText.trim() === {name!r})"


def _url_says(values: dict) -> str:
    """A JS predicate: the link holds these values as the page writes them (a control at its default is left out)."""
    written = {k: None if v == DEFAULTS.get(k) else repr(v) if isinstance(v, float) else str(v) for k, v in values.items()}
    return f"() => Object.entries({json.dumps(written)}).every(([k, v]) => new URLSearchParams(location.search).get(k) === v)"


def _panel_button(page, label: str):
    return page.locator(PANEL).get_by_role("button", name=label, exact=True)


def _inside(box) -> bool:
    return box is not None and box[0] >= 0 and box[1] <= HEIGHT


def _fits(chart: dict) -> bool:
    """The chart and its drawn figure (the main svg) end inside the viewport and inside the column that holds them."""
    right = max(chart["right"], chart["svg_right"] or 0)
    return (
        chart["svg_width"] is not None
        and chart["svg_width"] <= chart["width"] + 1
        and right <= WIDTH
        and right <= chart["column_right"] + 1
    )


def test_the_whole_lecture_at_1280x720_with_the_pages_own_controls(server):
    page = _page(server, f"present=1&lesson={lessons.LESSONS[0].slug}")
    fonts, stops = {}, []
    for n, lesson in enumerate(lessons.LESSONS, 1):
        for k in range(1, len(lesson.steps) + 1):
            card = page.locator(PANEL).inner_text()
            assert f"Lesson {n} of {len(lessons.LESSONS)}" in card and f"Step {k} of {len(lesson.steps)}" in card, card[:200]
            predict = lesson_steps.predict_for(lesson.slug, k)
            if predict is not None:  # the class guesses first: no chart and no claim until Reveal
                assert page.locator(CLAIM).count() == 0 and not page.evaluate(CHARTS_JS)
                page.locator(PANEL).get_by_text(predict.answer, exact=True).click()
            for control in lesson_steps.controls_for(lesson.slug, k):
                # the link follows the card's buttons, as it follows the sidebar; a tab button opens its tab
                until = _url_says(control.set) if control.set else _tab_open(control.tab) if control.tab else None
                _click(page, _panel_button(page, control.label), until)
            if predict is not None:
                _click(page, _panel_button(page, "Reveal"), _card_says("Answer:"))
                assert f"your guess “{predict.answer}” ✓" in page.locator(PANEL).inner_text()
            shown = [c for c in page.evaluate(CHARTS_JS) if c["finite"] >= 2 and c["top"] >= 0 and c["bottom"] <= HEIGHT]
            claim = page.evaluate(BOX_JS, CLAIM)
            page.screenshot(path=str(ARTIFACTS / f"{n:02d}-{lesson.slug}-step{k}.png"), animations="disabled")
            stops.append({"lesson": lesson.slug, "step": k, "claim": claim, "charts": page.evaluate(CHARTS_JS)})
            assert shown, (lesson.slug, k, page.evaluate(CHARTS_JS))
            for chart in page.evaluate(CHARTS_JS):  # every chart fits its column and the screen (one drawn wider kept its width)
                assert _fits(chart), (lesson.slug, k, chart)
            assert _inside(claim), (lesson.slug, k, claim)
            for kind, sizes in page.evaluate(FONTS_JS).items():
                fonts.setdefault(kind, set()).update(sizes)
            if n == len(lessons.LESSONS) and k == len(lesson.steps):
                assert _panel_button(page, "Next →").count() == 0  # in the bar above the card
                assert page.get_by_role("button", name="Next →").is_disabled()
            else:
                following = f"Step {k + 1} of" if k < len(lesson.steps) else f"Lesson {n + 1} of"
                _click(page, page.get_by_role("button", name="Next →"), _card_says(following))
    measured = {kind: sorted(sizes) for kind, sizes in fonts.items()}
    (ARTIFACTS / "fonts.json").write_text(json.dumps(measured, indent=1))
    (ARTIFACTS / "stops.json").write_text(json.dumps(stops, indent=1))
    for kind in ("text", "captions", "link", "claim_box"):
        assert measured[kind] and min(measured[kind]) >= MIN_LESSON_PX, (kind, measured[kind])


def test_settings_opens_the_sidebar_and_leave_ends_presentation(server):
    page = _page(server, f"present=1&lesson={lessons.LESSONS[0].slug}")
    sidebar = page.locator('[data-testid="stSidebar"]')
    leave = page.get_by_role("button", name="Leave presentation")
    home = leave.bounding_box()
    assert sidebar.get_attribute("data-collapsed") == "true"
    assert page.locator('[data-testid="stHeader"]').is_hidden()  # Streamlit's own sidebar button is not there to press
    page.get_by_role("button", name="⚙ Settings").click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]').getAttribute('data-collapsed') === 'false'")
    cell = sidebar.get_by_role("radiogroup", name="Cell")
    cell.wait_for(state="visible")
    # the sidebar slides in: wait for the slide to end (a state), then the Cell choice must be on the screen
    page.wait_for_function(
        '() => { const r = document.querySelector(\'[data-testid="stSidebar"] [role="radiogroup"]\').getBoundingClientRect();'
        " return r.x >= 0 && r.width > 0; }",
        timeout=30_000,
    )
    box = cell.bounding_box()
    assert box and 0 <= box["x"] < WIDTH and 0 <= box["y"] < HEIGHT
    page.get_by_role("button", name="⚙ Settings").click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]').getAttribute('data-collapsed') === 'true'")
    page.wait_for_function(  # the page has slid back from under the sidebar (a click during the slide can miss)
        "([sel, x]) => Math.abs(document.querySelector(sel).getBoundingClientRect().x - x) < 1",
        arg=[".st-key-present_leave button", home["x"]],
    )
    _click(page, leave, "() => !new URLSearchParams(location.search).has('present')")
    assert bs.url_param(page, "present") is None
    assert page.locator('[data-testid="stHeader"]').is_visible()
    assert page.get_by_role("button", name="Leave presentation").count() == 0


def test_the_keyboard_reaches_the_lesson_controls_first_and_no_chart_toolbar(server):
    page = _page(server, f"present=1&lesson={lessons.LESSONS[0].slug}")
    focused = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate(
                "() => { const e = document.activeElement; return [e.textContent.trim().slice(0, 40), "
                "!!e.closest('[data-testid=\"stSidebar\"]'), !!e.closest('.modebar')]; }"
            )
        )
    texts = [text for text, _, _ in focused]
    assert "Next →" in texts[:4], texts[:6]  # after the skip link and Previous (disabled on the first step: skipped)
    assert [text for text, in_sidebar, _ in focused if in_sidebar] == []  # the folded sidebar is out of the tab order
    assert [text for text, _, in_toolbar in focused if in_toolbar] == []  # and chart toolbars: a chart is one stop
    chart = page.locator(bs.CHART).first
    chart.focus()
    page.keyboard.press("Enter")  # a chart with focus opens its toolbar to the keyboard
    assert page.evaluate("() => !!document.activeElement.closest('.modebar')")
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('.modebar')")


def test_start_here_and_learns_buttons_land_on_the_chart(server):
    page = _page(server, "")
    presses = 0  # the sidebar comes first: its first control within a few Tab presses
    while presses < 15 and not page.evaluate(IN_CELL_JS):
        page.keyboard.press("Tab")
        presses += 1
    assert page.evaluate(IN_CELL_JS), "15 Tab presses did not reach the Cell choice"
    print(f"Tab presses to the Cell choice on the default page: {presses}")
    _click(page, page.get_by_role("button", name=f"Start here: {lessons.LESSONS[0].title}"), _card_says("Lesson 1 of"))
    assert "Lesson 1 of" in page.locator(PANEL).inner_text()
    _click(page, page.get_by_role("button", name="Close lesson"), f"() => !document.querySelector({PANEL!r})")
    page.get_by_role("tab", name="Learn").click()  # (a tab's rerun can be over before a click's could be noticed)
    page.get_by_text("Try this in the app").first.wait_for(timeout=bs.RERUN_MS)
    _settle(page)
    button = page.get_by_role("button", name="Set the controls").first
    page.get_by_text("Try this in the app").first.click()
    _click(page, button, _tab_open("Gradient flow"))  # Learn's button shows the chart it changed
    chart = page.locator(bs.CHART).first
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
