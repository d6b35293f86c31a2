"""The sandbox's websocket streams: Alpaca's trading stream and its stock data stream.

They are served by the sandbox's one aiohttp server, on the REST port, told apart by path as
Alpaca does: ``/stream`` speaks the trading stream's JSON (``authenticate``, then ``listen`` to
``trade_updates``); ``/v2/iex`` (also ``/v2/sip``, ``/v2/delayed_sip``, ``/v2/test``) speaks the
data stream: ``connected``, ``auth``, ``subscribe`` to trades, quotes and bars, in msgpack when
the client says ``Content-Type: application/msgpack`` (as alpaca-py does), JSON otherwise. Other
threads publish through ``call_soon_threadsafe`` on the server's loop; the ``ws_drop`` fault
cuts a connection instead of sending. ``ws_duplicate`` sends a trade update twice and
``ws_reorder`` holds one back until the next one has gone (or the bar after next, or two
seconds), as Alpaca's eventually consistent stream may; ``ws_mute`` never sends one, the
connection left up (a stream gone silent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

import msgpack
from aiohttp import WSMsgType, web

from tui_trader.core.domain import Bar
from tui_trader.sandbox.feed import Quote
from tui_trader.sandbox.matching import TradeEvent
from tui_trader.sandbox.shapes import trade_update_json
from tui_trader.sandbox.stream_messages import bar_msg, json_default, quote_msg, trade_msg

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox

log = logging.getLogger("tui_trader.sandbox")
TRADING_PATH = "/stream"
DATA_PATHS = ("/v2/iex", "/v2/sip", "/v2/delayed_sip", "/v2/test")
AUTH_TIMEOUT = 10.0
HOLD_AT_MOST = 2.0
"""Seconds a trade update held back by ``ws_reorder`` waits for a next one before it goes."""
_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds")


class _Closed(Exception):
    """The client closed its side (or the connection was cut)."""


class _Client:
    """One connected stream client: its socket, its outbox and what it asked for."""

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, kind: str, msgpack_wire: bool
    ) -> None:
        """A client of ``kind`` ``trading`` or ``data``."""
        self.ws = ws
        self.request = request
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
        return json.dumps(payload, default=json_default)

    async def send(self, payload: Any) -> None:
        """Send one payload now (text or binary frame, as encoded)."""
        data = self.encode(payload)
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)

    async def recv(self, timeout: float | None = None) -> bytes | str:
        """The next text or binary message; ``_Closed`` when the connection ends."""
        msg = await self.ws.receive(timeout=timeout)
        if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            return msg.data
        raise _Closed

    def abort(self) -> None:
        """Cut the connection without a closing handshake."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    def wants(self, channel: str, symbol: str) -> bool:
        """True if subscribed to ``symbol`` (or ``*``) on ``channel``."""
        chosen = self.subs[channel]
        return symbol in chosen or "*" in chosen


