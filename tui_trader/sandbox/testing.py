"""Run a sandbox inside a test: ``with running_sandbox() as sb:`` and point alpaca-py at it.

The sandbox listens on free ports of 127.0.0.1, its market paused (``speed=0``) so that only
``sb.admin.step()`` moves it, and stops when the block ends. ``sb.admin`` drives the sandbox's
``/admin`` endpoints over HTTP with the sandbox's keys, the same way a second terminal would.
``make_fast`` gives an alpaca-py REST client a timeout and instant retries (through its private
``_retry_wait`` and ``_session``: alpaca-py offers no public way); ``StreamRunner`` runs an
alpaca-py stream in a thread and stops it in milliseconds; ``wait_until`` polls a condition under
a deadline.
"""

from __future__ import annotations

import asyncio
import functools
import json
import queue
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tui_trader.sandbox.app import Sandbox
from tui_trader.sandbox.config import DEFAULT_KEY_ID, DEFAULT_SECRET, SandboxConfig
from tui_trader.sandbox.faults import FaultSettings, parse_faults

ADMIN_TIMEOUT = 10.0


class AdminClient:
    """The sandbox's ``/admin`` endpoints as methods (plain urllib, with the sandbox's keys)."""

    def __init__(
        self, base_url: str, key_id: str = DEFAULT_KEY_ID, secret: str = DEFAULT_SECRET
    ) -> None:
        """Talk to the sandbox at ``base_url`` (the bare http origin) as ``key_id`` (the
        sandbox's default keys unless it was started with others)."""
        self.base_url = base_url
        self._headers = {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret}

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One admin request; raises ``RuntimeError`` with the sandbox's message on an error."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in self._headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=ADMIN_TIMEOUT) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"admin {path}: {exc.read().decode(errors='replace')}") from None

    def state(self) -> dict[str, Any]:
        """``GET /admin/state``."""
        return self._call("GET", "/admin/state")

    def step(self, bars: int = 1, shock: dict[str, float] | None = None) -> dict[str, Any]:
        """``POST /admin/step``: produce ``bars`` bars now; ``shock`` shifts levels in percent."""
        return self._call("POST", "/admin/step", {"bars": bars, "shock": shock or {}})

    def set_faults(self, spec: str = "", reset: bool = False, **switches: Any) -> dict[str, Any]:
        """``POST /admin/faults``: a SPEC string and/or named switches, on top of (or reset)."""
        body: dict[str, Any] = dict(switches)
        if spec:
            body["spec"] = spec
        if reset:
            body["reset"] = True
        return self._call("POST", "/admin/faults", body)["faults"]

    def clear_faults(self) -> dict[str, Any]:
        """Every fault switch back off (the rate limit back to 200)."""
        return self.set_faults(reset=True)

    def drop_streams(self) -> int:
        """``POST /admin/drop_streams``: cut every websocket; returns how many were cut."""
        return int(self._call("POST", "/admin/drop_streams", {})["dropped"])

    def options_order(
        self, legs: list[tuple[str, str]], qty: float = 1, limit_price: float = 1.5
    ) -> dict[str, Any]:
        """``POST /admin/options_order``: a multi-leg options order placed from outside the
        desk (legs: ``(contract, side)``); the order as Alpaca lists it."""
        body = {"legs": [list(leg) for leg in legs], "qty": qty, "limit_price": limit_price}
        return self._call("POST", "/admin/options_order", body)

    def move_cash(self, amount: float, kind: str = "") -> dict[str, Any]:
        """``POST /admin/cash``: deposit ``amount`` (negative: withdraw); ``kind`` CSD, CSW or
        JNLC (by the sign unless given); the activity as Alpaca lists it."""
        body: dict[str, Any] = {"amount": amount}
        if kind:
            body["type"] = kind
        return self._call("POST", "/admin/cash", body)

    def coin_order(self, symbol: str, side: str, qty: float, limit_price: float) -> dict[str, Any]:
        """``POST /admin/coin_order``: a cryptocurrency limit order (``BTC/USD``) placed from
        outside the desk; the order as Alpaca lists it."""
        body = {"symbol": symbol, "side": side, "qty": qty, "limit_price": limit_price}
        return self._call("POST", "/admin/coin_order", body)

    def outside_position(
        self, symbol: str, asset_class: str, qty: float, price: float
    ) -> dict[str, Any]:
        """``POST /admin/outside_position``: an option contract or a cryptocurrency bought by
        hand (``asset_class`` ``us_option`` or ``crypto``), paid from the account's cash."""
        body = {"symbol": symbol, "asset_class": asset_class, "qty": qty, "price": price}
        return self._call("POST", "/admin/outside_position", body)

    def set_speed(self, speed: float) -> dict[str, Any]:
        """``POST /admin/speed``: change the market's pace (0 pauses it)."""
        return self._call("POST", "/admin/speed", {"speed": speed})


