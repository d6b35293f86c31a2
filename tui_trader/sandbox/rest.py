"""The sandbox's REST gate: keys, rate limit and REST faults in front of the route table.

Every request, ``/admin`` included, is checked against the keys the sandbox started with, in
constant time (a web page in the user's browser could otherwise move prices or switch faults on
a loopback port). ``/v2`` requests are then counted against the rate limit and exposed to the
fault switches (latency, 429 bursts, 5xx answers, hangs, trickled answers, lost order
acknowledgements) before they are routed. Errors are Alpaca's JSON ``{"code": ...,
"message": ...}``, whatever the path or method; only the 502/503/504 fault answers are HTML, as
the gateway in front of Alpaca sends them. The gate runs in the server's loop; handlers run on
its thread pool.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from tui_trader.sandbox.admin_api import handle_admin
from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.request import RawJson, Reply, Request
from tui_trader.sandbox.routes import dispatch, is_market_data

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox
    from tui_trader.sandbox.server import SandboxServer

log = logging.getLogger("tui_trader.sandbox")
_GATEWAY_PAGE = (
    "<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center></body></html>"
)
_REASONS = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}
HANG_POLL = 0.1
"""Seconds between checks, while a request hangs, that its client is still there."""


class RateLimiter:
    """Alpaca's per-key limit: at most N requests in any sliding minute (per API)."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        """Start with no requests counted; ``window``: the minute's length in seconds;
        ``clock``: monotonic seconds (a test's own)."""
        self._lock = threading.Lock()
        self._stamps: dict[str, deque[float]] = {}
        self.window = window
        self._clock = clock

    def hit(self, key: str, limit: int, hold: bool = False) -> tuple[bool, int, int]:
        """Count a request; returns (allowed, remaining, reset epoch second). ``hold`` (the
        ``rate_hold`` fault): nothing ages out and the count changes a window from now."""
        now = self._clock()
        with self._lock:
            stamps = self._stamps.setdefault(key, deque())
            while not hold and stamps and stamps[0] <= now - self.window:
                stamps.popleft()
            stamps.append(now)
            used = len(stamps)
            oldest = now if hold else stamps[0]
            reset = math.ceil(time.time() + self.window - (now - oldest))
        if limit <= 0:
            return True, 0, reset
        return used <= limit, max(limit - used, 0), reset


async def _stopped_within(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds``; True at once if the server starts stopping meanwhile."""
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
        return True
    except TimeoutError:
        return False


class Encoded(bytes):
    """A JSON body already encoded (on the handler's thread, not the server's loop)."""


def encode(reply: Any) -> Encoded:
    """A reply as JSON bytes (a ``RawJson`` text is used as it is)."""
    text = reply if isinstance(reply, RawJson) else json.dumps(reply)
    return Encoded(text.encode())


def json_response(status: int, reply: Any, headers: dict[str, str] | None = None) -> web.Response:
    """One JSON answer (no body for 204)."""
    if status == 204:
        return web.Response(status=204, headers=headers)
    return web.Response(
        status=status,
        body=reply if isinstance(reply, Encoded) else encode(reply),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def _request_of(request: web.Request, body: bytes) -> Request:
    """The framework-neutral request the handlers take (raw path; last query value wins)."""
    parts = urlsplit(request.raw_path)
    path = "/" + parts.path.strip("/")
    return Request(request.method, path, dict(parse_qsl(parts.query)), body)


class RestGate:
    """Authenticates, limits, injects faults and routes REST requests."""

    def __init__(self, sandbox: Sandbox, server: SandboxServer) -> None:
        """Guard ``sandbox``'s routes for ``server``."""
        self.sandbox = sandbox
        self.server = server
        self.limiter = RateLimiter(sandbox.config.rate_window_s)
        self.hanging = 0
        """Requests held unanswered by the ``hang_rate`` fault right now (loop thread only)."""
        self.delayed = 0
        """Requests waiting out the ``latency`` fault right now (loop thread only)."""
        self.trickling = 0
        """Answers being trickled by the ``trickle`` fault right now (loop thread only)."""

    async def _run(self, func: Any, *args: Any) -> Reply:
        """Run a synchronous handler on the server's thread pool, its answer encoded there too
        (a 10,000-bar page encoded on the loop would hold up every stream and request)."""

        def call() -> Reply:
            status, reply = func(*args)
            return status, encode(reply)

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.server.executor, call)

    def _keys_match(self, request: web.Request) -> bool:
        """True when the request carries the sandbox's key id and secret (constant time)."""
        config = self.sandbox.config
        key = request.headers.get("APCA-API-KEY-ID", "").encode()
        secret = request.headers.get("APCA-API-SECRET-KEY", "").encode()
        return hmac.compare_digest(key, config.key_id.encode()) & hmac.compare_digest(
            secret, config.secret.encode()
        )

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """Parse, authenticate, limit, inject faults, route, answer."""
        try:
            body = await request.read()
        except web.HTTPException as exc:  # too large a body
            return json_response(exc.status, {"code": exc.status * 100000, "message": exc.reason})
        req = _request_of(request, body)
        if req.path.startswith("/admin"):
            if not self._keys_match(request):
                return json_response(401, {"message": "unauthorized: send the sandbox's keys"})
            status, reply = await self._run(handle_admin, self.sandbox, req)
            return json_response(status, reply)
        try:
            return await self._serve_api(request, req)
        except ApiError as exc:
            return json_response(exc.status, exc.body())
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("sandbox error on %s %s", req.method, req.path)
            return json_response(500, {"code": 50010000, "message": "internal server error"})

    async def _serve_api(self, request: web.Request, req: Request) -> web.StreamResponse:
        """The API path: keys, rate limit, faults, then the route."""
        sb = self.sandbox
        key = request.headers.get("APCA-API-KEY-ID")
        if not key or not request.headers.get("APCA-API-SECRET-KEY"):
            raise ApiError(401, None, "unauthorized")
        if not self._keys_match(request):
            if is_market_data(req.path):
                raise ApiError(403, None, "forbidden")
            raise ApiError(401, None, "unauthorized")
        faults = sb.dice.settings
        api = "data" if is_market_data(req.path) else "trading"  # Alpaca counts them apart
        allowed, remaining, reset = self.limiter.hit(
            f"{api}:{key}", faults.rate_limit, hold=faults.rate_hold > 0
        )
        headers = {}
        if faults.rate_limit > 0:
            headers = {
                "X-RateLimit-Limit": str(faults.rate_limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(reset),
            }
        if faults.latency > 0 and await self._delay(faults.latency):
            return self._drop(request)
        if not allowed or sb.dice.take_429():
            return json_response(429, {"code": 42910000, "message": "rate limit exceeded"}, headers)
        if sb.dice.roll("hang_rate"):
            return await self._hang(request)
        if sb.dice.roll("error_rate"):
            return self._error_page(faults.error_status, headers)
        is_order = req.method == "POST" and req.path == "/v2/orders"
        if is_order and sb.dice.roll("order_fail_rate"):
            return self._error_page(faults.error_status, headers)
        if req.path.startswith("/v2/account/activities") and sb.dice.roll("activities_fail_rate"):
            return self._error_page(faults.error_status, headers)
        try:
            status, reply = await self._run(dispatch, sb, req)
        except ApiError as exc:
            return json_response(exc.status, exc.body(), headers)
        if is_order and sb.dice.roll("lost_ack_rate"):
            if sb.dice.settings.lost_ack_mode == "drop":
                return self._drop(request)
            return self._error_page(504, headers)
        answer = json_response(status, reply, headers)
        if faults.trickle > 0 and isinstance(answer.body, bytes) and answer.body:
            return await self._trickle(request, answer, faults.trickle)
        return answer

    async def _delay(self, seconds: float) -> bool:
        """Wait out the latency fault; True if the server started stopping meanwhile."""
        stopping = self.server.stopping
        assert stopping is not None
        self.delayed += 1
        try:
            await asyncio.wait_for(stopping.wait(), seconds)
            return True
        except TimeoutError:
            return False
        finally:
            self.delayed -= 1

    def _error_page(self, status: int, headers: dict[str, str]) -> web.Response:
        """A 5xx answer: JSON for 500 (the API's own), an HTML gateway page otherwise."""
        if status == 500:
            return json_response(
                500, {"code": 50010000, "message": "internal server error"}, headers
            )
        page = _GATEWAY_PAGE.format(_REASONS[status])
        return web.Response(status=status, text=page, content_type="text/html")

    async def _hang(self, request: web.Request) -> web.StreamResponse:
        """Answer nothing until the client hangs up or the server stops, then close."""
        stopping = self.server.stopping
        assert stopping is not None
        self.hanging += 1
        try:
            while not stopping.is_set():
                transport = request.transport
                if transport is None or transport.is_closing():
                    break  # the client gave up
                try:
                    await asyncio.wait_for(stopping.wait(), HANG_POLL)
                except TimeoutError:
                    continue
        finally:
            self.hanging -= 1
        return self._drop(request)

    async def _trickle(
        self, request: web.Request, answer: web.Response, seconds: float
    ) -> web.StreamResponse:
        """Send ``answer``'s status and headers at once, then its body one byte every
        ``seconds`` (the ``trickle`` fault), until it is sent, the client hangs up or the
        server stops."""
        stopping = self.server.stopping
        assert stopping is not None and isinstance(answer.body, bytes)
        body = answer.body
        stream = web.StreamResponse(status=answer.status, headers=answer.headers)
        stream.content_length = len(body)
        self.trickling += 1
        try:
            await stream.prepare(request)
            for at in range(len(body)):
                await stream.write(body[at : at + 1])
                if at + 1 < len(body) and await _stopped_within(stopping, seconds):
                    return self._drop(request)
            await stream.write_eof()
        except (ConnectionError, RuntimeError):  # the client hung up meanwhile
            pass
        finally:
            self.trickling -= 1
        return stream

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        """Close the connection without a word: the answer returned is never written (aiohttp
        meets the closed transport and lets the request go quietly)."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=504)
