"""Save docs/presentation.png for the README: a lesson in presentation mode, as a projector shows it.

python bench/screenshot_present.py [--query "present=1&lesson=vanishing-tanh"] [--out docs/presentation.png]
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
    parser.add_argument("--out", default=str(ROOT / "docs" / "presentation.png"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with bs.streamlit_server(ROOT / "artifacts" / "screenshot_server.log") as url, sync_playwright() as pw:
        browser = bs.launch(pw)
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        page.goto(f"{url}/?{args.query}")
        page.wait_for_selector(bs.CHART, timeout=bs.FIRST_LOAD_MS)
        bs.wait_idle(page, bs.RERUN_MS)
        time.sleep(1.0)
        page.mouse.move(1590, 890)
        page.screenshot(path=args.out, animations="disabled")
        browser.close()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