@dataclass(frozen=True, slots=True)
class SandboxHandle:
    """Where a running sandbox listens, its keys, its admin client and the sandbox itself."""

    base_url: str
    trading_stream_url: str
    data_stream_url: str
    key_id: str
    secret: str
    admin: AdminClient
    sandbox: Sandbox


@contextmanager
def running_sandbox(
    config: SandboxConfig | None = None,
    faults: str = "",
    now: Callable[[], datetime] | None = None,
    **overrides: Any,
) -> Iterator[SandboxHandle]:
    """Start a sandbox on free loopback ports (market paused unless ``speed=`` says otherwise).

    Its intraday history is the live warm-up only (``minute_days=0``) unless a test asks for
    more: a desk's warm-up of a few padded days would otherwise load four times the bars, too
    slow for the tight timeouts fault tests use. The daily history is always there.

    ``overrides`` are ``SandboxConfig`` fields (``cash=``, ``seed=``, ``symbols=``...);
    ``faults`` is a SPEC string applied at start; ``now`` replaces the wall clock (market hours,
    order times, day-order expiry) so that a test can stand at any moment of the week.
    """
    base = config or SandboxConfig(speed=0.0, minute_days=0)
    settings = parse_faults(faults, base.faults) if faults else base.faults
    chosen = replace(base, faults=settings, **overrides)
    sandbox = (Sandbox(chosen, now) if now else Sandbox(chosen)).start()
    try:
        yield SandboxHandle(
            base_url=sandbox.base_url,
            trading_stream_url=sandbox.trading_stream_url,
            data_stream_url=sandbox.data_stream_url,
            key_id=chosen.key_id,
            secret=chosen.secret,
            admin=AdminClient(sandbox.base_url, chosen.key_id, chosen.secret),
            sandbox=sandbox,
        )
    finally:
        sandbox.stop()


# -- helpers for driving alpaca-py against the sandbox -------------------------------------------

REQUEST_TIMEOUT = 5.0
"""alpaca-py sets no timeout; every test request gets this one."""


def make_fast(client: Any, timeout: float = REQUEST_TIMEOUT, retries: int | None = None) -> Any:
    """Give an alpaca-py REST client a request timeout and no wait between its 429/504 retries.

    ``retries`` replaces alpaca-py's three retries (0: a 429 or 504 reaches the caller at once).
    """
    client._retry_wait = 0
    if retries is not None:
        client._retry = retries
    client._session.request = functools.partial(client._session.request, timeout=timeout)
    return client


def wait_until(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        pause.wait(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class StreamRunner:
    """Runs an alpaca-py stream in a thread; handlers put what they get on ``received``."""

    def __init__(self, stream: Any) -> None:
        """Wrap ``stream`` (already subscribed); call ``start`` to run it."""
        self.stream = stream
        stream._reconnect_min_backoff = 0.05
        stream._reconnect_max_backoff = 0.1
        self.received: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=stream.run, daemon=True)

    async def handler(self, item: Any) -> None:
        """A stream handler that keeps everything it receives."""
        self.received.put(item)

    def start(self) -> StreamRunner:
        """Start the stream's thread."""
        self._thread.start()
        return self

    def next(self, accept: Callable[[Any], bool] = lambda _: True, timeout: float = 15.0) -> Any:
        """The next received item that ``accept`` likes (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for a stream message")
            try:
                item = self.received.get(timeout=left)
            except queue.Empty:
                continue
            if accept(item):
                return item

    def stop(self) -> None:
        """Stop quickly (``stop_ws`` then ``close``, not the slow ``stop()``) and join."""
        loop = wait_until(lambda: self.stream._loop, what="stream loop")

        async def shutdown() -> None:
            """Ask the stream to stop, then close its socket so ``recv`` returns at once."""
            await self.stream.stop_ws()
            await self.stream.close()

        if loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "stream thread did not stop"


__all__ = [
    "AdminClient",
    "FaultSettings",
    "SandboxHandle",
    "StreamRunner",
    "make_fast",
    "running_sandbox",
    "wait_until",
]
