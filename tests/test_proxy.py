"""Two replicas behind deploy/nginx.conf: sessions stick to one replica, and when it dies a reload lands on the other and works.

Headless sessions over Streamlit's websocket (tests/ws_client.py). The oracle for "works": the
page finishes without an error and shows the loss engine.run computes for the same settings.
"""

from __future__ import annotations

import time

import pytest
from proxy_support import first_visit, nginx, replicas, require_nginx
from websockets.exceptions import ConnectionClosed
from ws_client import Session

from engine import Config, run

pytestmark = pytest.mark.proxy
QUERY = "seed=7&hidden_size=24"


def expected_loss() -> str:
    return f"{run(Config(seed=7, hidden_size=24)).loss:.4g}"


def serving(pool) -> list[int]:
    """Indices of the replicas holding an open connection (a session's websocket)."""
    return [i for i, r in enumerate(pool) if r.connections() > 0]


def wait_for(condition, timeout_s: float = 30.0):
    """Poll condition until it holds; timeout_s only guards against a hang (a busy machine is slow, not wrong)."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_a_reload_after_its_replica_dies_lands_on_the_other_and_works(tmp_path):
    path = require_nginx()
    loss = expected_loss()
    with replicas(2, log_dir=tmp_path) as pool, nginx([r.url for r in pool], path) as proxy:
        cookie = first_visit(proxy)
        assert cookie.startswith("rnnlab_route=")
        with Session(proxy, cookie=cookie) as visitor:
            page = visitor.run(QUERY)
            assert page.status == "FINISHED_SUCCESSFULLY" and not page.errors and page.metrics["Loss"] == loss
            home = wait_for(lambda: serving(pool))
            assert len(home) == 1, f"one session, one replica: {home}"
            # Sticky: more visits with the same cookie go to the same replica.
            with Session(proxy, cookie=first_visit(proxy, cookie)) as again:
                assert again.run(QUERY).metrics["Loss"] == loss
                assert wait_for(lambda: serving(pool)) == home
            # Mid-session: a run is asked for, and its replica dies.
            visitor.ws.send(_rerun(QUERY + "&seq_len=400&cell=lstm"))
            pool[home[0]].kill()
            with pytest.raises((ConnectionClosed, OSError, TimeoutError)):
                for _ in range(10_000):
                    visitor.ws.recv(timeout=10)
        # The reload: same cookie, a new page load and a new websocket through the proxy.
        other = 1 - home[0]
        cookie2 = first_visit(proxy, cookie)
        with Session(proxy, cookie=cookie2) as reloaded:
            page = reloaded.run(QUERY)
            assert page.status == "FINISHED_SUCCESSFULLY" and not page.errors and page.metrics["Loss"] == loss
            assert wait_for(lambda: pool[other].connections() > 0)
            assert pool[home[0]].proc.poll() is not None


def _rerun(query: str) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.query_string = query
    return msg.SerializeToString()
