"""The sandbox's websocket streams: Alpaca's trading stream and its stock data stream.

One asyncio ``websockets`` server in its own thread serves both, told apart by path:
``/stream`` speaks the trading stream's JSON (``authenticate``, then ``listen`` to
``trade_updates``); ``/v2/iex`` (also ``/v2/sip``, ``/v2/test``) speaks the data stream:
``connected``, ``auth``, ``subscribe`` to trades, quotes and bars, in msgpack when the client says
``Content-Type: application/msgpack`` (as alpaca-py does), JSON otherwise. Other threads publish
through ``call_soon_threadsafe``; the ``ws_drop`` fault cuts a connection instead of sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgpack
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from tui_trader.core.domain import Bar
from tui_trader.sandbox.data_api import rfc3339
from tui_trader.sandbox.feed import Quote, trade_count, vwap
from tui_trader.sandbox.matching import TradeEvent
from tui_trader.sandbox.shapes import trade_update_json

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox

log = logging.getLogger("tui_trader.sandbox")
TRADING_PATH = "/stream"
DATA_PATHS = ("/v2/iex", "/v2/sip", "/v2/delayed_sip", "/v2/test")
AUTH_TIMEOUT = 10.0
_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds")


class _Client:
    """One connected stream client: its socket, its outbox and what it asked for."""

    def __init__(self, conn: ServerConnection, kind: str, msgpack_wire: bool) -> None:
        """A client of ``kind`` ``trading`` or ``data``."""
        self.conn = conn
        self.kind = kind
        self.msgpack_wire = msgpack_wire
        self.outbox: asyncio.Queue[Any] = asyncio.Queue()
        self.ready = False
        self.authed = False
        self.subs: dict[str, set[str]] = {c: set() for c in _CHANNELS}

    def encode(self, payload: Any) -> bytes | str:
        """A payload in the client's wire format."""
        if self.kind == "trading":
            return json.dumps(payload).encode()  # Alpaca sends binary frames of JSON
        if self.msgpack_wire:
            return msgpack.packb(payload, datetime=False)
        return json.dumps(payload, default=_json_default)

    def wants(self, channel: str, symbol: str) -> bool:
        """True if subscribed to ``symbol`` (or ``*``) on ``channel``."""
        chosen = self.subs[channel]
        return symbol in chosen or "*" in chosen


