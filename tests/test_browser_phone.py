"""A student's phone (390 × 844, touch) in a real Chromium: the page scrolls under a swipe, nothing runs off the screen.

Issue 17: a vertical swipe over a chart zoomed the chart instead of scrolling the page; titles and
notes were cut off at the right; the forget bias had no box to type it in. Here, on the default page,
a lesson link and the phase diagram and unrolled graph tabs: a touch swipe over a chart scrolls the
page (Streamlit's main column, the page's scroller) and leaves the chart's axis ranges exactly as
they were; nothing is wider than the viewport; every chart's title, axis titles, notes and legend
lie inside the chart; the number box beside the forget-bias slider sets the value exactly (the URL,
the slider). Screenshots go to artifacts/phone/. The touch is dispatched through Chromium's own
input pipeline (CDP Input.dispatchTouchEvent), as a finger's would be. No clock: waits are hang guards.
"""

from __future__ import annotations

import browser_support as bs
import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = bs.ROOT / "artifacts" / "phone"
PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=3)
WIDTH = PHONE["viewport"]["width"]
SCROLLER = '[data-testid="stMain"]'  # Streamlit's main column scrolls; the document itself never does
SWIPE_PX = 300
LESSON = "vanishing-tanh"

# Every drawn chart on the page: its box, its axis ranges, and the text that leaves the box (title, axis titles, notes, legend).
CHARTS_JS = """() => Array.from(document.querySelectorAll('[data-testid="rnnlabChart"].js-plotly-plot'))
  .filter(gd => gd._fullLayout && gd.getBoundingClientRect().width > 0)
  .map(gd => {
    const box = gd.getBoundingClientRect(), L = gd._fullLayout;
    const out = [];
    for (const t of gd.querySelectorAll('.gtitle, .g-xtitle text, .g-ytitle text, .annotation-text, .legendtext')) {
      const b = t.getBoundingClientRect();
      if (b.width && (b.left < box.left - 1 || b.right > box.right + 1 || b.top < box.top - 1 || b.bottom > box.bottom + 1))
        out.push(t.textContent.slice(0, 60));
    }
    const ranges = Object.keys(L).filter(k => /^[xy]axis\\d*$/.test(k)).map(k => [k, L[k].range.slice()]);
    return {title: (L.title.text || '').replace(/<[^>]+>/g, ''), width: box.width, outside: out, ranges, dragmode: L.dragmode};
  })"""
WIDEST_JS = f"""() => {{
  const main = document.querySelector({SCROLLER!r});
  const wide = Array.from(document.querySelectorAll('body *')).filter(e => {{
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > {WIDTH} + 1 && !e.closest('[role="tablist"]') && !e.closest('[data-testid="stSidebar"]');
  }}).map(e => e.tagName + '.' + (e.getAttribute('data-testid') || ''));
  return {{doc: document.documentElement.scrollWidth, main: main.scrollWidth, mainClient: main.clientWidth, wide: wide.slice(0, 5)}};
}}"""


@pytest.fixture(scope="module")
def server():
    with bs.served_chromium(ARTIFACTS) as served:
        yield served


@pytest.fixture
def phone(server):
    """A new phone-sized touch window (its own session) at a query string, once its first chart is drawn; closed after."""
    chromium, url = server
    contexts = []

    def opener(query: str = ""):
        context = chromium.new_context(**PHONE)
        context.add_init_script(bs.PROBE_JS)  # the page's run state, read by browser_support.wait_rerun
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{url}/{query}")
        bs.wait_idle(page, bs.FIRST_LOAD_MS)
        return page

    yield opener
    for context in contexts:
        context.close()


def charts(page) -> list[dict]:
    page.wait_for_function(f"() => ({CHARTS_JS})().length > 0", timeout=bs.RERUN_MS)
    return page.evaluate(CHARTS_JS)


def scroll_top(page) -> float:
    return page.evaluate(f"() => document.querySelector({SCROLLER!r}).scrollTop")


def bring_chart_up(page, index: int) -> dict:
    """Scroll the page (not the chart) so chart `index` starts near the top of the screen; its plot area, and the room
    the page has left to scroll down, in CSS px."""
    return page.evaluate(
        f"""i => {{
      const gd = Array.from(document.querySelectorAll({bs.CHART!r})).filter(g => g.getBoundingClientRect().width > 0)[i];
      const main = document.querySelector({SCROLLER!r});
      main.scrollTop += gd.getBoundingClientRect().top - 60;
      const r = gd.getBoundingClientRect(), s = gd._fullLayout._size;
      return {{x: r.left + s.l + s.w / 2, top: r.top + s.t, bottom: r.top + s.t + s.h,
               below: main.scrollHeight - main.clientHeight - main.scrollTop}};
    }}""",
        index,
    )


