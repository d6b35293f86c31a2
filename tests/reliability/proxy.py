"""A loopback HTTP proxy between a child and the sandbox's REST port: a slow network on demand.

The suite points ``APCA_API_BASE_URL`` at this proxy. It forwards every request as it comes,
except that after ``hold_next_order(seconds)`` the next ``POST /v2/orders`` is held that long
until the suite releases it: the order has left the desk and the broker does not have it yet, the
moment a crash is most dangerous, and the suite decides when the broker gets it (say, once the
restarted desk has reconciled), whatever the machine's speed. ``order_seen`` tells the suite
that a POST arrived, so it can kill the child at that moment instead of guessing with a sleep.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOLD_LIMIT = 90.0
"""A held POST goes on after this many seconds even if nobody releases it."""
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class _Handler(BaseHTTPRequestHandler):
    """Forwards one request (keep-alive, like the real thing)."""

    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _forward(self) -> None:
        """Read the request, hold it if armed, pass it on, relay the answer."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        proxy = self.server.proxy
        if self.command == "POST" and self.path.split("?")[0] == "/v2/orders":
            proxy.order_arrived()
            release = proxy.take_hold()
            if release is not None:
                release.wait(HOLD_LIMIT)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(proxy.host, proxy.port, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        except OSError:
            self.close_connection = True
            return
        finally:
            upstream.close()
        try:
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the child is gone (killed): the answer is lost

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _forward


class _ProxyServer(ThreadingHTTPServer):
    """The listening socket; knows its ``Proxy``."""

    daemon_threads = True

    def __init__(self, proxy: Proxy) -> None:
        """Listen on a free loopback port."""
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A killed child resets its connections: that is the point, not an error."""


class Proxy:
    """``with Proxy(sb.base_url) as p:`` then use ``p.url`` as the child's REST URL."""

    def __init__(self, upstream: str) -> None:
        """Forward to ``upstream`` (a bare http origin)."""
        parts = urlsplit(upstream)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._lock = threading.Lock()
        self._hold: threading.Event | None = None
        self.orders_seen = 0
        self.order_seen = threading.Event()
        """Set when a ``POST /v2/orders`` arrives (clear it to wait for the next one)."""
        self._server = _ProxyServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The proxy's origin."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def hold_next_order(self) -> threading.Event:
        """Hold the next ``POST /v2/orders`` until the returned event is set."""
        release = threading.Event()
        with self._lock:
            self._hold = release
        self.order_seen.clear()
        return release

    def take_hold(self) -> threading.Event | None:
        """The release event of a hold asked for this POST (used once)."""
        with self._lock:
            hold, self._hold = self._hold, None
            return hold

    def order_arrived(self) -> None:
        """Count a POST and tell whoever waits for one."""
        with self._lock:
            self.orders_seen += 1
        self.order_seen.set()

    def __enter__(self) -> Proxy:
        """Start serving."""
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
