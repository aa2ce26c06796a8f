"""Load benchmark: concurrent headless visitors against the real server, over Streamlit's own websocket.

Scenarios: 20 sessions at once (10 on one shared lesson link, 10 on their own settings) and 60
at once (half and half), each against 1 process and against 2 replicas behind deploy/nginx.conf.
For each: p50/p95 seconds from opening the connection to a complete page (the script run's
end), errors, the server's RSS before / at the peak / after (all replicas summed), and a
cross-talk check: every page must show the loss engine.run computes for its own settings.

Run `python bench/bench_load.py [--sessions 20 60] [--replicas 1 2]` (needs Debian's nginx for 2).
The clients run in this process: on a small machine they compete with the server for the cores.

`--origin-stall`: 3 clients repeat websocket handshakes with a foreign Origin while this process
polls /_stcore/health, against a server whose external-IP lookup hangs (tests/hanging_lookup_serve.py),
started through the launcher and, for comparison, as a plain `streamlit run` (the lookup
hangs 1 s a request, as Streamlit's own timeout makes it where packets are dropped); prints the health
latency p50/p95/max and the handshakes refused (issue 22: a foreign Origin stalled the server).

`--lecture [N]`: a lecture hall. N sessions (default 100) open one shared lesson link, arriving evenly
within `--window-s` seconds (default 20), against 1 process and 2 replicas behind nginx; then the same
for the bare Streamlit page (bench/floor_page.py, a plain `streamlit run`). Prints p50/p95/max seconds from
a visitor's arrival to a complete page (the run finished, no error, a chart drawn), errors, sessions lost
and RSS; the ratio ours / floor at p95. The lesson's pass and figures are computed once per replica
(ui/serving/bytecache.py: concurrent visitors of one key wait for the first).

`--memory`: RSS of one public process (RNNLAB_PUBLIC=1) before, at the peak and after three
scenarios: 8 heavy tabs at once (GRU, T=200, H=128, B=64, float64, each its own seed), 100
distinct configurations in sequence (one visitor), and 2 visitors training that heavy setting
(Run pressed over the websocket, 1000 steps) who leave after 40 s. "After" is read once every session has closed
and Streamlit has dropped it (the bench sets server.disconnectedSessionTTL to TTL_S instead of 120 s).
`--env RNNLAB_CACHE_MB=16 ...` sets more of the server's environment.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from browser_support import free_port, stop_process  # noqa: E402
from proxy_support import first_visit, nginx, nginx_binary, replicas, wait_health  # noqa: E402
from ws_client import Session  # noqa: E402

from engine import Config, run  # noqa: E402

LESSON = "cell=lstm&seq_len=100&forget_bias=1.0"  # one shared lesson link, as a class would open it


def queries(n: int) -> list[str]:
    """Half the sessions on the shared lesson link, half on their own settings (a seed and a size each)."""
    own = [f"seed={100 + i}&hidden_size={16 + i % 24}" for i in range(n - n // 2)]
    return [LESSON] * (n // 2) + own


def expected(query: str) -> str:
    """The loss the page must show for these settings, as the Loss metric formats it."""
    cfg = Config.from_query({k: v[-1] for k, v in parse_qs(query).items()})
    return f"{run(cfg).loss:.4g}"


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Sampler:
    """Polls the servers' RSS every 50 ms: the peak is what a visit costs the machine."""

    def __init__(self, pids):
        self.pids, self.peak, self._stop = pids, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pids))
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def visit(url: str, query: str, via_proxy: bool, start: threading.Barrier) -> tuple[float, str, str, list]:
    """One visitor: (seconds to a complete page, status, shown loss, errors)."""
    start.wait()
    began = time.perf_counter()
    try:
        cookie = first_visit(url) if via_proxy else None
        with Session(url, timeout_s=300, cookie=cookie) as session:
            page = session.run(query)
        return time.perf_counter() - began, page.status, page.metrics.get("Loss", ""), page.errors
    except Exception as err:  # noqa: BLE001 - a failed visit is a result, counted as an error
        return time.perf_counter() - began, f"{type(err).__name__}: {err}", "", []