def swipe(page, plot: dict, dy: float, moves: int = 12) -> None:
    """A finger drawn dy px over the chart's plot area (dy < 0: upward, the page moves on), through Chromium's touch input."""
    height = PHONE["viewport"]["height"]
    y = min(plot["bottom"] - 10, height - 20) if dy < 0 else max(plot["top"] + 10, 20)
    assert plot["top"] < y < plot["bottom"] and 0 < y + dy < height, (plot, y, dy)  # on the plot, and the finger stays on screen
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": plot["x"], "y": y}]})
    for k in range(1, moves + 1):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": plot["x"], "y": y + dy * k / moves}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def check_fits(page, where: str) -> list[dict]:
    """Nothing wider than the phone, every chart's text inside its chart; returns the charts read."""
    widest = page.evaluate(WIDEST_JS)
    assert widest["doc"] <= WIDTH and widest["main"] <= widest["mainClient"] and not widest["wide"], (where, widest)
    drawn = charts(page)
    for chart in drawn:
        assert chart["width"] <= WIDTH and chart["outside"] == [], (where, chart["title"], chart["outside"])
        assert chart["dragmode"] is False, (where, chart["title"])  # touch: a drag is the page's, never a zoom
    return drawn


def screenshot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), animations="disabled")


def shoot_charts(page, name: str) -> None:
    """The top of the page, then each chart brought to the top of the screen."""
    page.evaluate(f"() => {{ document.querySelector({SCROLLER!r}).scrollTop = 0; }}")
    screenshot(page, f"{name}-top")
    for i in range(len(charts(page))):
        bring_chart_up(page, i)
        screenshot(page, f"{name}-chart{i}")


@pytest.mark.parametrize("query, name", [("", "default"), (f"?lesson={LESSON}", "lesson")])
def test_a_swipe_over_a_chart_scrolls_the_page_and_nothing_runs_off_the_screen(phone, query, name):
    page = phone(query)
    before = check_fits(page, name)
    shoot_charts(page, name)
    plot = bring_chart_up(page, 0)
    start = scroll_top(page)
    onward = plot["below"] >= SWIPE_PX  # room left below: the finger goes up and the page on; else down and the page back
    swipe(page, plot, -SWIPE_PX if onward else SWIPE_PX)
    moved = f"s + {SWIPE_PX // 2} <= top" if onward else f"top <= s - {SWIPE_PX // 2}"
    page.wait_for_function(  # the page moved under the finger (a fling may carry it further)
        f"s => {{ const top = document.querySelector({SCROLLER!r}).scrollTop; return {moved}; }}", arg=start, timeout=30_000
    )
    after = charts(page)
    assert [c["ranges"] for c in after] == [c["ranges"] for c in before]  # no chart zoomed or panned, to the last digit
    assert bs.exceptions(page) == []


@pytest.mark.parametrize("tab", ["Phase diagram", "Unrolled graph"])
def test_the_wide_views_reflow_on_a_phone(phone, tab):
    page = phone()
    page.get_by_role("tab", name=tab).click()
    title = {"Phase diagram": "Phase diagram", "Unrolled graph": "Unrolled network"}[tab]
    page.wait_for_function(f"t => ({CHARTS_JS})().some(c => c.title.startsWith(t))", arg=title, timeout=bs.RERUN_MS)
    page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)
    drawn = check_fits(page, tab)
    first = drawn[0]
    plot = page.evaluate(f"() => document.querySelector({bs.CHART!r})._fullLayout._size.w")
    assert plot >= 0.6 * first["width"], (tab, plot, first["width"])  # the data gets most of the width, not a 150 px strip
    if tab == "Unrolled graph":
        lo, hi = dict(first["ranges"])["xaxis"]
        assert hi - lo <= 14 and "showing the last 12 of 50 steps" in first["title"]  # the phone's window, and its words
    shoot_charts(page, tab.lower().replace(" ", "-"))
    assert bs.exceptions(page) == []


def test_the_number_box_sets_the_forget_bias_exactly(phone):
    page = phone("?cell=lstm")
    page.locator('[data-testid="stExpandSidebarButton"]').click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    box = sidebar.get_by_role("spinbutton", name="Forget-gate bias")
    box.wait_for(timeout=bs.RERUN_MS)
    bs.wait_rerun(page, lambda: (box.fill("0.37"), box.press("Enter")))
    page.wait_for_function("() => new URLSearchParams(location.search).get('forget_bias') === '0.37'", timeout=bs.RERUN_MS)
    slider = sidebar.get_by_role("slider", name="Forget-gate bias")
    shown = slider.evaluate("e => e.getAttribute('aria-valuenow') ?? e.getAttribute('aria-valuetext') ?? String(e.value)")
    assert box.input_value() == "0.37" and shown == "0.37"  # the slider beside it follows, off its 0.1 grid
    box.scroll_into_view_if_needed()
    screenshot(page, "sidebar-forget-bias")
    assert bs.exceptions(page) == []
