"""Save docs/presentation.png for the README: a lesson in presentation mode, as a 1280x720 projector shows it.

python bench/screenshot_present.py [--query "present=1&lesson=vanishing-tanh"] [--next N] [--out docs/presentation.png]
--next presses the slide's own "Next →" N times first (a later step).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import browser_support as bs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--query", default="present=1&lesson=vanishing-tanh")
    parser.add_argument("--next", type=int, default=1, help="press Next this many times before the screenshot")
    parser.add_argument("--out", default=str(ROOT / "docs" / "presentation.png"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with bs.streamlit_server(ROOT / "artifacts" / "screenshot_server.log") as url, sync_playwright() as pw:
        browser = bs.launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"{url}/?{args.query}")
        page.wait_for_selector(bs.CHART, timeout=bs.FIRST_LOAD_MS)
        bs.wait_idle(page, bs.RERUN_MS)
        for _ in range(args.next):
            step = page.locator(".st-key-lesson_panel").inner_text()
            page.get_by_role("button", name="Next →").click()
            page.wait_for_function(f"() => document.querySelector('.st-key-lesson_panel').innerText !== {step!r}", timeout=bs.RERUN_MS)
            page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)  # a step with a question shows no chart until Reveal
        time.sleep(1.5)
        page.mouse.move(1270, 710)
        page.screenshot(path=args.out, animations="disabled")
        browser.close()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
