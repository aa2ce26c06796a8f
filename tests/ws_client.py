"""A headless Streamlit visitor: one session over the server's own websocket and protos, no browser.

What a browser tab does, minus the drawing: connect to /_stcore/stream, ask for a script run
with the page's query string, and read ForwardMsgs until the run finishes. 20 such sessions
cost the server what 20 visitors cost (20 headless Chromiums would measure the browsers).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect


@dataclass
class Page:
    """What one script run sent: its elements by kind, how it ended, and how long it took."""

    seconds: float
    status: str  # finished_successfully, or the failure
    metrics: dict = field(default_factory=dict)  # label -> shown value
    errors: list = field(default_factory=list)  # st.error / st.exception texts
    charts: int = 0
    session_id: str = ""


class Session:
    """One visitor. `cookie` carries a sticky-session cookie from the proxy (the browser would send it back too)."""

    def __init__(self, base_url: str, timeout_s: float = 120.0, cookie: str | None = None):
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.cookie = cookie
        self.ws = None
        self.session_id = ""

    def open(self) -> Session:
        ws_url = self.base_url.replace("http://", "ws://") + "/_stcore/stream"
        headers = {"Cookie": self.cookie} if self.cookie else None
        options = dict(subprotocols=["streamlit"], additional_headers=headers, open_timeout=self.timeout_s, max_size=None)
        self._connection = connect(ws_url, **options)
        self.ws = self._connection.__enter__()
        set_cookie = self.ws.response.headers.get("Set-Cookie")
        if set_cookie and not self.cookie:
            self.cookie = "; ".join(f"{k}={m.value}" for k, m in SimpleCookie(set_cookie).items())
        return self

    def close(self) -> None:
        if self.ws is not None:
            self._connection.__exit__(None, None, None)
            self.ws = None

    def __enter__(self) -> Session:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, query: str = "") -> Page:
        """Ask for a script run with this query string (no leading '?') and read until it finishes."""
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_script_hash = ""
        start = time.perf_counter()
        self.ws.send(msg.SerializeToString())
        page = Page(seconds=0.0, status="timed out")
        deadline = start + self.timeout_s
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return page
            fwd = ForwardMsg()
            fwd.ParseFromString(self.ws.recv(timeout=left))
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                page.session_id = self.session_id = fwd.new_session.initialize.session_id or self.session_id
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                read_element(fwd.delta.new_element, page)
            elif kind == "script_finished":
                page.seconds = time.perf_counter() - start
                page.status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                page.session_id = page.session_id or self.session_id
                return page


def read_element(element, page: Page) -> None:
    kind = element.WhichOneof("type")
    if kind == "metric":
        page.metrics[element.metric.label] = element.metric.body
    elif kind == "alert" and element.alert.format == element.alert.ERROR:
        page.errors.append(element.alert.body)
    elif kind == "exception":
        page.errors.append(f"{element.exception.type}: {element.exception.message}")
    elif kind in ("bidi_component", "plotly_chart"):
        page.charts += 1