def scenario(url: str, pids: list[int], n: int, via_proxy: bool, want: dict) -> dict:
    qs = queries(n)
    before = rss_mb(pids)
    barrier = threading.Barrier(n)
    with Sampler(pids) as sampler, ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda q: visit(url, q, via_proxy, barrier), qs))
    time.sleep(2.0)
    after = rss_mb(pids)
    times = sorted(r[0] for r in results)
    errors = [r for r in results if r[1] != "FINISHED_SUCCESSFULLY" or r[3]]
    crossed = [(q, r[2], want[q]) for q, r in zip(qs, results) if r[1] == "FINISHED_SUCCESSFULLY" and r[2] != want[q]]
    return {
        "sessions": n,
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "max": times[-1],
        "errors": len(errors),
        "error_examples": [e[1] for e in errors[:3]],
        "cross_talk": len(crossed),
        "rss_before": before,
        "rss_peak": max(sampler.peak, before),
        "rss_after": after,
    }


def bench(n_replicas: int, sizes: list[int], want: dict) -> list[dict]:
    out = []
    with replicas(n_replicas) as pool:
        pids = [r.proc.pid for r in pool]
        proxy = nginx([r.url for r in pool]) if n_replicas > 1 else None
        with proxy if proxy is not None else _plain(pool[0].url) as url:
            for r in pool:  # warm every replica: the first session pays the imports (torch, plotly) once per process
                with Session(r.url, timeout_s=300) as s:
                    s.run("")
            for n in sizes:
                row = scenario(url, pids, n, proxy is not None, want)
                row["replicas"] = n_replicas
                out.append(row)
                print(format_row(row), flush=True)
    return out


class _plain:
    def __init__(self, url):
        self.url = url

    def __enter__(self):
        return self.url

    def __exit__(self, *exc):
        return False


def format_row(r: dict) -> str:
    return (
        f"{r['replicas']} replica(s), {r['sessions']:3d} sessions: p50 {r['p50']:.2f} s, p95 {r['p95']:.2f} s, max {r['max']:.2f} s, "
        f"errors {r['errors']}, cross-talk {r['cross_talk']}, RSS MB before {r['rss_before']:.0f} / peak {r['rss_peak']:.0f} / "
        f"after {r['rss_after']:.0f}" + (f"  e.g. {r['error_examples']}" if r["errors"] else "")
    )


def origin_stall(guarded: bool, seconds: float = 10.0, clients: int = 3) -> dict:
    """Health latency while `clients` threads repeat foreign-Origin handshakes, against a server whose IP lookup hangs."""
    import tempfile
    import urllib.request

    from browser_support import streamlit_server
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    def handshake(url):
        try:
            with connect(url.replace("http://", "ws://") + "/_stcore/stream", origin="http://evil.example", open_timeout=60):
                return 101
        except InvalidStatus as err:
            return err.response.status_code
        except Exception:  # noqa: BLE001 - a timed-out handshake counts as not refused
            return 0

    with tempfile.TemporaryDirectory(prefix="rnnlab-origin-") as tmp:
        marker = Path(tmp) / "lookups.txt"
        launcher = (sys.executable, str(ROOT / "tests" / "hanging_lookup_serve.py"), str(marker), *(() if guarded else ("--unguarded",)))
        with streamlit_server(timeout_s=120, launcher=launcher, env={"RNNLAB_HANG_S": "1"}) as url:
            for _ in range(5):  # the quiet server's health latency, first
                urllib.request.urlopen(url + "/_stcore/health", timeout=60).read()
            stop, statuses = threading.Event(), []

            def hammer():
                while not stop.is_set():
                    statuses.append(handshake(url))

            threads = [threading.Thread(target=hammer, daemon=True) for _ in range(clients)]
            for t in threads:
                t.start()
            times, end = [], time.monotonic() + seconds
            while time.monotonic() < end:
                began = time.perf_counter()
                try:
                    urllib.request.urlopen(url + "/_stcore/health", timeout=30).read()
                except OSError:  # no answer within 30 s: counted as 30 s
                    pass
                times.append(time.perf_counter() - began)
                time.sleep(0.05)
            stop.set()
            for t in threads:
                t.join(70)
        lookups = len(marker.read_text().splitlines()) if marker.exists() else 0
    times.sort()
    return {
        "guarded": guarded,
        "polls": len(times),
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "max": times[-1],
        "handshakes": len(statuses),
        "refused": statuses.count(403),
        "lookups": lookups,
    }


