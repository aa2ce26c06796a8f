"""Every lesson as a student's phone shows it (390x844, touch): the first screen, and the gradient chart scrolled into view.

python bench/screenshot_phone.py [--out artifacts/phone-lessons] [--lesson SLUG ...]
Saves NN-<slug>-top.png (the viewport as the link opens) and NN-<slug>-gradient.png (the page scrolled so the
"How the gradient flows" chart starts near the top) for each lesson in ui/teaching/lessons.toml, to be read by eye.
tests/test_browser_phone.py checks the same phone layout by rule; this is for the eye, and prints what it can measure:
each shot's chart size and whether the gradient chart's title, plot and legend fit the screen.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
import browser_support as bs  # noqa: E402

from ui.teaching.lessons import LESSONS  # noqa: E402

PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)
SCROLLER = '[data-testid="stMain"]'  # Streamlit's main column scrolls; the document itself never does
GRADIENT = "How the gradient flows"
# Scroll the main column so the gradient chart starts below Streamlit's header (~60 px); its box on screen afterwards (CSS px).
BRING_UP_JS = f"""title => {{
  const gd = Array.from(document.querySelectorAll({bs.CHART!r}))
    .find(g => g.getBoundingClientRect().width > 0 && (g._fullLayout.title.text || "").replace(/<[^>]+>/g, "").includes(title));
  if (!gd) return null;
  const main = document.querySelector({SCROLLER!r});
  main.scrollTop += gd.getBoundingClientRect().top - 64;
  const r = gd.getBoundingClientRect();
  return {{top: Math.round(r.top), bottom: Math.round(r.bottom), width: Math.round(r.width), height: Math.round(r.height)}};
}}"""


def shoot(context, url: str, slug: str, out: Path, n: int) -> str:
    """Both screenshots of one lesson in a fresh tab (its own session); a line saying what was measured."""
    page = context.new_page()
    page.goto(f"{url}/?lesson={slug}")
    bs.wait_idle(page, bs.FIRST_LOAD_MS)
    time.sleep(1.0)  # fonts and the charts' fitted redraw settle (a screenshot, not a measurement)
    stem = f"{n:02d}-{slug}"
    page.screenshot(path=str(out / f"{stem}-top.png"), animations="disabled")
    box = page.evaluate(BRING_UP_JS, GRADIENT)
    if box is None:
        page.close()
        return f"{stem}: no gradient chart on the page"
    time.sleep(0.5)
    page.screenshot(path=str(out / f"{stem}-gradient.png"), animations="disabled")
    page.close()
    over = box["bottom"] - PHONE["viewport"]["height"]
    fits = "fits the screen" if over <= 0 else f"runs {over} px below it"
    return f"{stem}: gradient chart {box['width']}x{box['height']} px, {fits}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "phone-lessons"))
    parser.add_argument("--lesson", nargs="*", help="only these slugs (default: every lesson)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    lessons = [(i + 1, lesson.slug) for i, lesson in enumerate(LESSONS) if not args.lesson or lesson.slug in args.lesson]
    with bs.streamlit_server(out / "server.log") as url, sync_playwright() as pw:
        browser = bs.launch(pw)
        try:
            context = browser.new_context(**PHONE)
            for n, slug in lessons:
                print(shoot(context, url, slug, out, n), flush=True)
        finally:
            browser.close()
    print(f"saved to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
