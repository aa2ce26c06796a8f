"""Save docs/screenshot.png for the README: the real app in Chromium after a short training run, so the heatmap shows.

    python bench/screenshot.py                  # default configuration below
    python bench/screenshot.py --query "cell=lstm&forget_bias=1" --out docs/lstm.png

Also saves docs/gradient_flow.png (the first tab, untrained network) beside it. The settings
travel in the page URL, exactly as a shared link would carry them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import browser_support as bs  # noqa: E402 (lives with the browser test it serves)

# A tanh RNN on remember-the-first-input (T = 40): untrained, the gradient fades ~100x on the way back to step 0;
# within 150 Adam steps the network learns to carry the first input, the loss falls far below the trivial
# baseline, and the heatmap shows the gradient at the early steps coming alive.
QUERY = "task=first&seq_len=40&recurrent_scale=1.0&lr=0.005&steps=150&every=3"
SIZE = {"width": 1500, "height": 1100}  # tall enough for tabs, progress and the whole training dashboard
# Bring the element to the top, then scroll its scrolling ancestor (Streamlit's main column) back by px.
SCROLL_JS = """(el, px) => {
  el.scrollIntoView({block: 'start'});
  let box = el.parentElement;
  while (box && !(box.scrollHeight > box.clientHeight && /(auto|scroll)/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
  (box || document.scrollingElement).scrollBy(0, -px);
}"""


def park_mouse(page) -> None:
    """Mouse to the empty right margin: no Plotly toolbar, hover label or sidebar control in the picture."""
    page.mouse.move(SIZE["width"] - 12, SIZE["height"] // 2)


def scroll_to(page, selector: str, above_px: int = 0) -> None:
    """Scroll the app's main column so that selector sits above_px below the top of the window; park the mouse."""
    page.locator(selector).first.evaluate(SCROLL_JS, above_px)
    park_mouse(page)
    page.wait_for_timeout(300)  # let the page settle after the scroll (animations are disabled for the shot)


def above_report(page) -> dict:
    """The window down to the run's closing message, so no half-cut box sits at the bottom edge."""
    box = page.get_by_test_id("stAlert").first.bounding_box()
    height = SIZE["height"] if box is None or box["y"] <= SIZE["height"] / 2 else min(SIZE["height"], int(box["y"]) - 8)
    return {"x": 0, "y": 0, "width": SIZE["width"], "height": height}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--query", default=QUERY, help="page URL parameters (a shared link's ?...)")
    parser.add_argument("--out", type=Path, default=bs.ROOT / "docs" / "screenshot.png")
    args = parser.parse_args()
    reason = bs.missing_reason()
    if reason:
        print(f"cannot take the screenshot: {reason}", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with bs.streamlit_server(args=("--client.toolbarMode", "viewer")) as url, sync_playwright() as pw:
        browser = bs.launch(pw)
        try:
            page = browser.new_page(viewport=SIZE, device_scale_factor=1)
            page.goto(f"{url}/?{args.query}")
            bs.wait_idle(page, bs.FIRST_LOAD_MS)
            if bs.exceptions(page):
                print("the app raised:\n" + "\n".join(bs.exceptions(page)), file=sys.stderr)
                return 1
            flow = args.out.with_name("gradient_flow.png")
            park_mouse(page)
            page.screenshot(path=str(flow), animations="disabled")
            page.get_by_role("tab", name="Training").click()
            run = page.get_by_role("button", name="Run training")
            run.wait_for(timeout=bs.RERUN_MS)
            page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)
            run.click()
            page.locator('[data-testid="stProgress"] [role="progressbar"][aria-valuenow="100"]').wait_for(timeout=300_000)
            page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)
            scroll_to(page, '[data-testid="stTabs"] [role="tablist"]', above_px=75)
            clip = above_report(page)
            page.screenshot(path=str(args.out), animations="disabled", clip=clip)
        finally:
            browser.close()
    print(f"saved {args.out} ({clip['width']} x {clip['height']}) and {flow} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