LECTURE = "lesson=vanishing-tanh"  # the link a class opens together
FLOOR = ROOT / "bench" / "floor_page.py"


class Arrival:
    """Stands in for visit()'s barrier: wait() returns at this visitor's arrival time (t0 + delay)."""

    def __init__(self, t0: float, delay: float):
        self.at = t0 + delay

    def wait(self) -> None:
        time.sleep(max(0.0, self.at - time.monotonic()))


@contextlib.contextmanager
def floor_replicas(n: int, timeout_s: float = 120.0):
    """n plain `streamlit run bench/floor_page.py` processes on loopback ports (objects with .proc and .url, as replicas())."""
    started = []
    try:
        for _ in range(n):
            port = free_port()
            cmd = [sys.executable, "-m", "streamlit", "run", str(FLOOR), "--server.port", str(port), "--server.address", "127.0.0.1"]
            cmd += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            started.append(type("FloorReplica", (), {"proc": proc, "url": f"http://127.0.0.1:{port}"})())
        for r in started:
            wait_health(r.url, r.proc, timeout_s)
        yield started
    finally:
        for r in started:
            stop_process(r.proc)


def lecture(n_replicas: int, floor: bool, n: int, window_s: float) -> dict:
    """n visitors of one link, arriving evenly over window_s: seconds from arrival to a complete page, errors, lost, RSS."""
    query = "" if floor else LECTURE
    with floor_replicas(n_replicas) if floor else replicas(n_replicas) as pool:
        pids = [r.proc.pid for r in pool]
        proxy = nginx([r.url for r in pool]) if n_replicas > 1 else None
        with proxy if proxy is not None else _plain(pool[0].url) as url:
            for r in pool:  # the imports, once per process (a lecturer opened the page before class); the lesson stays cold
                with Session(r.url, timeout_s=300) as s:
                    s.run("")
            before, t0 = rss_mb(pids), time.monotonic() + 0.5
            with Sampler(pids) as sampler, ThreadPoolExecutor(n) as pool_:
                futures = [pool_.submit(lecture_visit, url, query, proxy is not None, Arrival(t0, i * window_s / n)) for i in range(n)]
                results = [f.result() for f in futures]
    times = sorted(r[0] for r in results)
    failed = [r for r in results if r[1] != "FINISHED_SUCCESSFULLY" or r[2]]
    return {
        "page": "floor" if floor else "ours",
        "replicas": n_replicas,
        "sessions": n,
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "max": times[-1],
        "errors": len(failed),
        "lost": sum(r[1] != "FINISHED_SUCCESSFULLY" for r in results),
        "error_examples": [r[1] if r[1] != "FINISHED_SUCCESSFULLY" else r[2] for r in failed[:3]],
        "rss_before": before,
        "rss_peak": max(sampler.peak, before),
    }


def lecture_visit(url: str, query: str, via_proxy: bool, arrival: Arrival) -> tuple[float, str, str]:
    """One student: (seconds from arrival to a complete page, run status, what went wrong on the page, '' if nothing)."""
    arrival.wait()
    began = time.perf_counter()
    try:
        cookie = first_visit(url) if via_proxy else None
        with Session(url, timeout_s=300, cookie=cookie) as session:
            page = session.run(query)
        problem = "; ".join(page.errors) or ("" if page.charts else "no chart")
        return time.perf_counter() - began, page.status, problem
    except Exception as err:  # noqa: BLE001 - a lost session is a result
        return time.perf_counter() - began, f"{type(err).__name__}: {err}", ""


def format_lecture(r: dict) -> str:
    return (
        f"lecture, {r['page']:5s}, {r['replicas']} replica(s), {r['sessions']} sessions in the window: p50 {r['p50']:.2f} s, "
        f"p95 {r['p95']:.2f} s, max {r['max']:.2f} s, errors {r['errors']}, lost {r['lost']}, "
        f"RSS MB before {r['rss_before']:.0f} / peak {r['rss_peak']:.0f}" + (f"  e.g. {r['error_examples']}" if r["errors"] else "")
    )


