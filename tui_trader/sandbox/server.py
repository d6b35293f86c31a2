"""The sandbox's REST server: keys, rate limit and REST faults in front of the route table.

A stdlib ``ThreadingHTTPServer`` on 127.0.0.1 serves the Trading API, the Market Data API and
the ``/admin`` endpoints on one port. Every request, ``/admin`` included, is checked against the
keys the sandbox started with (a web page in the user's browser could otherwise move prices or
switch faults on a loopback port); ``/v2`` requests are then counted against the rate limit and
exposed to the fault switches (latency, 429 bursts, 5xx answers, hangs, lost order
acknowledgements) before they are routed. The listen backlog holds ``LISTEN_BACKLOG`` pending
connections, so a burst of parallel clients is queued, not reset. Headers are never logged:
they carry the keys.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import select
import socket
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from tui_trader.sandbox.admin_api import handle_admin
from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.request import Request
from tui_trader.sandbox.routes import dispatch, is_market_data

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox

log = logging.getLogger("tui_trader.sandbox")
_GATEWAY_PAGE = (
    "<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center></body></html>"
)
LISTEN_BACKLOG = 256
"""Connections the kernel queues before ``accept`` (the stdlib's 5 reset 8-16% of 50 parallel
order posts)."""
_REASONS = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}


class RateLimiter:
    """Alpaca's per-key limit: at most N requests in any sliding minute (per API)."""

    def __init__(self) -> None:
        """Start with no requests counted."""
        self._lock = threading.Lock()
        self._stamps: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int) -> tuple[bool, int, int]:
        """Count a request; returns (allowed, remaining, reset epoch second)."""
        now = time.monotonic()
        with self._lock:
            stamps = self._stamps.setdefault(key, deque())
            while stamps and stamps[0] <= now - 60:
                stamps.popleft()
            stamps.append(now)
            used = len(stamps)
            reset = int(time.time() + 60 - (now - stamps[0]))
        if limit <= 0:
            return True, 0, reset
        return used <= limit, max(limit - used, 0), reset


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its sandbox and can cut every open connection."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, sandbox: Sandbox, address: tuple[str, int]) -> None:
        """Bind to ``address``; requests are served by ``_Handler`` against ``sandbox``."""
        self.sandbox = sandbox
        self.stopping = threading.Event()
        self.limiter = RateLimiter()
        self.hanging = 0
        """Requests held unanswered by the ``hang_rate`` fault right now."""
        self.delayed = 0
        """Requests waiting out the ``latency`` fault right now (read, not yet served)."""
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.count_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Remember the connection so that ``stop`` can cut it."""
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget a finished connection."""
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-answer is normal here; anything else is logged."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        log.error("sandbox request handler failed", exc_info=exc)

    def stop(self) -> None:
        """Stop serving, wake hanging handlers and close every connection still open."""
        self.stopping.set()
        self.shutdown()
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    """One connection's requests (HTTP/1.1 keep-alive, as ``requests`` uses it)."""

    protocol_version = "HTTP/1.1"
    timeout = 120
    wbufsize = 64 * 1024
    """Buffer each answer so headers and body leave in one segment (no Nagle/delayed-ACK stall)."""
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve()

    def do_DELETE(self) -> None:
        """Serve a DELETE."""
        self._serve()

    def do_PATCH(self) -> None:
        """Serve a PATCH."""
        self._serve()

    def do_PUT(self) -> None:
        """Serve a PUT."""
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines go to the debug log (never headers: they carry keys)."""
        log.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        """Parse, authenticate, limit, inject faults, route, answer."""
        parts = urlsplit(self.path)
        path = "/" + parts.path.strip("/")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._send_json(400, {"code": 40010000, "message": "bad Content-Length"}, {})
            return
        body = self.rfile.read(length) if length > 0 else b""
        req = Request(self.command, path, dict(parse_qsl(parts.query)), body)
        sb = self.server.sandbox
        if path.startswith("/admin"):
            if not self._keys_match(sb):
                self._send_json(401, {"message": "unauthorized: send the sandbox's keys"}, {})
                return
            status, reply = handle_admin(sb, req)
            self._send_json(status, reply, {})
            return
        try:
            self._serve_api(sb, req)
        except ApiError as exc:
            self._send_json(exc.status, exc.body(), {})
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("sandbox error on %s %s", req.method, req.path)
            self._send_json(500, {"code": 50010000, "message": "internal server error"}, {})

    def _keys_match(self, sb: Sandbox) -> bool:
        """True when the request carries the sandbox's key id and secret (compared in constant
        time)."""
        key = (self.headers.get("APCA-API-KEY-ID") or "").encode()
        secret = (self.headers.get("APCA-API-SECRET-KEY") or "").encode()
        return hmac.compare_digest(key, sb.config.key_id.encode()) & hmac.compare_digest(
            secret, sb.config.secret.encode()
        )

    def _serve_api(self, sb: Sandbox, req: Request) -> None:
        """The ``/v2`` path: keys, rate limit, faults, then the route."""
        key = self.headers.get("APCA-API-KEY-ID")
        secret = self.headers.get("APCA-API-SECRET-KEY")
        if not key or not secret:
            raise ApiError(401, None, "unauthorized")
        if key != sb.config.key_id or secret != sb.config.secret:
            if is_market_data(req.path):
                raise ApiError(403, None, "forbidden")
            raise ApiError(401, None, "unauthorized")
        faults = sb.dice.settings
        api = "data" if is_market_data(req.path) else "trading"  # Alpaca counts them apart
        allowed, remaining, reset = self.server.limiter.hit(f"{api}:{key}", faults.rate_limit)
        headers = {}
        if faults.rate_limit > 0:
            headers = {
                "X-RateLimit-Limit": str(faults.rate_limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(reset),
            }
        if faults.latency > 0:
            with self.server.count_lock:
                self.server.delayed += 1
            try:
                if self.server.stopping.wait(faults.latency):
                    return
            finally:
                with self.server.count_lock:
                    self.server.delayed -= 1
        if not allowed or sb.dice.take_429():
            self._send_json(429, {"code": 42910000, "message": "rate limit exceeded"}, headers)
            return
        if sb.dice.roll("hang_rate"):
            self._hang()
            return
        if sb.dice.roll("error_rate"):
            self._send_error_page(faults.error_status, headers)
            return
        is_order = req.method == "POST" and req.path == "/v2/orders"
        if is_order and sb.dice.roll("order_fail_rate"):
            self._send_error_page(faults.error_status, headers)
            return
        try:
            status, reply = dispatch(sb, req)
        except ApiError as exc:
            self._send_json(exc.status, exc.body(), headers)
            return
        if is_order and sb.dice.roll("lost_ack_rate"):
            if sb.dice.settings.lost_ack_mode == "drop":
                self._drop()
            else:
                self._send_error_page(504, headers)
            return
        self._send_json(status, reply, headers)

    def _send_json(self, status: int, reply: Any, headers: dict[str, str]) -> None:
        """Write one JSON answer (no body for 204)."""
        data = b"" if status == 204 else json.dumps(reply).encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error_page(self, status: int, headers: dict[str, str]) -> None:
        """A 5xx answer: JSON for 500 (the API's own), an HTML gateway page otherwise."""
        if status == 500:
            self._send_json(500, {"code": 50010000, "message": "internal server error"}, headers)
            return
        data = _GATEWAY_PAGE.format(_REASONS[status]).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _hang(self) -> None:
        """Answer nothing until the client hangs up or the server stops, then close."""
        self.close_connection = True
        sock = self.connection
        with self.server.count_lock:
            self.server.hanging += 1
        try:
            while not self.server.stopping.is_set():
                ready, _, _ = select.select([sock], [], [], 0.1)
                if not ready:
                    continue
                try:
                    if not sock.recv(1, socket.MSG_PEEK):
                        return  # the client gave up
                except OSError:
                    return
                self.server.stopping.wait(0.1)
        finally:
            with self.server.count_lock:
                self.server.hanging -= 1

    def _drop(self) -> None:
        """Close the connection without a word."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
