"""Frames per second of the backward-pass animation (viz/backward_anim.py) played in Chromium.

Run `python bench/bench_backward_anim.py [--cell lstm] [--seq-len 100] [--json]` (about 20 s).
The figure is written to a page with the same plotly.js the app serves (static/, else plotly.py's
own bundle); Chromium presses its Play button and the page counts, on its own performance.now()
clock, the animation frames Plotly applies (plotly_animatingframe) and the frames the browser
paints (requestAnimationFrame) until Plotly reports the end (plotly_animated). Target: 30 fps.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import Config, run  # noqa: E402
from viz.backward_anim import backward_animation  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
ARGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]

PLAY_JS = """async () => {
  const gd = document.querySelector('.js-plotly-plot');
  const out = {applied: 0, painted: 0};
  let painting = true;
  const paint = () => { out.painted += 1; if (painting) requestAnimationFrame(paint); };
  const done = new Promise(resolve => gd.on('plotly_animated', resolve));
  gd.on('plotly_animatingframe', () => { out.applied += 1; });
  const button = [...gd.querySelectorAll('.updatemenu-button')].find(b => b.textContent.includes('Play'));
  const t0 = performance.now();
  requestAnimationFrame(paint);
  button.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  await done;
  painting = false;
  out.seconds = (performance.now() - t0) / 1000;
  out.frames = gd._transitionData._frames.length;
  return out;
}"""


def plotly_js() -> Path:
    served = ROOT / "static" / "plotly-cartesian.min.js"
    if served.exists():
        return served
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def measure(cell: str, seq_len: int, reduced: bool = False) -> dict:
    from playwright.sync_api import sync_playwright

    trace = run(Config(cell=cell, seq_len=seq_len, hidden_size=32, batch_size=8, task="adding"), terms=True)
    t0 = time.perf_counter()
    fig = backward_animation(trace, reduced_motion=reduced)
    build = time.perf_counter() - t0
    spec = fig.to_json()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "anim.html"
        page.write_text(
            f'<html><head><script src="{plotly_js().as_uri()}"></script></head><body><div id="g"></div>'
            f"<script>const f = {spec}; Plotly.newPlot('g', f.data, f.layout).then(gd => Plotly.addFrames(gd, f.frames))"
            ".then(() => { window.ready = true; });</script></body></html>"
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            try:
                tab = browser.new_page(viewport=dict(width=1280, height=720))
                tab.goto(page.as_uri())
                tab.wait_for_function("window.ready === true", timeout=30_000)
                out = tab.evaluate(PLAY_JS)
            finally:
                browser.close()
    out.update(cell=cell, seq_len=seq_len, reduced_motion=reduced, build_s=round(build, 3), figure_kb=round(len(spec) / 1024))
    out["fps_applied"] = round(out["applied"] / out["seconds"], 1)
    out["fps_painted"] = round(out["painted"] / out["seconds"], 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", default="lstm")
    ap.add_argument("--seq-len", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = measure(args.cell, args.seq_len)
    if args.json:
        print(json.dumps(out))
        return
    print(
        f"{out['cell']} T={out['seq_len']}: {out['frames']} frames played in {out['seconds']:.2f} s: "
        f"{out['fps_applied']} animation frames/s applied, {out['fps_painted']} paints/s (target 30); "
        f"figure {out['figure_kb']} kB, built in {out['build_s'] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