class StreamServer:
    """Both websocket streams on one port, in a thread of their own."""

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        """Serve ``sandbox``'s streams on ``host:port`` (0 picks a free port) once started."""
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-streams", daemon=True)
        self._clients: set[_Client] = set()
        self._error: BaseException | None = None

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> int:
        """Start serving; returns the port."""
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            if isinstance(self._error, OSError):
                raise self._error  # the port is taken, most likely: the caller says so
            raise RuntimeError(f"stream server did not start: {self._error}")
        return self.port

    def stop(self) -> None:
        """Close every connection and stop the server thread."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        """The thread: one asyncio loop for the server's whole life."""
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        """Serve until told to stop."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server: Server
        async with serve(self._handle, self.host, self.port) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()
            server.close(close_connections=True)
            await server.wait_closed()

    # -- publishing (any thread) ---------------------------------------------------------------

    def publish_trade(self, event: TradeEvent) -> None:
        """Send a trade update to every authenticated trading client listening to it."""
        payload = trade_update_json(event)
        self._call(self._broadcast_trade, payload)

    def publish_market(self, bars: dict[str, Bar], quotes: dict[str, Quote]) -> None:
        """Send the new bars, quotes and trades to the data clients subscribed to them."""
        self._call(self._broadcast_market, bars, quotes)

    def drop_all(self) -> int:
        """Cut every stream connection at once; returns how many were cut."""
        if self._loop is None:
            return 0
        future = asyncio.run_coroutine_threadsafe(self._drop_all(), self._loop)
        return future.result(timeout=5)

    def client_count(self) -> int:
        """How many stream clients are authenticated and listening or subscribed."""
        return sum(1 for client in list(self._clients) if client.ready)

    def _call(self, func: Any, *args: Any) -> None:
        """Run ``func(*args)`` in the server's loop (dropped if the loop has stopped)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(func, *args)

    def _broadcast_trade(self, payload: dict[str, Any]) -> None:
        """Queue a trade update for the trading clients (in the loop)."""
        for client in self._clients:
            if client.kind == "trading" and client.ready:
                client.outbox.put_nowait(payload)

    def _broadcast_market(self, bars: dict[str, Bar], quotes: dict[str, Quote]) -> None:
        """Queue each data client's share of the new bars, quotes and trades (in the loop)."""
        for client in self._clients:
            if client.kind != "data" or not client.ready:
                continue
            wire = client.msgpack_wire
            batch = [_trade_msg(b, wire) for s, b in bars.items() if client.wants("trades", s)]
            batch += [_bar_msg(b, wire) for s, b in bars.items() if client.wants("bars", s)]
            batch += [_quote_msg(q, wire) for s, q in quotes.items() if client.wants("quotes", s)]
            if batch:
                client.outbox.put_nowait(batch)

    async def _drop_all(self) -> int:
        """Abort every connection's transport (in the loop)."""
        clients = list(self._clients)
        for client in clients:
            client.conn.transport.abort()
        return len(clients)

    # -- connections ---------------------------------------------------------------------------

    async def _handle(self, conn: ServerConnection) -> None:
        """Serve one connection for its whole life."""
        path = conn.request.path.split("?")[0].rstrip("/") if conn.request else ""
        if path == TRADING_PATH:
            client = _Client(conn, "trading", False)
        elif path in DATA_PATHS:
            content_type = conn.request.headers.get("Content-Type", "") if conn.request else ""
            client = _Client(conn, "data", "msgpack" in content_type)
        else:
            await conn.close(1008, "unknown stream path")
            return
        self._clients.add(client)
        sender = asyncio.create_task(self._send_loop(client))
        try:
            if client.kind == "trading":
                await self._serve_trading(client)
            else:
                await self._serve_data(client)
        except (ConnectionClosed, TimeoutError, ValueError):
            pass
        except Exception as exc:  # a malformed client message: drop that client, keep serving
            log.debug("stream client error: %s", exc)
        finally:
            self._clients.discard(client)
            sender.cancel()

    async def _send_loop(self, client: _Client) -> None:
        """Write the client's outbox in order; ``ws_drop`` cuts the line instead of a message."""
        while True:
            payload = await client.outbox.get()
            if client.ready and self.sandbox.dice.roll("ws_drop"):
                client.conn.transport.abort()
                return
            try:
                await client.conn.send(client.encode(payload))
            except ConnectionClosed:
                return

    async def _serve_trading(self, client: _Client) -> None:
        """The trading stream: authenticate, then answer ``listen`` requests."""
        config = self.sandbox.config
        raw = await asyncio.wait_for(client.conn.recv(), AUTH_TIMEOUT)
        msg = json.loads(raw)
        data = msg.get("data") or {}
        key = data.get("key_id") or msg.get("key")
        secret = data.get("secret_key") or msg.get("secret")
        ok = msg.get("action") in ("authenticate", "auth") and (key, secret) == (
            config.key_id,
            config.secret,
        )
        status = "authorized" if ok else "unauthorized"
        reply = {"stream": "authorization", "data": {"action": "authenticate", "status": status}}
        await client.conn.send(client.encode(reply))
        if not ok:
            await client.conn.close(1008, "unauthorized")
            return
        async for raw in client.conn:
            msg = json.loads(raw)
            if msg.get("action") == "listen":
                streams = [s for s in (msg.get("data") or {}).get("streams", [])]
                client.ready = "trade_updates" in streams
                listening = {"stream": "listening", "data": {"streams": streams}}
                client.outbox.put_nowait(listening)

    async def _serve_data(self, client: _Client) -> None:
        """The data stream: ``connected``, ``auth``, then subscribe and unsubscribe."""
        config = self.sandbox.config
        await client.conn.send(client.encode([{"T": "success", "msg": "connected"}]))
        try:
            raw = await asyncio.wait_for(client.conn.recv(), AUTH_TIMEOUT)
        except TimeoutError:
            await client.conn.send(
                client.encode([{"T": "error", "code": 404, "msg": "auth timeout"}])
            )
            await client.conn.close(1008, "auth timeout")
            return
        msg = self._decode(client, raw)
        if msg.get("action") != "auth":
            refusal = [{"T": "error", "code": 401, "msg": "not authenticated"}]
            await client.conn.send(client.encode(refusal))
            await client.conn.close(1008, "not authenticated")
            return
        if (msg.get("key"), msg.get("secret")) != (
            config.key_id,
            config.secret,
        ):
            refusal = [{"T": "error", "code": 402, "msg": "auth failed"}]
            await client.conn.send(client.encode(refusal))
            await client.conn.close(1008, "auth failed")
            return
        if any(
            other.kind == "data" and other.authed and other.conn.state is State.OPEN
            for other in self._clients
            if other is not client
        ):  # Alpaca allows one data stream connection per key
            refusal = [{"T": "error", "code": 406, "msg": "connection limit exceeded"}]
            await client.conn.send(client.encode(refusal))
            await client.conn.close(1008, "connection limit exceeded")
            return
        client.authed = True
        await client.conn.send(client.encode([{"T": "success", "msg": "authenticated"}]))
        async for raw in client.conn:
            msg = self._decode(client, raw)
            action = msg.get("action")
            if action not in ("subscribe", "unsubscribe"):
                client.outbox.put_nowait([{"T": "error", "code": 400, "msg": "invalid syntax"}])
                continue
            for channel in _CHANNELS:
                symbols = {str(s).upper() if s != "*" else s for s in msg.get(channel) or []}
                if action == "subscribe":
                    client.subs[channel] |= symbols
                else:
                    client.subs[channel] -= symbols
            client.ready = True
            answer: dict[str, Any] = {"T": "subscription"}
            answer.update({c: sorted(client.subs[c]) for c in _CHANNELS})
            answer.update({"corrections": [], "cancelErrors": []})
            client.outbox.put_nowait([answer])

    @staticmethod
    def _decode(client: _Client, raw: bytes | str) -> dict[str, Any]:
        """A client message in msgpack or JSON (a dict, else ValueError)."""
        if isinstance(raw, bytes) and client.msgpack_wire:
            msg = msgpack.unpackb(raw)
        else:
            msg = json.loads(raw)
        if not isinstance(msg, dict):
            raise ValueError("stream message is not an object")
        return msg


