"""The launcher's server guards (ui/serving/serve.py), on a real server whose external-IP lookup hangs (issue 22).

Oracles: the hanging lookup writes a line to a marker file whenever anything calls it (it must
stay empty); a handshake is refused with HTTP 403 or accepted (an exact outcome); /_stcore/health
answers every poll while foreign-Origin handshakes hammer the server, each poll inside a generous
guard (a stalled event loop answers nothing for the hang's 30 s); headers and 404s are exact.
"""

from __future__ import annotations

import socket
import sys
import threading
import urllib.error
import urllib.request

import pytest
from browser_support import ROOT, streamlit_server
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ui.serving.http_guard import HEADERS

FOREIGN = ("http://evil.example", "http://localhost:1", "https://127.0.0.1.nip.io", "null")
GUARD_S = 10.0  # a poll or a handshake that takes longer than this waited on the hanging lookup (30 s)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The page through the launcher, with Streamlit's external-IP lookup made to hang; yields (url, marker file)."""
    tmp = tmp_path_factory.mktemp("guard")
    marker = tmp / "lookups.txt"
    launcher = (sys.executable, str(ROOT / "tests" / "hanging_lookup_serve.py"), str(marker))
    with streamlit_server(tmp / "server.log", timeout_s=120, launcher=launcher) as url:
        yield url, marker


def handshake(url: str, origin: str | None) -> int:
    """101 when the websocket opened, else the HTTP status that refused it."""
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    try:
        with connect(ws_url, subprotocols=["streamlit"], origin=origin, open_timeout=GUARD_S):
            return 101
    except InvalidStatus as err:
        return err.response.status_code


def health(url: str) -> bytes:
    return urllib.request.urlopen(url + "/_stcore/health", timeout=GUARD_S).read().strip()


def test_foreign_origins_are_refused_without_a_lookup_while_health_answers(server):
    url, marker = server
    statuses, errors = [], []

    def hammer():
        try:
            for _ in range(5):
                for origin in FOREIGN:
                    statuses.append(handshake(url, origin))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(repr(err))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    answers = []
    while any(t.is_alive() for t in threads):
        answers.append(health(url))  # raises after GUARD_S on a stalled server
    for t in threads:
        t.join()
    assert not errors
    assert statuses == [403] * (3 * 5 * len(FOREIGN))
    assert answers and set(answers) == {b"ok"}
    assert not marker.exists(), f"the external-IP lookup ran: {marker.read_text()}"


def test_same_origin_and_no_origin_still_connect(server):
    url, marker = server
    assert handshake(url, url) == 101
    assert handshake(url, None) == 101
    assert not marker.exists()


def test_a_rebound_host_name_is_refused(server):
    """DNS rebinding: a page of evil.example, its name now resolving to this server, is 'same origin' for the browser."""
    url, _ = server
    port = int(url.rsplit(":", 1)[1])

    def as_host(name: str) -> int:
        sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD_S)
        try:
            with connect(f"ws://{name}:{port}/_stcore/stream", sock=sock, origin=f"http://{name}:{port}", open_timeout=GUARD_S):
                return 101
        except InvalidStatus as err:
            return err.response.status_code

    assert as_host("evil.example") == 403
    assert as_host("localhost") == 101  # .streamlit/config.toml's server.allowedHosts: local use works as it is


def test_every_response_carries_the_security_headers(server):
    url, _ = server
    for path in ("/", "/_stcore/health", "/app/static/plotly-cartesian.min.js", "/_stcore/metrics"):
        try:
            response = urllib.request.urlopen(url + path, timeout=GUARD_S)
        except urllib.error.HTTPError as err:
            response = err
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
        assert "X-Frame-Options" not in response.headers  # frame-ancestors lets course sites embed the page


@pytest.mark.parametrize("path", ["/_stcore/metrics", "/app/static/.gitignore", "/app/static/.env"])
def test_private_paths_are_not_served(server, path):
    url, _ = server
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url + path, timeout=GUARD_S)
    assert err.value.code == 404


def test_no_gitignore_in_static():
    """static/ holds only files the app serves; what git ignores there is listed in the root .gitignore."""
    assert not (ROOT / "static" / ".gitignore").exists()
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert {"static/plotly.min.js", "static/plotly-cartesian.min.js"} <= set(ignored)


