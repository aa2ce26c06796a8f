"""Streamlit replicas behind Debian's nginx on loopback, run with deploy/nginx.conf itself (only the port and upstream list differ)."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from browser_support import ROOT, browser_required, free_port, stop_process

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
LISTEN = "listen 8080;"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def require_nginx() -> str:
    """nginx's path; skip without it, or fail when CI requires the full suite (RNNLAB_REQUIRE_BROWSER=1)."""
    import pytest

    path = nginx_binary()
    if path is None:
        reason = "nginx not found (apt-get install -y nginx)"
        if browser_required():
            pytest.fail(f"RNNLAB_REQUIRE_BROWSER=1 but the proxy test cannot run: {reason}")
        pytest.skip(reason)
    return path


def wait_health(url: str, proc: subprocess.Popen | None, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited with code {proc.returncode} before answering")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().strip() == b"ok":
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer /_stcore/health within {timeout_s:.0f} s")
        time.sleep(0.2)


class Replica:
    """One `python -m ui.serving.serve app.py` (`streamlit run` with the page's server guards) on a loopback port."""

    def __init__(self, env: dict | None = None, log_dir: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "ui.serving.serve", "app.py", "--server.port", str(self.port), "--server.address", "127.0.0.1"]
        self.log = open(log_dir / f"replica-{self.port}.log", "w") if log_dir else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

    def kill(self) -> None:
        """SIGKILL: a crashed replica says nothing to anyone."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        stop_process(self.proc)
        if self.log is not subprocess.DEVNULL:
            self.log.close()

    def connections(self) -> int:
        """Open TCP connections to this replica's port (each live session holds one websocket)."""
        return established(self.port)


def established(port: int) -> int:
    """ESTABLISHED sockets whose local port is `port` (Linux /proc/net/tcp*)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "01":
                    count += 1
    return count


@contextlib.contextmanager
def replicas(n: int, env: dict | None = None, timeout_s: float = 180.0, log_dir: Path | None = None):
    """n replicas started at once (their imports overlap), yielded once every one answers its health check."""
    started = [Replica(env, log_dir) for _ in range(n)]
    try:
        for r in started:
            wait_health(r.url, r.proc, timeout_s)
        yield started
    finally:
        for r in started:
            r.stop()


@contextlib.contextmanager
def nginx(upstreams: list[str], nginx_path: str | None = None, timeout_s: float = 20.0):
    """deploy/nginx.conf on a free loopback port, in front of the given replica URLs; yields the proxy's URL."""
    nginx_path = nginx_path or nginx_binary()
    text = NGINX_CONF.read_text()
    assert LISTEN in text, f"{NGINX_CONF} no longer says {LISTEN!r}"
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="rnnlab-nginx-") as tmp:
        prefix = Path(tmp)
        (prefix / "tmp").mkdir()
        (prefix / "nginx.conf").write_text(text.replace(LISTEN, f"listen 127.0.0.1:{port};"))
        servers = "".join(f"    server {u.removeprefix('http://')} max_fails=1 fail_timeout=10s;\n" for u in upstreams)
        (prefix / "rnnlab-upstream.conf").write_text(f"upstream rnnlab {{\n    hash $rnnlab_route consistent;\n{servers}}}\n")
        cmd = [nginx_path, "-c", str(prefix / "nginx.conf"), "-p", str(prefix) + "/", "-g", "daemon off;"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(prefix / "error.log", "w"))  # noqa: SIM115
        url = f"http://127.0.0.1:{port}"
        try:
            wait_health(url, proc, timeout_s)
            yield url
        finally:
            stop_process(proc)


def first_visit(url: str, cookie: str | None = None) -> str:
    """GET the page as a browser's first request would; the proxy's route cookie comes back (sent on, it keeps the replica)."""
    request = urllib.request.Request(url + "/", headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        set_cookie = response.headers.get("Set-Cookie", "")
    route = set_cookie.split(";", 1)[0]
    return route or (cookie or "")