def _stamp(when: datetime, msgpack_wire: bool) -> Any:
    """A time as a msgpack Timestamp (what alpaca-py expects) or an RFC 3339 string."""
    return msgpack.Timestamp.from_datetime(when) if msgpack_wire else rfc3339(when)


def _bar_msg(bar: Bar, wire: bool) -> dict[str, Any]:
    """A stream bar (``T: b``) with ``n`` and ``vw``."""
    return {
        "T": "b",
        "S": bar.symbol,
        "o": bar.open,
        "h": bar.high,
        "l": bar.low,
        "c": bar.close,
        "v": bar.volume,
        "t": _stamp(bar.timestamp, wire),
        "n": trade_count(bar),
        "vw": vwap(bar),
    }


def _trade_msg(bar: Bar, wire: bool) -> dict[str, Any]:
    """A stream trade (``T: t``): 100 shares at the bar's close, at the bar's end."""
    return {
        "T": "t",
        "S": bar.symbol,
        "i": int(bar.timestamp.timestamp()),
        "x": "V",
        "p": bar.close,
        "s": 100,
        "c": ["@"],
        "z": "B",
        "t": _stamp(bar.timestamp, wire),
    }


def _quote_msg(quote: Quote, wire: bool) -> dict[str, Any]:
    """A stream quote (``T: q``)."""
    return {
        "T": "q",
        "S": quote.symbol,
        "bx": "V",
        "bp": quote.bid,
        "bs": quote.bid_size,
        "ax": "V",
        "ap": quote.ask,
        "as": quote.ask_size,
        "c": ["R"],
        "z": "B",
        "t": _stamp(quote.timestamp, wire),
    }


def _json_default(value: Any) -> Any:
    """JSON for msgpack Timestamps (never reached for JSON clients; kept for safety)."""
    if isinstance(value, msgpack.Timestamp):
        return rfc3339(value.to_datetime())
    raise TypeError(f"cannot encode {type(value).__name__}")
