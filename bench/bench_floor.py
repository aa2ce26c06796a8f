"""Floor benchmark: our page against the barest Streamlit page (bench/floor_page.py), alternating in one Chromium run (issue 21).

Run `python bench/bench_floor.py [--loads 5] [--changes 10] [--stream-s 5] [--json]` (about 3 minutes).
Absolute times depend on the machine; the ratio ours / floor is what our own code adds, so both
pages are measured turn about (ours, floor, ours, floor, ...) in one browser, so that a shared
machine's drift hits both alike. It prints:

- new tab -> first drawn chart (ms from navigation start), and the same for a shared lesson link;
- control change -> the last chart redrawn: from the key press (its own time stamp) to the last
  change of any chart's data in the page, once the script is idle and nothing changed for QUIET_MS
  (ours: the recurrent-scale slider, one step up, new settings each time; the floor: its radio);
- chart states shown per second while streaming (ours: a training run; the floor: a fragment that
  grows a heatmap every 0.1 s), sampled in the page by tests/browser_support.py's probe.

`--profile` adds what each page sends per script run over the websocket (tests/ws_client.py: no
browser): elements, delta bytes and the time from the request to the run's end, on a warm server.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import browser_support as bs  # noqa: E402

THREADS = {var: "1" for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
ARTIFACTS = ROOT / "artifacts" / "browser"
FLOOR = ROOT / "bench" / "floor_page.py"
PLAIN = (sys.executable, "-m", "streamlit", "run")  # the floor runs as a plain `streamlit run`
LESSON = "vanishing-tanh"  # the shared lesson link: ?lesson=<slug>
QUIET_MS = 1000  # a change is over once no chart's data changed for this long with the script idle
# Our charts are drawn by our own component (ui/page/charts.py), the floor's by st.plotly_chart: the probe watches both.
CHARTS = bs.CHART + ', [data-testid="stPlotlyChart"] .js-plotly-plot'

# Added to the probe: the last chart change after a key press, and the whole main area as the streaming region of a page
# without tabs (the floor), so that the probe's training sampler watches its heatmap.
LAST_JS = r"""(() => {
  const P = window.__probe, tabPanel = P.panel;
  P.panel = name => tabPanel(name) || document.querySelector('[data-testid="stMain"]');
  P.last = {t: null, sig: null, ms: -1, at: 0};
  document.addEventListener('keydown', e => { P.last = {t: e.timeStamp, sig: P.mainSig(), ms: -1, at: performance.now()}; }, true);
  setInterval(() => {
    const L = P.last;
    if (L.t === null) return;
    const s = P.mainSig(), now = performance.now();
    if (s !== L.sig) { L.sig = s; L.ms = now - L.t; L.at = now; }
  }, 10);
  P.settled = quiet => P.last.ms >= 0 && P.state() === 'notRunning' && performance.now() - P.last.at >= quiet;
})();"""


def context(browser):
    """One window (a shared HTTP cache, as one visitor's browser) whose pages get the probe and LAST_JS before any script."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.add_init_script(bs.PROBE_JS.replace(json.dumps(bs.CHART), json.dumps(CHARTS), 1) + "\n" + LAST_JS)
    return ctx


def first_chart(ctx, url: str) -> float:
    """A new tab on url: ms from navigation start to its first drawn chart (the tab is closed after)."""
    page = bs.open_page(ctx, url)
    try:
        return bs.wait_first_chart(page)
    finally:
        page.close()


def loads(ctx, urls: dict, n: int) -> dict:
    """n rounds over urls (name -> URL), each a new tab per URL in turn, after one warm-up round: name -> ms list."""
    out = {name: [] for name in urls}
    for i in range(n + 1):
        for name, url in urls.items():
            ms = first_chart(ctx, url)
            if i:
                out[name].append(ms)
    return out


def change(page, press) -> float:
    """press() one key on a focused control; ms from the key press to the last chart change once settled."""
    press()
    page.wait_for_function(f"() => window.__probe.settled({QUIET_MS})", timeout=bs.RERUN_MS, polling=50)
    return page.evaluate("() => window.__probe.last.ms")


def changes(ctx, ours: str, floor: str, n: int, control: str = "slider") -> dict:
    """n changes on each page, turn about: ours steps the recurrent-scale slider up (new settings), the floor its radio.

    control="radio": ours moves its Cell radio on instead, the floor's kind of control (a slider's input reaches the
    server only after Streamlit's own debounce); five cells, so from the sixth change on the settings were seen before.
    """
    pages = {"ours": bs.open_page(ctx, ours), "floor": bs.open_page(ctx, floor)}
    try:
        for page in pages.values():
            bs.wait_first_chart(page)
            page.evaluate("() => window.__probe.watchChanges()")  # the probe's parts: to the script seen running, to new chart data
        if control == "radio":
            mine = pages["ours"].get_by_role("radiogroup", name="Cell").get_by_role("radio", checked=True)
        else:
            mine = pages["ours"].get_by_role("slider", name=bs.LABEL_SCALE)
        radio = pages["floor"].get_by_role("radio", checked=True)  # the chosen option, found afresh at each press
        keys = {"ours": lambda: mine.press("ArrowRight"), "floor": lambda: radio.press("ArrowRight")}
        out = {name: [] for name in pages}
        for _ in range(n):
            for name, page in pages.items():
                out[name].append(change(page, keys[name]))
                time.sleep(0.2)
        for name, page in pages.items():
            parts = page.evaluate("() => window.__probe.parts")
            out[name + "_parts"] = [statistics.median(p[k] for p in parts if p[k] >= 0) for k in (0, 1)] if parts else None
        return out
    finally:
        for page in pages.values():
            page.close()


def stream_ours(ctx, url: str, seconds: float) -> float:
    """Chart states per second the Training tab showed during `seconds` of a 5000-step run, then Stop."""
    page = bs.open_page(ctx, f"{url}/?{bs.PARAM_STEPS}=5000")
    try:
        bs.wait_first_chart(page)
        bs.open_training(page)
        bs.training_button(page, bs.BUTTON_RUN).click()
        bs.wait_training_chart(page)
        bs.start_watch(page)
        time.sleep(seconds)
        rec = bs.end_watch(page)
        bs.training_button(page, bs.BUTTON_STOP).click()
        page.wait_for_selector(bs.IDLE, timeout=bs.RERUN_MS)
        return bs.training_figures(rec)["chart_states_per_s"]
    finally:
        page.close()


def stream_floor(ctx, url: str, seconds: float) -> float:
    """Chart states per second the floor showed during `seconds` of its fragment growing a heatmap (?stream=1)."""
    page = bs.open_page(ctx, f"{url}/?stream=1")
    try:
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot g.hm').length > 0", timeout=bs.FIRST_LOAD_MS)
        bs.start_watch(page)
        time.sleep(seconds)
        return bs.training_figures(bs.end_watch(page))["chart_states_per_s"]
    finally:
        page.close()


def streams(ctx, ours: str, floor: str, rounds: int, seconds: float) -> dict:
    out = {"ours": [], "floor": []}
    for _ in range(rounds):
        out["ours"].append(stream_ours(ctx, ours, seconds))
        out["floor"].append(stream_floor(ctx, floor, seconds))
    return out


def profile(url: str, queries: list[str], runs: int = 5) -> dict:
    """Per script run over the websocket (a warm server, no browser): median seconds, elements and delta bytes."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    out = {}
    with connect(url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"], max_size=None) as ws:
        for query in queries:
            seconds, elements, nbytes = [], [], []
            for _ in range(runs + 1):
                msg = BackMsg()
                msg.rerun_script.query_string, msg.rerun_script.page_script_hash = query, ""
                began, count, size = time.perf_counter(), 0, 0
                ws.send(msg.SerializeToString())
                while True:
                    raw = ws.recv(timeout=300)
                    fwd = ForwardMsg()
                    fwd.ParseFromString(raw)
                    kind = fwd.WhichOneof("type")
                    if kind == "delta":
                        count, size = count + 1, size + len(raw)
                    elif kind == "script_finished":
                        break
                seconds.append(time.perf_counter() - began)
                elements.append(count)
                nbytes.append(size)
            out[query or "(defaults)"] = {
                "median_s": statistics.median(seconds[1:]),
                "deltas": statistics.median(elements[1:]),
                "delta_bytes": statistics.median(nbytes[1:]),
            }
    return out


def ratio_line(what: str, ours: list, floor: list, unit: str, fmt: str = ".0f") -> str:
    a, b = statistics.median(ours), statistics.median(floor)
    return f"{what}: ours {a:{fmt}} {unit}, floor {b:{fmt}} {unit}, ours / floor {a / b:.2f}  (medians of {len(ours)} and {len(floor)})"


def report(r: dict) -> None:
    print(f"Chromium, ours ({' '.join(bs.LAUNCHER[1:])} app.py) against the floor (streamlit run bench/floor_page.py), turn about;")
    print(f"{os.cpu_count()} cores, load average {r['load_avg']} before, {r['load_avg_after']} after")
    ld, ch, st = r["loads"], r["changes"], r["streams"]
    print(ratio_line("new tab -> first chart", ld["ours"], ld["floor"], "ms"))
    print(ratio_line(f"control change ({r.get('control', 'slider')}) -> last chart redrawn", ch["ours"], ch["floor"], "ms"))
    print(ratio_line("chart states shown per second while streaming", st["ours"], st["floor"], "/s", ".1f"))
    lesson = ld["lesson"]
    print(
        f"shared lesson link (?lesson={LESSON}) -> first chart: median {statistics.median(lesson):.0f} ms, "
        f"{statistics.median(lesson) / statistics.median(ld['floor']):.2f}x the floor's new tab"
    )
    print(f"  all (ms): ours {[round(x) for x in ch['ours']]}, floor {[round(x) for x in ch['floor']]}")
    for name in ("ours", "floor"):
        if ch.get(name + "_parts"):
            running, data = ch[name + "_parts"]
            print(f"  {name}: key press -> script seen running {running:.0f} ms, -> first chart data changed {data:.0f} ms (medians)")
    for name, rows in r.get("profile", {}).items():
        for query, p in rows.items():
            print(
                f"profile {name} {query}: script run {p['median_s'] * 1000:.0f} ms, {p['deltas']:.0f} deltas, "
                f"{p['delta_bytes'] / 1024:.1f} KiB (medians, websocket, warm server)"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", type=int, default=5, help="new tabs per page (after one warm-up each)")
    ap.add_argument("--changes", type=int, default=10, help="control changes per page")
    ap.add_argument("--control", choices=("slider", "radio"), default="slider", help="ours: the recurrent-scale slider or the Cell radio")
    ap.add_argument("--stream-rounds", type=int, default=2)
    ap.add_argument("--stream-s", type=float, default=5.0, help="seconds of streaming sampled per round")
    ap.add_argument("--profile", action="store_true", help="also the websocket profile of a script run on each page")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    reason = bs.missing_reason()
    if reason:
        sys.exit(reason)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    result = {"load_avg": " ".join(f"{x:.2f}" for x in os.getloadavg()), "control": args.control}
    ours_log, floor_log = ARTIFACTS / "floor_ours.log", ARTIFACTS / "floor_floor.log"
    with (
        bs.streamlit_server(ours_log, env=THREADS) as ours,
        bs.streamlit_server(floor_log, env=THREADS, script=FLOOR, launcher=PLAIN) as floor,
        sync_playwright() as pw,
    ):
        browser = bs.launch(pw)
        try:
            ctx = context(browser)
            urls = {"ours": ours + "/", "floor": floor + "/", "lesson": f"{ours}/?lesson={LESSON}"}
            result["loads"] = loads(ctx, urls, args.loads)
            result["changes"] = changes(ctx, ours + "/", floor + "/", args.changes, args.control)
            result["streams"] = streams(ctx, ours, floor, args.stream_rounds, args.stream_s)
        finally:
            browser.close()
        if args.profile:
            result["profile"] = {"ours": profile(ours, ["", f"lesson={LESSON}"]), "floor": profile(floor, [""])}
    result["load_avg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(json.dumps(result, indent=1)) if args.json else report(result)


if __name__ == "__main__":
    main()
