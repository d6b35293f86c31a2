"""Plain value types shared by every part of the desk.

Money is a ``float`` everywhere inside the program and is rounded only where it leaves it (a
printed line, a table cell, a database row rounded to the cent). Times are timezone-aware UTC
``datetime`` objects. Nothing here imports a front end, an SDK or the store: these types are the
language the engine, the adapters and the front ends speak to each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class Side(StrEnum):
    """Which way an order or fill goes."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the sign of the position change."""
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    """The order types the desk sends."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"

    @property
    def is_stop(self) -> bool:
        """True for the types that wait for a trigger price (stop, stop-limit, trailing)."""
        return self in _STOP_TYPES


class TimeInForce(StrEnum):
    """How long an order stays working (Alpaca's names)."""

    DAY = "day"
    GTC = "gtc"


class OrderStatus(StrEnum):
    """An order's life, in Alpaca's vocabulary so that one set of words serves every broker."""

    PENDING_NEW = "pending_new"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    """Sent (or maybe sent) and not known to the broker yet: unsettled, looked up again."""
    NOT_RECEIVED = "not_received"
    """The broker never received it: still unknown past the settlement window, and absent on
    two more look-ups (see ``tui_trader.engine.settlement``)."""

    @property
    def is_open(self) -> bool:
        """True while the order may still fill."""
        return self in _OPEN_STATUSES

    @property
    def is_final(self) -> bool:
        """True once nothing more can happen to the order."""
        return self in _FINAL_STATUSES


_STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP})
_OPEN_STATUSES = frozenset({OrderStatus.PENDING_NEW, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})
_FINAL_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.NOT_RECEIVED,
    }
)


class TradingState(StrEnum):
    """The risk manager's gate: ACTIVE lets orders through, HALTED only lets exposure shrink."""

    ACTIVE = "active"
    HALTED = "halted"


