"""The HTTP answers a public page owes its visitors: security headers on every response, nothing private served.

Sent by the Streamlit server itself when it is started through the launcher (`python -m ui.serving.serve`,
which adds GuardHeaders to Streamlit's middleware: ui/serving/streamlit_private.install_http_guard), and by
deploy/nginx.conf in front of the replicas (tests/test_http_guard.py checks the two say the same).

Embedding: lecturers put pages into course sites, so any https origin may frame the page
(CSP frame-ancestors 'self' https:). X-Frame-Options is not sent: it can only say DENY or
SAMEORIGIN, which would forbid exactly those embeds, and browsers that know frame-ancestors ignore it.
Scripts: Streamlit's index.html and ui/page/charts.py's plotly.js preload are inline scripts
('unsafe-inline'), Streamlit loads a v2 component's JavaScript from a blob: URL and compiles
WebAssembly ('wasm-unsafe-eval'); the page icon (a Material symbol) comes from fonts.gstatic.com.
Everything else (connections, frames, forms, plugins, the base URL) is held to this origin.
"""

from __future__ import annotations

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https://fonts.gstatic.com",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-src 'self' blob: data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self' https:",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# Streamlit serves its runtime metrics (sessions, memory) to anyone at /_stcore/metrics, with no option to turn it off.
PRIVATE_SUFFIXES = ("/_stcore/metrics",)


def refused(path: str) -> bool:
    """True for paths a public page never serves: Streamlit's metrics and dot-files (static/.gitignore, .env ...)."""
    path = path.rstrip("/")
    return path.endswith(PRIVATE_SUFFIXES) or any(part.startswith(".") and part not in (".", "..") for part in path.split("/"))


class GuardHeaders:
    """ASGI middleware: HEADERS on every HTTP response, 404 for refused() paths; websockets pass untouched."""

    def __init__(self, app):
        self.app = app
        self.raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if refused(scope.get("path", "")):
            return await _not_found(send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []), *(h for h in self.raw if h[0] not in names)]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


async def _not_found(send) -> None:
    body = b"Not found"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})