def test_launcher_arguments():
    from ui.serving.serve import streamlit_argv

    assert streamlit_argv([]) == ["streamlit", "run", "app.py"]
    assert streamlit_argv(["--server.port", "1"]) == ["streamlit", "run", "app.py", "--server.port", "1"]
    assert streamlit_argv(["other.py", "--x"]) == ["streamlit", "run", "other.py", "--x"]


@pytest.fixture
def options(monkeypatch):
    """Streamlit's config options as a dict the test sets; the real defaults otherwise."""
    from streamlit import config

    values = {"server.allowedHosts": [], "server.enableCORS": True, "server.corsAllowedOrigins": []}
    real = config.get_option
    monkeypatch.setattr(config, "get_option", lambda name: values[name] if name in values else real(name))
    return values


@pytest.fixture
def no_lookups(monkeypatch):
    """Any network lookup Streamlit could make fails the test."""
    from streamlit import net_util

    def forbidden(*args, **kwargs):
        raise AssertionError("a network lookup during an origin check")

    monkeypatch.setattr(net_util, "get_external_ip", forbidden)
    monkeypatch.setattr(net_util, "get_internal_ip", forbidden)
    monkeypatch.setattr(net_util, "_make_blocking_http_get", forbidden)


@pytest.mark.parametrize(
    "origin, host, allowed",
    [
        (None, "localhost:8501", True),  # no Origin: a non-browser client
        ("http://localhost:8501", "localhost:8501", True),  # same origin
        ("https://rnnlab.example.org", "rnnlab.example.org", True),  # same origin behind a TLS proxy
        ("http://localhost:1", "localhost:8501", False),  # localhost is not a wildcard
        ("http://127.0.0.1:8501", "localhost:8501", False),
        ("http://evil.example", "localhost:8501", False),
        ("null", "localhost:8501", False),
        ("http://course.example.edu", "localhost:8501", True),  # listed
        ("http://course.example.edu:80", "localhost:8501", True),  # the same origin, port written out
        ("https://course.example.edu", "localhost:8501", False),  # another scheme
        ("http://course.example.edu:8080", "localhost:8501", False),  # another port
        ("http://sub.course.example.edu", "localhost:8501", False),
    ],
)
def test_strict_origin_check(options, no_lookups, origin, host, allowed):
    from ui.serving.streamlit_private import strict_origin_allowed

    options["server.corsAllowedOrigins"] = ["http://course.example.edu"]
    assert strict_origin_allowed(origin, host) is allowed


def test_allowed_hosts_refuse_a_rebound_name(options, no_lookups):
    from ui.serving.streamlit_private import strict_origin_allowed

    options["server.allowedHosts"] = ["localhost", "127.0.0.1"]
    assert strict_origin_allowed("http://localhost:8501", "localhost:8501")
    # DNS rebinding: evil.example now resolves to 127.0.0.1; the browser calls it same-origin, the Host says otherwise
    assert not strict_origin_allowed("http://evil.example:8501", "evil.example:8501")


def test_cors_switched_off_by_the_operator_allows_any_origin(options, no_lookups):
    from ui.serving.streamlit_private import strict_origin_allowed

    options["server.enableCORS"] = False
    assert strict_origin_allowed("http://anywhere.example", "localhost:8501")


def test_the_check_replaces_the_name_streamlit_calls_at_every_handshake():
    """If Streamlit stopped looking up _is_origin_allowed in its module, replacing it would do nothing: fail here."""
    from streamlit.web.server.starlette import starlette_app, starlette_websocket

    from ui.serving.streamlit_private import install_http_guard, install_origin_check, strict_origin_allowed

    endpoint = starlette_websocket.create_websocket_handler.__code__
    inner = [c for c in endpoint.co_consts if hasattr(c, "co_names") and c.co_name == "_websocket_endpoint"]
    assert inner and "_is_origin_allowed" in inner[0].co_names
    assert "create_streamlit_middleware" in starlette_app.create_starlette_app.__code__.co_names
    original = starlette_websocket._is_origin_allowed, starlette_app.create_streamlit_middleware
    try:
        install_origin_check()
        install_http_guard()
        install_http_guard()  # idempotent: one guard, not two
        assert starlette_websocket._is_origin_allowed is strict_origin_allowed
        names = [m.cls.__name__ for m in starlette_app.create_streamlit_middleware()]
        assert names.count("GuardHeaders") == 1 and names[0] == "GuardHeaders"
    finally:
        starlette_websocket._is_origin_allowed, starlette_app.create_streamlit_middleware = original