@dataclass(frozen=True, slots=True)
class Bar:
    """One completed OHLCV bar of one symbol; ``timestamp`` is the bar's open time, UTC."""

    symbol: str
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the engine wants a broker to do, before the broker has seen it.

    ``client_order_id`` is deterministic (session, iteration, symbol, leg) so that after a lost
    answer the broker can be asked whether it already has the order. ``rationale`` is the
    human-readable why that the audit trail keeps with the order.
    """

    symbol: str
    side: Side
    qty: float
    client_order_id: str
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    rationale: str = ""
    stop_price: float | None = None
    """Trigger price of a stop or stop-limit order (a trailing stop's first trigger)."""
    trail_percent: float | None = None
    """A trailing stop's distance from the best price since it was placed, in percent."""

    def with_qty(self, qty: float, note: str) -> OrderRequest:
        """The same request with another quantity and the reason appended to its rationale."""
        rationale = f"{self.rationale}; {note}" if self.rationale else note
        return replace(self, qty=qty, rationale=rationale)


@dataclass(frozen=True, slots=True)
class Order:
    """A broker's view of an order at one moment."""

    client_order_id: str
    symbol: str
    side: Side
    qty: float
    order_type: OrderType
    status: OrderStatus
    limit_price: float | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    filled_qty: float = 0.0
    filled_avg_price: float | None = None
    broker_order_id: str | None = None
    submitted_at: datetime | None = None
    reject_reason: str | None = None
    stop_price: float | None = None
    """Trigger price (a trailing stop's current one)."""
    trail_percent: float | None = None

    @classmethod
    def from_request(cls, request: OrderRequest, status: OrderStatus, reason: str) -> Order:
        """The order as the desk asked for it, in ``status`` (refused, unknown) with a reason."""
        return cls(
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            qty=request.qty,
            order_type=request.order_type,
            status=status,
            limit_price=request.limit_price,
            time_in_force=request.time_in_force,
            reject_reason=reason,
            stop_price=request.stop_price,
            trail_percent=request.trail_percent,
        )

    @property
    def remaining_qty(self) -> float:
        """Quantity still working (zero once the order is final)."""
        return 0.0 if self.status.is_final else max(self.qty - self.filled_qty, 0.0)


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution: part or all of an order, with what it cost beyond the price."""

    client_order_id: str
    symbol: str
    side: Side
    qty: float
    price: float
    timestamp: datetime
    commission: float = 0.0
    slippage: float = 0.0
    """Dollar cost of slippage against the reference price (positive means it cost us)."""
    fill_id: str = ""


def fill_increment(
    order: Order,
    known_qty: float,
    known_notional: float,
    timestamp: datetime,
    reference_price: float | None = None,
) -> Fill | None:
    """The execution hidden in an order's cumulative fill since ``known_qty`` was recorded.

    Brokers report filled quantity and average price cumulatively; the new part's price is what
    the notional grew by. The fill id is the broker order id and the cumulative quantity, so the
    same state seen twice (a replayed event, a poll after the stream) is the same fill.
    """
    new_qty = order.filled_qty
    if new_qty <= known_qty + 1e-9 or order.filled_avg_price is None:
        return None
    qty = new_qty - known_qty
    price = (new_qty * order.filled_avg_price - known_notional) / qty
    slippage = (price - reference_price) * qty * order.side.sign if reference_price else 0.0
    return Fill(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        qty=qty,
        price=round(price, 6),
        timestamp=timestamp,
        slippage=round(slippage, 6),
        fill_id=f"{order.broker_order_id}:{new_qty:g}",
    )


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A change in an order's state reported by a broker, with the fill that caused it, if any."""

    order: Order
    fill: Fill | None = None
    event: str = ""
    """Alpaca's trade-update event name: new, fill, partial_fill, canceled, rejected, ..."""


@dataclass(frozen=True, slots=True)
class Position:
    """A holding: signed quantity (negative is short), average entry and last price."""

    symbol: str
    qty: float
    avg_entry_price: float
    last_price: float

    @property
    def market_value(self) -> float:
        """Signed value at the last price."""
        return self.qty * self.last_price

    @property
    def cost_basis(self) -> float:
        """Signed value at the average entry price."""
        return self.qty * self.avg_entry_price

    @property
    def unrealized_pnl(self) -> float:
        """Profit or loss if closed at the last price, before costs."""
        return self.market_value - self.cost_basis

    @property
    def unrealized_pnl_pct(self) -> float:
        """Unrealized PnL as a percentage of the cost basis."""
        basis = abs(self.cost_basis)
        return 100.0 * self.unrealized_pnl / basis if basis else 0.0


@dataclass(frozen=True, slots=True)
class Account:
    """Cash and equity as the broker reports them.

    ``last_equity`` is the equity at the previous session close when the broker knows it (Alpaca
    does); the daily-loss limit measures against it.
    """

    cash: float
    equity: float
    buying_power: float
    last_equity: float | None = None
    account_id: str = "local"
    trading_blocked: bool = False
    pattern_day_trader: bool | None = None
    daytrade_count: int | None = None


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """A risk control that tripped: what was measured, against which limit, and what was done."""

    event_type: str
    value: float
    limit: float
    action_taken: str
    symbol: str | None = None
    detail: str = ""


class Signal:
    """A strategy's wish for one symbol: target exposure in [-1, 1] and a one-line reason.

    Treat it as immutable. The reason may be given ready (``Signal(target, text)``) or as a
    recipe (``Signal.later``) that is only run when someone reads it: every strategy gives a
    reason for every bar of every symbol, and formatting them cost more than the decisions, yet
    only the few behind an order (or on screen) are ever read.
    """

    __slots__ = ("_args", "_make", "_text", "target")

    def __init__(self, target: float, reason: str = "") -> None:
        self.target = target
        self._text: str | None = reason
        self._make: Callable[..., str] | None = None
        self._args: tuple[Any, ...] = ()

    @classmethod
    def later(cls, target: float, make: Callable[..., str], *args: Any) -> Signal:
        """A signal whose reason is ``make(*args)``, built the first time it is read."""
        signal = cls.__new__(cls)
        signal.target = target
        signal._text = None
        signal._make = make
        signal._args = args
        return signal

    @property
    def reason(self) -> str:
        """The one-line reason (built now if it was given as a recipe)."""
        text = self._text
        if text is None:
            make, self._make = self._make, None
            text = self._text = make(*self._args) if make is not None else ""
            self._args = ()
        return text

    def __eq__(self, other: object) -> bool:
        """Equal target and reason."""
        if not isinstance(other, Signal):
            return NotImplemented
        return self.target == other.target and self.reason == other.reason

    def __hash__(self) -> int:
        """Hash of target and reason."""
        return hash((self.target, self.reason))

    def __repr__(self) -> str:
        """As the dataclass it replaced printed it."""
        return f"Signal(target={self.target!r}, reason={self.reason!r})"

    @staticmethod
    def warming(have: int, need: int) -> Signal:
        """A flat signal from a strategy still filling its windows: it has no opinion yet."""
        return Warming.later(0.0, _WARMING_UP.format, have, need)


_WARMING_UP = "warming up ({}/{} bars)"


class Warming(Signal):
    """The signal of a strategy that is still warming up (``Signal.warming``).

    Allocators leave it out of the blend and share its weight among the strategies that have an
    opinion, so a slow strategy (200 bars for ``longtrend``) does not hold a session flat while
    it fills its windows."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class IterationReport:
    """What one decision cycle did, for the CLI line, the dashboard and the tests."""

    iteration: int
    market_time: datetime
    cash: float
    equity: float
    buying_power: float
    fills: int
    orders_sent: int
    orders_refused: int
    state: TradingState
    drawdown_pct: float
    daily_pnl: float
    positions: tuple[Position, ...] = ()
    prices: dict[str, float] = field(default_factory=dict)
    risk_events: tuple[RiskEvent, ...] = ()
    notes: tuple[str, ...] = ()
    """Plain-words remarks about the cycle (market closed, stream down, ...)."""
    orders: tuple[Order, ...] = ()
    """Orders sent or changed in this cycle, as the broker acknowledged them."""
    new_fills: tuple[Fill, ...] = ()
    """Executions recorded in this cycle."""
    orders_today: int = 0
    """Orders counted against the daily rate limit so far."""
    realized_pnl: float = 0.0
    """Closed-trade PnL of the session so far, net of commission."""
    realized_by_symbol: dict[str, float] = field(default_factory=dict)
    """The same per symbol (empty where the front end cannot know it)."""
    regimes: dict[str, str] = field(default_factory=dict)
    """The learning system's regime call per symbol (empty without it)."""
    weights: dict[str, float] = field(default_factory=dict)
    """The weight of each strategy behind the latest targets (empty without learning)."""

    def line(self) -> str:
        """The Phase 4 one-line summary: ``iter=2 cash=99,950.00 equity=100,150.00 fills=1``."""
        return (
            f"iter={self.iteration} cash={self.cash:,.2f} "
            f"equity={self.equity:,.2f} fills={self.fills}"
        )