HEAVY = "cell=gru&seq_len=200&hidden_size=128&batch_size=64&init=normal&dtype=float64"
TTL_S = 5  # server.disconnectedSessionTTL for the memory scenarios: a closed session is dropped after this
SETTLE_S = 30.0  # then wait this long for RSS to settle before reading "after"
ALIVE_S = 2.0  # a training worker notices its session is gone within about this long (ui/page/live.py ALIVE_CHECK_S)


def heavy_tabs(n: int = 8) -> list[str]:
    return [f"{HEAVY}&seed={i}" for i in range(n)]


def distinct_configs(n: int = 100) -> list[str]:
    cells = ("rnn", "lstm", "gru", "indrnn", "lru")
    return [f"cell={cells[i % 5]}&seq_len={100 + 2 * i}&hidden_size={32 + i % 64}&batch_size={16 + i % 32}&seed={i}" for i in range(n)]


def memory_scenario(name: str, queries: list[str], at_once: bool, env: dict) -> dict:
    """One fresh public process: RSS before (warm), at the peak, and after every session closed and was dropped."""
    env = {"RNNLAB_PUBLIC": "1", "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(TTL_S), **env}
    with replicas(1, env=env) as pool:
        url, pids = pool[0].url, [pool[0].proc.pid]
        with Session(url, timeout_s=300) as s:  # the first session pays the imports
            s.run("")
        time.sleep(TTL_S + 2)
        before = rss_mb(pids)
        began = time.perf_counter()
        with Sampler(pids) as sampler:
            if at_once:
                barrier = threading.Barrier(len(queries))
                with ThreadPoolExecutor(len(queries)) as pool_:
                    results = list(pool_.map(lambda q: visit(url, q, False, barrier), queries))
            else:
                with Session(url, timeout_s=300) as s:
                    results = [(0.0, s.run(q).status, "", []) for q in queries]
        seconds = time.perf_counter() - began
        time.sleep(TTL_S + SETTLE_S)
        after = rss_mb(pids)
    errors = [r for r in results if r[1] != "FINISHED_SUCCESSFULLY" or r[3]]
    return {
        "name": name,
        "pages": len(queries),
        "seconds": seconds,
        "errors": len(errors),
        "before": before,
        "peak": max(sampler.peak, before),
        "after": after,
    }


def press_run(url: str, query: str, stop: threading.Event) -> str:
    """A headless visitor who opens the Training tab and presses Run, then stays until `stop`; the status of the press."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    def rerun(ws, widgets: dict) -> dict:
        """Run the script with these widget values; the ids of the buttons and tab containers it drew, by label/kind."""
        msg = BackMsg()
        msg.rerun_script.query_string, msg.rerun_script.page_script_hash = query, ""
        for wid, value in widgets.items():
            state = msg.rerun_script.widget_states.widgets.add(id=wid)
            state.trigger_value = True if value is True else state.trigger_value
            if isinstance(value, str):
                state.string_value = value
        ws.send(msg.SerializeToString())
        found = {}
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(ws.recv(timeout=300))
            if fwd.WhichOneof("type") == "script_finished":
                return found
            if fwd.WhichOneof("type") != "delta":
                continue
            if fwd.delta.WhichOneof("type") == "new_element" and fwd.delta.new_element.WhichOneof("type") == "button":
                found[fwd.delta.new_element.button.label] = fwd.delta.new_element.button.id
            elif fwd.delta.WhichOneof("type") == "add_block" and fwd.delta.add_block.WhichOneof("type") == "tab_container":
                found["tabs"] = fwd.delta.add_block.tab_container.id

    with connect(url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"], max_size=None) as ws:
        tabs = rerun(ws, {})["tabs"]
        run_id = rerun(ws, {tabs: "Training"}).get("Run training")
        if run_id is None:
            return "no Run button"
        rerun(ws, {tabs: "Training", run_id: True})
        stop.wait(600)
    return "pressed"


def training_scenario(n: int, seconds: float, env: dict) -> dict:
    """n visitors press Run on the heavy setting (their own seeds) and leave after `seconds`: RSS before / peak / after."""
    env = {"RNNLAB_PUBLIC": "1", "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(TTL_S), **env}
    with replicas(1, env=env) as pool:
        url, pids = pool[0].url, [pool[0].proc.pid]
        with Session(url, timeout_s=300) as s:
            s.run("")
        time.sleep(TTL_S + 2)
        before, stop = rss_mb(pids), threading.Event()
        with Sampler(pids) as sampler, ThreadPoolExecutor(n) as pool_:
            futures = [pool_.submit(press_run, url, f"{HEAVY}&seed={i}&steps=1000&every=5", stop) for i in range(n)]
            time.sleep(seconds)
            stop.set()
            statuses = [f.result() for f in futures]
        time.sleep(TTL_S + ALIVE_S + SETTLE_S)
        after = rss_mb(pids)
    return {
        "name": f"{n} heavy trainings for {seconds:.0f} s",
        "pages": n,
        "seconds": seconds,
        "errors": n - statuses.count("pressed"),
        "before": before,
        "peak": max(sampler.peak, before),
        "after": after,
    }


def format_memory(r: dict, env: dict) -> str:
    name = " ".join([r["name"], *(f"{k}={v}" for k, v in env.items())])
    return (
        f"memory, {name}: RSS MB before {r['before']:.0f} / peak {r['peak']:.0f} / after {r['after']:.0f}; "
        f"{r['pages']} pages in {r['seconds']:.1f} s, errors {r['errors']}"
    )


def format_origin(r: dict) -> str:
    how = "ui.serving.serve (strict Origin check)" if r["guarded"] else "plain streamlit run"
    return (
        f"origin stall, {how}: /_stcore/health p50 {r['p50'] * 1000:.1f} ms, p95 {r['p95'] * 1000:.1f} ms, max {r['max'] * 1000:.0f} ms "
        f"over {r['polls']} polls; {r['handshakes']} foreign-Origin handshakes, {r['refused']} refused; {r['lookups']} IP lookups"
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[20, 60])
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--origin-stall", action="store_true", help="only the foreign-Origin scenario (launcher vs plain streamlit run)")
    ap.add_argument("--memory", action="store_true", help="only the memory scenarios: 8 heavy tabs, 100 distinct configurations")
    ap.add_argument("--env", nargs="*", default=[], metavar="NAME=VALUE", help="with --memory: server environment (RNNLAB_CACHE_MB=16)")
    ap.add_argument("--lecture", type=int, nargs="?", const=100, metavar="N", help="only the lecture hall: N visitors of one lesson link")
    ap.add_argument("--window-s", type=float, default=20.0, help="with --lecture: the visitors arrive evenly within this many seconds")
    args = ap.parse_args(argv)
    if args.lecture:
        if any(r > 1 for r in args.replicas) and nginx_binary() is None:
            sys.exit("nginx not found (apt-get install -y nginx); or run with --replicas 1")
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        rows = {}
        for n_replicas in args.replicas:
            for bare in (False, True):
                rows[bare, n_replicas] = row = lecture(n_replicas, bare, args.lecture, args.window_s)
                print(format_lecture(row), flush=True)
            ours, floor = rows[False, n_replicas], rows[True, n_replicas]
            print(f"lecture, {n_replicas} replica(s): ours / floor at p95 {ours['p95'] / floor['p95']:.2f}", flush=True)
        print(f"load average after: {os.getloadavg()[0]:.1f}", flush=True)
        return
    if args.memory:
        env = dict(item.split("=", 1) for item in args.env)
        print(format_memory(memory_scenario("8 heavy tabs at once", heavy_tabs(), True, env), env), flush=True)
        print(format_memory(memory_scenario("100 configurations in sequence", distinct_configs(), False, env), env), flush=True)
        print(format_memory(training_scenario(2, 40.0, env), env), flush=True)
        return
    if args.origin_stall:
        for guarded in (True, False):
            print(format_origin(origin_stall(guarded)), flush=True)
        return
    if any(r > 1 for r in args.replicas) and nginx_binary() is None:
        sys.exit("nginx not found (apt-get install -y nginx); or run with --replicas 1")
    want = {q: expected(q) for q in set(sum((queries(n) for n in args.sessions), []))}
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    for n_replicas in args.replicas:
        bench(n_replicas, args.sessions, want)


if __name__ == "__main__":
    main()