class StreamHub:
    """Both websocket streams' clients; connections arrive from the sandbox's HTTP server."""

    def __init__(self, sandbox: Sandbox) -> None:
        """Serve ``sandbox``'s streams; publishing does nothing until ``attach`` gives a loop."""
        self.sandbox = sandbox
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[_Client] = set()
        self._held: dict[str, Any] | None = None
        """The trade update ``ws_reorder`` holds back until the next one (loop only)."""
        self._held_bars = 0
        """Bars that ended while it was held (it goes at the second)."""

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The server's loop (None once it stops)."""
        self._loop = loop

    @staticmethod
    def stream_kind(path: str) -> str | None:
        """``trading``, ``data`` or None for a path that is not a stream's."""
        if path == TRADING_PATH:
            return "trading"
        return "data" if path in DATA_PATHS else None

    # -- publishing (any thread) ---------------------------------------------------------------

    def publish_trade(self, event: TradeEvent) -> None:
        """Send a trade update to every authenticated trading client listening to it."""
        payload = trade_update_json(event)
        self._call(self._broadcast_trade, payload)

    def publish_update(self, data: dict[str, Any]) -> None:
        """Send a trade update already shaped (its ``data``: ``sandbox.options_orders``)."""
        self._call(self._broadcast_trade, {"stream": "trade_updates", "data": data})

    def publish_market(self, bars: dict[str, Bar], quotes: dict[str, Quote]) -> None:
        """Send the new bars, quotes and trades to the data clients subscribed to them."""
        self._call(self._broadcast_market, bars, quotes)

    def drop_all(self) -> int:
        """Cut every stream connection at once (from a thread other than the loop's)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return 0
        future = asyncio.run_coroutine_threadsafe(self._drop_all(), loop)
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
        """Queue a trade update for the trading clients (in the loop): after it, the one
        ``ws_reorder`` held back; or, rolled so, held back itself; each maybe twice; or, muted
        (``ws_mute``), never sent."""
        dice = self.sandbox.dice
        if dice.roll("ws_mute"):
            return
        if self._held is not None:
            batch, self._held = [payload, self._held], None
        elif dice.roll("ws_reorder"):
            self._held, self._held_bars = payload, 0
            if self._loop is not None:
                self._loop.call_later(HOLD_AT_MOST, self._release_held, payload)
            return
        else:
            batch = [payload]
        self._queue_trades([m for m in batch for _ in range(2 if dice.roll("ws_duplicate") else 1)])

    def _release_held(self, payload: dict[str, Any] | None = None) -> None:
        """Send the held-back trade update now (``payload``: only if it is still that one)."""
        held = self._held
        if held is not None and (payload is None or held is payload):
            self._held = None
            self._queue_trades([held])

    def _queue_trades(self, payloads: list[dict[str, Any]]) -> None:
        """Put trade updates in every listening trading client's outbox, in order."""
        for client in self._clients:
            if client.kind == "trading" and client.ready:
                for payload in payloads:
                    client.outbox.put_nowait(payload)

    def _broadcast_market(self, bars: dict[str, Bar], quotes: dict[str, Quote]) -> None:
        """Queue each data client's share of the new bars, quotes and trades (in the loop); a
        trade update held back by ``ws_reorder`` goes at the second bar (so it may still come
        after an update of the next bar)."""
        self._held_bars += 1
        if self._held_bars >= 2:
            self._release_held()
        for client in self._clients:
            if client.kind != "data" or not client.ready:
                continue
            wire = client.msgpack_wire
            batch = [trade_msg(b, wire) for s, b in bars.items() if client.wants("trades", s)]
            batch += [bar_msg(b, wire) for s, b in bars.items() if client.wants("bars", s)]
            batch += [quote_msg(q, wire) for s, q in quotes.items() if client.wants("quotes", s)]
            if batch:
                client.outbox.put_nowait(batch)

    async def _drop_all(self) -> int:
        """Abort every connection's transport (in the loop)."""
        clients = list(self._clients)
        for client in clients:
            client.abort()
        return len(clients)

    async def close_all(self) -> None:
        """Cut every connection (the server is stopping)."""
        await self._drop_all()

    # -- connections ---------------------------------------------------------------------------

    async def handle(self, request: web.Request, kind: str) -> web.StreamResponse:
        """Serve one websocket connection of ``kind`` for its whole life."""
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        await ws.prepare(request)
        msgpack_wire = "msgpack" in request.headers.get("Content-Type", "")
        client = _Client(ws, request, kind, kind == "data" and msgpack_wire)
        self._clients.add(client)
        sender = asyncio.create_task(self._send_loop(client))
        try:
            if kind == "trading":
                await self._serve_trading(client)
            else:
                await self._serve_data(client)
        except (_Closed, TimeoutError, ValueError, ConnectionError):
            pass
        except Exception as exc:  # a malformed client message: drop that client, keep serving
            log.debug("stream client error: %s", exc)
        finally:
            self._clients.discard(client)
            sender.cancel()
            with contextlib.suppress(Exception):
                await ws.close()
        return ws

    async def _send_loop(self, client: _Client) -> None:
        """Write the client's outbox in order; ``ws_drop`` cuts the line instead of a message."""
        while True:
            payload = await client.outbox.get()
            if client.ready and self.sandbox.dice.roll("ws_drop"):
                client.abort()
                return
            try:
                await client.send(payload)
            except (ConnectionError, RuntimeError):
                return

    async def _serve_trading(self, client: _Client) -> None:
        """The trading stream: authenticate, then answer ``listen`` requests."""
        config = self.sandbox.config
        msg = json.loads(await client.recv(AUTH_TIMEOUT))
        data = msg.get("data") or {}
        key = data.get("key_id") or msg.get("key")
        secret = data.get("secret_key") or msg.get("secret")
        ok = msg.get("action") in ("authenticate", "auth") and (key, secret) == (
            config.key_id,
            config.secret,
        )
        status = "authorized" if ok else "unauthorized"
        reply = {"stream": "authorization", "data": {"action": "authenticate", "status": status}}
        await client.send(reply)
        if not ok:
            await client.ws.close(code=1008, message=b"unauthorized")
            return
        while True:
            msg = json.loads(await client.recv())
            if msg.get("action") == "listen":
                streams = list((msg.get("data") or {}).get("streams", []))
                client.ready = "trade_updates" in streams
                client.outbox.put_nowait({"stream": "listening", "data": {"streams": streams}})

    async def _refuse(self, client: _Client, code: int, why: str) -> None:
        """Send a data-stream error and close the connection."""
        await client.send([{"T": "error", "code": code, "msg": why}])
        await client.ws.close(code=1008, message=why.encode())

    async def _serve_data(self, client: _Client) -> None:
        """The data stream: ``connected``, ``auth``, then subscribe and unsubscribe."""
        config = self.sandbox.config
        await client.send([{"T": "success", "msg": "connected"}])
        try:
            raw = await client.recv(AUTH_TIMEOUT)
        except TimeoutError:
            await self._refuse(client, 404, "auth timeout")
            return
        msg = self._decode(client, raw)
        if msg.get("action") != "auth":
            await self._refuse(client, 401, "not authenticated")
            return
        if (msg.get("key"), msg.get("secret")) != (config.key_id, config.secret):
            await self._refuse(client, 402, "auth failed")
            return
        if any(
            other.kind == "data" and other.authed and not other.ws.closed
            for other in self._clients
            if other is not client
        ):  # Alpaca allows one data stream connection per key
            await self._refuse(client, 406, "connection limit exceeded")
            return
        client.authed = True
        await client.send([{"T": "success", "msg": "authenticated"}])
        while True:
            msg = self._decode(client, await client.recv())
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
