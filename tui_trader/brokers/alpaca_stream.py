"""Alpaca's ``trade_updates`` stream, run in its own thread, watched for drops.

alpaca-py's ``TradingStream`` reconnects by itself but says nothing about it. The broker must
know: while the stream is down no new order may go out, and after it comes back the fills it
missed must be fetched before trading resumes. So the stream is wrapped to count its
connections and to report whether it is up; a reconnect shows as a new connection number.
It is up only once Alpaca answers ``listening`` to trade updates: alpaca-py returns from its
connect as soon as it has sent ``listen``, and a connection cut before that answer (a server
that drops every reconnect) would otherwise look up for a moment, long enough on a loaded
machine for a cycle to back-fill and send orders no update could follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from datetime import datetime
from typing import Any

from tui_trader.brokers.alpaca_config import AlpacaEndpoint


class TradeUpdateFeed:
    """Receives trade updates into a queue and knows whether the stream is connected."""

    def __init__(self, endpoint: AlpacaEndpoint, paper: bool) -> None:
        from alpaca.trading.stream import TradingStream

        feed = self

        class _WatchedStream(TradingStream):
            """TradingStream that tells the feed when it listens and when it closes."""

            async def _dispatch(self, msg: dict[str, Any]) -> None:
                if msg.get("stream") == "listening":
                    streams = (msg.get("data") or {}).get("streams") or []
                    if "trade_updates" in streams:
                        feed._on_connect()
                await super()._dispatch(msg)

            async def close(self) -> None:
                feed._on_close()
                await super().close()

        self.stream = _WatchedStream(
            endpoint.key_id, str(endpoint.secret), paper=paper, url_override=endpoint.stream_url
        )
        self.stream._reconnect_min_backoff = 0.2
        self.stream._reconnect_max_backoff = 5.0
        self.stream.subscribe_trade_updates(self._on_update)
        self.events: queue.Queue[tuple[str, Any, datetime | None]] = queue.Queue()
        """``(event, order, timestamp)``: the event's timestamp is ``None`` when it has none."""
        self.connects = 0
        """How many times the stream has connected; a change means it dropped and came back."""
        self._up = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trade-updates", daemon=True)

    @property
    def connected(self) -> bool:
        """True while the stream is connected and listening."""
        return self._up.is_set()

    def start(self, wait: float) -> bool:
        """Start the stream thread; wait up to ``wait`` seconds for it to listen."""
        self._thread.start()
        return self._up.wait(wait)

    def stop(self) -> None:
        """Close the stream quickly and join its thread."""
        loop = self.stream._loop
        if loop is not None and loop.is_running():

            async def shutdown() -> None:
                await self.stream.stop_ws()
                await self.stream.close()

            # The loop may be closing on its own; the join below still waits for the thread.
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        """The thread body: alpaca-py's own run loop (it calls ``asyncio.run``)."""
        self.stream.run()

    def _on_connect(self) -> None:
        """Called on the stream's loop when Alpaca confirms it listens to trade updates."""
        self.connects += 1
        self._up.set()

    def _on_close(self) -> None:
        """Called whenever the socket closes (a drop, an error, or our own stop)."""
        self._up.clear()

    async def _on_update(self, update: Any) -> None:
        """Queue ``(event, order, timestamp)`` for the broker to apply on the trading thread:
        the update's ``timestamp`` is when it happened at Alpaca (a fill's: the execution's)."""
        event = str(getattr(update.event, "value", update.event))
        self.events.put((event, update.order, getattr(update, "timestamp", None)))
