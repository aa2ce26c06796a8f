"""Browser benchmark: what a visitor sees in Chromium against the real `streamlit run app.py` (issue 7's live figures).

Run `python bench/bench_browser.py [--busy] [--json]` (about 1-2 minutes). Every time is taken inside
the page (tests/browser_support.py PROBE_JS: 10 ms and 50 ms timers, requestAnimationFrame and a
MutationObserver, on the page's performance.now() clock), so Python round trips add nothing.
--busy runs one CPU-spinning process alongside, as on a machine shared with other work.
Labels and selectors: the block at the end of tests/browser_support.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import browser_support as bs  # noqa: E402

THREADS = {var: "1" for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
LOG = ROOT / "artifacts" / "browser" / "bench_server.log"


@contextlib.contextmanager
def cpu_burner(on: bool):
    """One Python process spinning on a core while the measurements run (nothing when on is False)."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        yield
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()


def page_loads(context, url: str, loads: int) -> dict:
    """New tab -> first drawn chart (ms from navigation start) after one warm-up load; the warm-up pays the server's imports."""
    times = []
    for i in range(loads + 1):
        page = bs.open_page(context, url + "/")
        ms = bs.wait_first_chart(page)
        page.close()
        if i:
            times.append(ms)
    return {"median_ms": statistics.median(times), "max_ms": max(times), "min_ms": min(times), "n": len(times)}


def control_changes(context, url: str, fresh: int, cached: int) -> dict:
    """Key presses on the recurrent-scale slider, one at a time: `fresh` steps up (new settings), then `cached` back down."""
    page = bs.open_page(context, url + "/")
    bs.wait_first_chart(page)
    page.evaluate("() => window.__probe.watchChanges()")
    slider = page.get_by_role("slider", name=bs.LABEL_SCALE)
    slider.focus()
    out = {}
    for name, key, n in (("fresh", "ArrowRight", fresh), ("cached", "ArrowLeft", cached)):
        before = page.evaluate("() => window.__probe.changes.length")
        for i in range(n):
            slider.press(key)
            page.wait_for_function(f"() => window.__probe.changes.length > {before + i}", timeout=bs.RERUN_MS, polling=20)
            time.sleep(0.2)  # let the page settle before the next change
        ms = page.evaluate("() => window.__probe.changes")[before:]
        parts = page.evaluate("() => window.__probe.parts")[before:]
        out[name] = {
            "median_ms": statistics.median(ms),
            "max_ms": max(ms),
            "n": len(ms),
            "all_ms": [round(m) for m in ms],
            "to_script_running_median_ms": statistics.median(r for r, _ in parts),
            "to_new_chart_data_median_ms": statistics.median(d for _, d in parts),
        }
    page.close()
    return out


def training_and_stop(context, url: str, sample_s: float, stop_after_s: float) -> dict:
    """A 5000-step run sampled for sample_s once its chart is drawn, then Stop; a new run, Stop stop_after_s after Run."""
    page = bs.open_page(context, f"{url}/?{bs.PARAM_STEPS}=5000")
    bs.wait_first_chart(page)
    bs.open_training(page)
    out = {}
    for name, wait_s in (("train", sample_s), ("stop", stop_after_s)):
        bs.start_watch(page)
        clicked = time.monotonic()
        bs.training_button(page, bs.BUTTON_RUN).click()
        bs.wait_training_chart(page)
        since = clicked if name == "stop" else time.monotonic()  # rates: wait_s of drawn chart; Stop: wait_s into the run
        time.sleep(max(0.0, wait_s - (time.monotonic() - since)))
        until = page.evaluate("() => performance.now()")
        bs.training_button(page, bs.BUTTON_STOP).click()  # timed from the click event's own time stamp
        wait_quiet(page)
        rec = bs.end_watch(page)
        if name == "train":
            out["training"] = bs.training_figures(rec, until)
        out[f"stop_at_{name}"] = bs.stop_figures(rec)
    page.close()
    return out


