"""deploy/nginx.conf in front of a replica: one copy of each security header, no private path, and a page that still draws.

Oracles: header values equal ui/serving/http_guard.HEADERS exactly, once each (nginx's copy, the replica's
hidden); 404 for the metrics and dot-files; a handshake's HTTP status; in Chromium, the charts
carry data and the page reports no Content-Security-Policy violation (securitypolicyviolation events).
"""

from __future__ import annotations

import urllib.error
import urllib.request

import browser_support as bs
import pytest
from proxy_support import nginx, replicas, require_nginx
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ui.serving.http_guard import HEADERS

pytestmark = pytest.mark.proxy
VIOLATIONS_JS = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    path = require_nginx()
    with replicas(1, log_dir=tmp_path_factory.mktemp("replica")) as pool, nginx([r.url for r in pool], path) as url:
        yield url


def get(url: str):
    try:
        return urllib.request.urlopen(url, timeout=30)
    except urllib.error.HTTPError as err:
        return err


@pytest.mark.parametrize("path", ["/", "/_stcore/health", "/no-such-page", "/_stcore/metrics"])
def test_each_security_header_once(proxy, path):
    response = get(proxy + path)
    for name, value in HEADERS.items():
        assert response.headers.get_all(name) == [value], (path, name)
    assert response.headers.get("X-Frame-Options") is None  # frame-ancestors allows course sites (https) to embed


@pytest.mark.parametrize("path", ["/_stcore/metrics", "/app/static/.gitignore", "/.env", "/app/static/.hidden/x.js"])
def test_private_paths_are_404(proxy, path):
    assert get(proxy + path).status == 404


def test_websocket_through_the_proxy_checks_the_origin(proxy):
    def handshake(origin):
        try:
            with connect(proxy.replace("http://", "ws://") + "/_stcore/stream", origin=origin, open_timeout=30):
                return 101
        except InvalidStatus as err:
            return err.response.status_code

    assert handshake(proxy) == 101  # the browser's own origin: nginx passes the Host with its port
    assert handshake("http://evil.example") == 403


def test_the_page_draws_its_charts_under_the_policy(proxy, tmp_path):
    bs.require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = bs.launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.add_init_script(VIOLATIONS_JS)
            page.goto(proxy + "/")
            bs.wait_idle(page, bs.FIRST_LOAD_MS)
            charts = page.evaluate(f"({bs.CHARTS_JS})()")
            violations = page.evaluate("window.__csp")
            page.screenshot(path=str(tmp_path / "csp.png"), animations="disabled")
        finally:
            browser.close()
    assert violations == []
    assert charts and any(t["y"] and any(v is not None for v in t["y"]) for c in charts for t in c["traces"])
