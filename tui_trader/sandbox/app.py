"""The sandbox assembled: market, engine, faults, its one server (REST and streams) and pacer.

``Sandbox(config).start()`` serves on 127.0.0.1 until ``stop()``; it is also a context manager.
One simulated clock (``sim_clock.SimClock``) serves ``/v2/clock``, the hours, the orders' times
and the bars. With ``speed`` above zero a pacer thread produces each bar once that clock has
passed its end (only while the market is open), about one every ``interval / speed`` seconds of
wall time; ``step()`` produces bars at once, whatever the speed, which is how tests move the
market deterministically (stepped bars may run ahead of the clock: a step moves the market, not
the time, so the broker's times stay comparable with the desk's wall clock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tui_trader.sandbox.config import SandboxConfig, check_speed
from tui_trader.sandbox.faults import FaultDice
from tui_trader.sandbox.feed import MarketFeed
from tui_trader.sandbox.hours import MarketHours
from tui_trader.sandbox.matching import OPEN_STATUSES, MatchingEngine
from tui_trader.sandbox.options_orders import OptionsOrders
from tui_trader.sandbox.outside_positions import OutsidePositions
from tui_trader.sandbox.server import SandboxServer
from tui_trader.sandbox.shapes import iso
from tui_trader.sandbox.sim_clock import SimClock
from tui_trader.sandbox.stale_reads import StaleReads
from tui_trader.sandbox.streams import DATA_PATHS, TRADING_PATH, StreamHub


def _utc_now() -> datetime:
    """The wall clock, UTC."""
    return datetime.now(UTC)


class Sandbox:
    """A local Alpaca-compatible server: build it, ``start()`` it, point alpaca-py at it."""

    def __init__(self, config: SandboxConfig, now: Callable[[], datetime] = _utc_now) -> None:
        """Warm the market up and open the account; nothing listens until ``start()``."""
        if config.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox serves on the loopback interface only")
        self.config = config
        self.hours = MarketHours(config.hours)
        self.clock = SimClock(now, check_speed(config.speed))
        """The one simulated time (``now`` is the wall clock it runs from)."""
        self.feed = MarketFeed(
            config.symbols,
            config.interval,
            config.history,
            config.seed,
            config.spread_bps,
            self.clock.now(),
            config.minute_days,
        )
        self.dice = FaultDice(config.faults, config.seed)
        self.engine = MatchingEngine(
            self.feed,
            self.hours,
            self.dice,
            cash=config.cash,
            seed=config.seed,
            slippage_bps=config.slippage_bps,
            untradable=config.untradable,
            now=self.clock.now,
        )
        self.account_config: dict[str, Any] = {
            "dtbp_check": "entry",
            "trade_confirm_email": "all",
            "suspend_trade": False,
            "no_shorting": False,
            "fractional_trading": True,
            "max_margin_multiplier": "1",
            "max_options_trading_level": 0,
            "ptp_no_exception_entry": False,
            "disable_overnight_trading": False,
        }
        self.stale_reads = StaleReads(self.dice)
        """What single-order reads last answered (the ``stale_rest`` fault)."""
        self.streams = StreamHub(self)
        self.engine.listeners.append(self.streams.publish_trade)
        self.options = OptionsOrders(self.clock.now, self.streams.publish_update)
        """Multi-leg options orders placed from outside (``/admin/options_order``)."""
        self.outside = OutsidePositions()
        """Options and crypto held by hand (``/admin/outside_position``)."""
        self.bars_emitted = 0
        self._speed = config.speed
        self._step_lock = threading.Lock()
        self._pace_lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._http: SandboxServer | None = None
        self._threads: list[threading.Thread] = []

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Open the port (REST and streams) and start the pacer; returns self."""
        self._http = SandboxServer(self, self.config.host, self.config.port)
        self._http.start()
        pacer = threading.Thread(target=self._pace, name="sandbox-pacer", daemon=True)
        pacer.start()
        self._threads.append(pacer)
        return self

    def stop(self) -> None:
        """Stop everything; hanging requests and open streams are cut."""
        self._stopping.set()
        self._wake.set()
        if self._http is not None:
            self._http.stop()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> Sandbox:
        """Start on entering a ``with`` block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving it."""
        self.stop()

    # -- where to connect ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The one port: Trading API, Market Data API, /admin and both streams."""
        if self._http is None:
            raise RuntimeError("the sandbox is not started")
        return self._http.port

    @property
    def base_url(self) -> str:
        """The bare origin alpaca-py's ``url_override=`` takes (no ``/v2``, no trailing slash)."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def trading_stream_url(self) -> str:
        """The full websocket URL for ``TradingStream(url_override=...)``."""
        return f"ws://{self.config.host}:{self.port}{TRADING_PATH}"

    @property
    def data_stream_url(self) -> str:
        """The full websocket URL for ``StockDataStream(url_override=...)`` (the IEX feed)."""
        return f"ws://{self.config.host}:{self.port}{DATA_PATHS[0]}"

    # -- the market ----------------------------------------------------------------------------

    def step(self, bars: int = 1, shock: dict[str, float] | None = None) -> None:
        """Produce ``bars`` new bars now (``shock`` shifts levels, in percent, before the first)."""
        with self._step_lock:
            for i in range(bars):
                new = self.feed.advance(shock if i == 0 else None)
                self.bars_emitted += 1
                self.engine.on_bars()
                quotes = {s: self.feed.quote(s) for s in self.feed.symbols}
                self.streams.publish_market(new, quotes)

    @property
    def speed(self) -> float:
        """Simulated time per wall-clock time (0: the market moves only when stepped)."""
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Change the pace at run time (``ValueError`` beyond what ``check_speed`` allows)."""
        check_speed(speed)
        with self._pace_lock:
            self.clock.set_speed(speed)
            self._speed = speed
        self._wake.set()

    def _pace(self) -> None:
        """The pacer thread: each bar once the clock has passed its end, while the market is
        open (a closed market's bars are skipped; after a stall, at most a wall second's bars
        are produced at once and the rest skipped, never a race to catch up)."""
        step = self.feed.step
        while not self._stopping.is_set():
            self.engine.expire()
            speed = self._speed
            if speed <= 0:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            due = self.feed.market_time + step  # the end of the next bar
            wait = (due - self.clock.now()).total_seconds() / speed
            if self._wake.wait(max(wait, 0.0)):
                self._wake.clear()
                continue
            behind = int((self.clock.now() - self.feed.market_time) / step)
            most = max(1, int(speed / step.total_seconds()))
            if behind > most:
                self.feed.skip(behind - most)
            for _ in range(most):  # a wall second's bars at most, then the clock is read again
                if not self._pace_one(speed):
                    break

    def _pace_one(self, speed: float) -> bool:
        """Produce (or, the market closed, skip) the next bar if the clock has passed its end
        and the speed is still ``speed``; True if it did. Under the pace lock, so that once
        ``set_speed`` returns no paced bar is on its way."""
        with self._pace_lock:
            if self._speed != speed or self._stopping.is_set():
                return False
            start = self.feed.market_time
            if self.clock.now() < start + self.feed.step:
                return False
            if self.hours.is_open(start):
                self.step(1)
            else:
                self.feed.skip(1)
            return True

    # -- inspection ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What ``GET /admin/state`` answers: market, account, orders, faults, streams."""
        with self.engine.lock:
            totals = self.engine.ledger.totals(self.feed.prices(), self.engine.reserved())
            positions = {s: h.qty for s, h in sorted(self.engine.ledger.holdings.items())}
        orders = self.engine.orders()
        return {
            "market_time": iso(self.feed.market_time),
            "bars_emitted": self.bars_emitted,
            "speed": self._speed,
            "hours": self.hours.mode,
            "is_open": self.hours.is_open(self.engine.now()),
            "prices": self.feed.prices(),
            "account": {
                "cash": round(totals.cash, 2),
                "equity": round(totals.equity, 2),
                "buying_power": round(totals.buying_power, 2),
            },
            "positions": positions,
            "orders": {
                "total": len(orders),
                "open": sum(1 for o in orders if o.status in OPEN_STATUSES),
                "open_legs": sum(
                    1 for o in orders if o.status in OPEN_STATUSES and o.parent is not None
                ),
            },
            "faults": self.dice.settings.as_json(),
            "stream_clients": self.streams.client_count(),
            "hanging_requests": self._http.hanging if self._http else 0,
            "delayed_requests": self._http.delayed if self._http else 0,
            "trickling_answers": self._http.trickling if self._http else 0,
        }