def wait_quiet(page, quiet_s: float = 2.0, limit_s: float = 40.0) -> None:
    """Until the step counter has not changed for quiet_s and the script is idle (or limit_s passed)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.25)
        last = page.evaluate("() => { const s = window.__probe.train.steps; return s.length ? s[s.length - 1][0] : 0; }")
        now, idle = page.evaluate("() => [performance.now(), window.__probe.state() === 'notRunning']")
        if idle and now - last >= quiet_s * 1000:
            return


def settle(below: float, limit_s: float = 180.0) -> None:
    """Wait until the 1-minute load average is below `below` (no wait when 0), at most limit_s."""
    deadline = time.monotonic() + limit_s
    while below > 0 and os.getloadavg()[0] >= below and time.monotonic() < deadline:
        time.sleep(5)


def report(r: dict) -> None:
    """One line per figure, with units."""
    load, ch, tr = r["page_load"], r["control_change"], r["training"]
    lines = [
        f"Chromium against `streamlit run app.py`; load average {r['load_avg']} (after: {r['load_avg_after']}); "
        f"cpu burner: {'on' if r['busy'] else 'off'}",
        f"page load, warm server (new tab -> first chart): median {load['median_ms']:.0f} ms, max {load['max_ms']:.0f} ms, "
        f"{load['n']} loads",
    ]
    for name, what in (("fresh", "new settings, recurrent scale +0.05"), ("cached", "settings seen before, -0.05")):
        c = ch[name]
        lines.append(
            f"control change -> updated charts ({what}): median {c['median_ms']:.0f} ms, max {c['max_ms']:.0f} ms, {c['n']} changes"
        )
        lines.append(
            f"  of which (medians): input -> script seen running {c['to_script_running_median_ms']:.0f} ms, "
            f"input -> new chart data in the page {c['to_new_chart_data_median_ms']:.0f} ms"
        )
    lines += [
        f"training, chart states the page showed: {tr['chart_states_per_s']:.1f} /s over {tr['seconds']:.1f} s "
        f"(the step counter advanced {tr['steps_per_s']:.0f} steps/s)",
        f"training, page responsiveness: 50 ms timer fired {tr['timer_50ms_fires_per_s']:.1f} /s (20 /s when idle)",
        f"training, samples missing a chart: {tr['samples_missing_a_chart']} of {tr['samples']} (50 ms timer); "
        f"with an undrawn chart element: {tr['samples_with_undrawn_element']}",
        f"training, painted frames missing a chart: {tr['frames_missing_a_chart']} of {tr['frames_painted']} (requestAnimationFrame)",
        f"training, chart elements replaced: {tr['chart_elements_replaced']} in {tr['seconds']:.1f} s (0 = every chart updated in place)",
    ]
    for name in ("stop_at_stop", "stop_at_train"):
        s = r[name]
        lines.append(
            f"Stop {s['click_after_run_ms'] / 1000:.1f} s into a run: last step change {s['last_step_change_ms']:.0f} ms after the click, "
            f"last chart change {s['last_chart_change_ms']:.0f} ms; went on {s['steps_after_click']} steps "
            f"({s['step_at_click']} -> {s['final_step']})"
        )
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", action="store_true", help="run one CPU-spinning process during the measurements")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--changes", type=int, default=10)
    ap.add_argument("--train-s", type=float, default=5.0, help="seconds of training sampled (Stop is pressed after)")
    ap.add_argument("--stop-after-s", type=float, default=3.0, help="seconds into the second run when Stop is pressed")
    ap.add_argument(
        "--settle",
        type=float,
        default=0.0,
        metavar="LOAD",
        help="first wait (up to 3 minutes) until the 1-minute load average is below LOAD: on 2 cores the figures of a "
        "run started at load 1.7 (right after another run) were ~15 %% slower than at 0.5",
    )
    args = ap.parse_args()
    reason = bs.missing_reason()
    if reason:
        sys.exit(reason)
    from playwright.sync_api import sync_playwright

    LOG.parent.mkdir(parents=True, exist_ok=True)
    settle(args.settle)
    result = {"busy": args.busy, "load_avg": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    with bs.streamlit_server(LOG, env=THREADS) as url, sync_playwright() as pw:
        browser = bs.launch(pw)
        try:
            context = bs.probed_context(browser)
            with cpu_burner(args.busy):
                result["page_load"] = page_loads(context, url, args.loads)
                result["control_change"] = control_changes(context, url, args.changes, max(1, args.changes // 2))
                result.update(training_and_stop(context, url, args.train_s, args.stop_after_s))
        finally:
            browser.close()
    result["load_avg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        report(result)


if __name__ == "__main__":
    main()
