"""The backward pass in Chromium: the animation plays its frames, a click opens a step's formula; axe-core finds no
serious or critical violation on any tab at 1280x720 (the page's own; Streamlit's, if any, are listed in STREAMLIT_OWN).

Run alone: `pytest tests/test_browser_backward.py -m browser` (about 2-4 minutes; it starts its own server).
"""

from __future__ import annotations

import json
from pathlib import Path

import browser_support as bs
import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser-backward"
QUERY = "?cell=lstm&seq_len=40&hidden_size=16&batch_size=4&forget_bias=1"
T, WINDOW, SUB = 40, 30, 4
FRAMES = (WINDOW - 1) * SUB + 1  # the last 30 steps, 4 frames a step (viz/backward_anim.py)
TABS = ["Gradient flow", "Phase diagram", "Training", "Gates", "Connectivity", "Unrolled graph", "Learn"]
STREAMLIT_OWN: set[str] = set()  # axe rule ids that only Streamlit's own markup breaks and the page cannot fix (none found)
STEP_BOX = "Step t (the step back from t to t − 1)"
ANIM = "c.title.includes('The backward pass')"
GD = """() => Array.from(document.querySelectorAll('[data-testid="rnnlabChart"].js-plotly-plot'))
  .find(g => ((g._fullLayout || {}).title || {}).text && g._fullLayout.title.text.includes('The backward pass'))"""


@pytest.fixture(scope="module")
def server():
    with bs.served_chromium(ARTIFACTS) as served:
        yield served


@pytest.fixture
def page(server):
    chromium, url = server
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(bs.PROBE_JS)
    tab = context.new_page()
    tab.goto(url + QUERY)
    bs.wait_first_chart(tab)
    yield tab
    context.close()


def open_tab(page, name: str) -> None:
    """Open a tab and wait until the page is idle (a tab whose content is kept may run nothing at all)."""
    tab = page.get_by_role("tab", name=name)
    tab.click()
    page.wait_for_function(f"() => document.querySelector('[role=tab][aria-selected=true]')?.textContent.includes({name!r})")
    page.wait_for_timeout(500)  # a rerun the click started has begun by now
    page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)


def test_animation_plays_every_frame(page):
    open_tab(page, "Unrolled graph")
    bs.wait_chart(page, ANIM)
    info = page.evaluate(
        f"() => {{ const gd = ({GD})(); return {{frames: gd._transitionData._frames.length, meta: gd._fullLayout.meta}}; }}"
    )  # noqa: E501
    assert info["frames"] == FRAMES == info["meta"]["frames"]
    assert "per step" in info["meta"]["alt"]
    played = page.evaluate(
        f"""async () => {{
          const gd = ({GD})();
          let applied = 0;
          gd.on('plotly_animatingframe', () => {{ applied += 1; }});
          const done = new Promise(resolve => gd.on('plotly_animated', resolve));
          const play = [...gd.querySelectorAll('.updatemenu-button')].find(b => b.textContent.includes('Play'));
          play.dispatchEvent(new MouseEvent('click', {{bubbles: true}}));
          await Promise.race([done, new Promise(r => setTimeout(r, 60000))]);
          const pulse = gd._fullData.find(d => d.name === 'pulse');
          return {{applied, pulse: Array.from(pulse.x), label: gd.getAttribute('aria-label')}};
        }}"""
    )
    assert played["applied"] >= FRAMES - 1  # every frame after the first was shown
    assert set(played["pulse"]) == {T - WINDOW}  # the gradient reached the window's first step
    assert "per step" in played["label"]  # the text alternative is the chart's aria-label


def test_click_on_a_step_opens_its_formula(page):
    open_tab(page, "Unrolled graph")
    bs.wait_chart(page, ANIM)
    step = T - 3
    x, y = page.evaluate(
        f"""() => {{ const gd = ({GD})(); const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
          gd.scrollIntoView();
          const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
          return [box.left + xa.l2p({step}), box.top + ya.l2p(1.0)]; }}"""
    )
    page.mouse.click(x, y)
    box = page.get_by_role("spinbutton", name=STEP_BOX)
    page.wait_for_function(f"() => Array.from(document.querySelectorAll('input')).some(i => i.value === '{step}')", timeout=bs.RERUN_MS)
    page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)
    assert box.input_value() == str(step)
    assert page.locator(".katex").count() >= 2  # the LSTM's two lines of formula
    assert page.get_by_text("gates.f[t].mean").count() == 1  # the mean forget gate's row, read from the trace


def test_click_on_the_gradient_curve_opens_the_same_formula(page):
    bs.wait_chart(page, "c.title.includes('‖')")  # Gradient flow: the tab a page opens on
    emit = """() => { const gd = Array.from(document.querySelectorAll('[data-testid="rnnlabChart"].js-plotly-plot'))[0];
      gd.emit('plotly_click', {points: [{x: 20}]}); }"""
    assert page.get_by_role("spinbutton", name=STEP_BOX).count() == 0  # no formula before a click
    page.evaluate(emit)
    box = page.get_by_role("spinbutton", name=STEP_BOX)
    box.wait_for(timeout=bs.RERUN_MS)
    page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)
    assert box.input_value() == "20"


def test_axe_finds_no_serious_violation_on_any_tab(page):
    from axe_playwright_python.sync_playwright import Axe

    axe, found = Axe(), {}
    for name in TABS:
        open_tab(page, name)
        result = axe.run(page)
        for v in result.response["violations"]:
            if v["impact"] in ("serious", "critical") and v["id"] not in STREAMLIT_OWN:
                found.setdefault(name, []).append({"rule": v["id"], "nodes": [(n["target"], n.get("failureSummary")) for n in v["nodes"]]})
    (ARTIFACTS / "axe.json").write_text(json.dumps(found, indent=1))
    assert not found, {tab: [(v["rule"], len(v["nodes"])) for v in vs] for tab, vs in found.items()}
