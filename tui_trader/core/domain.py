"""Market and account values shared by every part of the desk.

Money is a ``float`` everywhere inside the program and is rounded only where it leaves it (a
printed line, a table cell, a database row rounded to the cent). Times are timezone-aware UTC
``datetime`` objects. Nothing here imports a front end, an SDK or the store: these types are the
language the engine, the adapters and the front ends speak to each other. Bars, positions,
the account, risk events, strategy signals and the per-cycle report live here; orders, fills and
their updates live in ``tui_trader.core.orders``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from tui_trader.core.orders import Fill, Order

_new = object.__new__


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
class Position:
    """A holding: signed quantity (negative is short), average entry and last price."""

    symbol: str
    qty: float
    avg_entry_price: float
    last_price: float
    multiplier: float = 1.0
    """What one unit of ``qty`` holds at the prices: 100 for an option contract (its prices
    are per share), 1 for a share or a coin. A hand option on an Alpaca account the desk
    trades showed a hundredth of its worth without it (2 contracts at $4.10: $8.20, not $820)."""

    @property
    def market_value(self) -> float:
        """Signed value at the last price."""
        return self.qty * self.last_price * self.multiplier

    @property
    def cost_basis(self) -> float:
        """Signed value at the average entry price."""
        return self.qty * self.avg_entry_price * self.multiplier

    @property
    def unrealized_pnl(self) -> float:
        """Profit or loss if closed at the last price, before costs."""
        return self.market_value - self.cost_basis

    @property
    def unrealized_pnl_pct(self) -> float:
        """Unrealized PnL as a percentage of the cost basis."""
        basis = abs(self.cost_basis)
        return 100.0 * self.unrealized_pnl / basis if basis else 0.0


_SET_SYMBOL, _SET_QTY, _SET_ENTRY, _SET_LAST, _SET_MULTIPLIER = (
    Position.__dict__[f.name].__set__ for f in fields(Position)
)


def marked(held: Position, price: float) -> Position:
    """``Position(held.symbol, held.qty, held.avg_entry_price, price)``: a holding marked at a
    new price, built slot by slot. The paper broker marks every held symbol at every bar (about
    fifty a bar time in a 100-symbol replay), and the frozen dataclass's ``__init__`` goes
    through ``object.__setattr__`` field by field, at over twice the cost. A ``Position`` that
    stops being slotted fails at import, not silently."""
    position = _new(Position)
    _SET_SYMBOL(position, held.symbol)
    _SET_QTY(position, held.qty)
    _SET_ENTRY(position, held.avg_entry_price)
    _SET_LAST(position, price)
    _SET_MULTIPLIER(position, held.multiplier)
    return position


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


_ACCOUNT_SETTERS = tuple(Account.__dict__[f.name].__set__ for f in fields(Account))
_ACCOUNT_DEFAULTS = tuple(f.default for f in fields(Account))[3:]
(
    _SET_CASH,
    _SET_EQUITY,
    _SET_BUYING_POWER,
    _SET_LAST_EQUITY,
    _SET_ACCOUNT_ID,
    _SET_BLOCKED,
    _SET_PDT,
    _SET_DAYTRADES,
) = _ACCOUNT_SETTERS
(
    _LAST_EQUITY,
    _ACCOUNT_ID,
    _BLOCKED,
    _PDT,
    _DAYTRADES,
) = _ACCOUNT_DEFAULTS


def local_account(cash: float, equity: float, buying_power: float) -> Account:
    """``Account(cash, equity, buying_power)``, every other field at its default, built slot by
    slot. The paper account builds one every cycle its equity moves (every bar a position is
    held), and the frozen dataclass's ``__init__`` sets its eight fields through
    ``object.__setattr__`` at about twice the cost. An ``Account`` with another number of fields
    fails at import (the unpacking above), not silently."""
    account = _new(Account)
    _SET_CASH(account, cash)
    _SET_EQUITY(account, equity)
    _SET_BUYING_POWER(account, buying_power)
    _SET_LAST_EQUITY(account, _LAST_EQUITY)
    _SET_ACCOUNT_ID(account, _ACCOUNT_ID)
    _SET_BLOCKED(account, _BLOCKED)
    _SET_PDT(account, _PDT)
    _SET_DAYTRADES(account, _DAYTRADES)
    return account


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """A risk control that tripped: what was measured, against which limit, and what was done."""

    event_type: str
    value: float
    limit: float
    action_taken: str
    symbol: str | None = None
    detail: str = ""

    @property
    def halts(self) -> bool:
        """Did it halt trading (``RiskManager.halt``'s action, "halted trading until ...")?
        Such an event stops the session, is notified and, on a broker, is written durably."""
        return self.action_taken.startswith("halted")


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
        signal = _new(cls)  # object.__new__, looked up once: several signals a symbol-bar
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
    not_desks: dict[str, float] = field(default_factory=dict)
    """Held symbols left alone after a change made outside the session: the shares of the
    broker's position (and of its P&L) that this desk's fills do not account for."""
    regimes: dict[str, str] = field(default_factory=dict)
    """The learning system's regime call per symbol (empty without it)."""
    weights: dict[str, float] = field(default_factory=dict)
    """The weight of each strategy behind the latest targets (empty without learning)."""
    exposure: float = 1.0
    """The share of the learning blend's targets traded now: 1 at full exposure (and without
    learning), less as the drawdown nears its limit. Near the limit every target can round to
    no share at all, so an ACTIVE session trades nothing: the desk says why."""
    exposure_note: str = ""
    """The same in words (``drawdown 4.8% of 5.0%: exposure x0.06``); empty at full exposure."""
    halt: str = ""
    """Why trading is halted, ``reason: detail`` of the account's halt as it stands (the first
    halt's, not the last halting event's); empty while trading."""

    def line(self) -> str:
        """The Phase 4 one-line summary: ``iter=2 cash=99,950.00 equity=100,150.00 fills=1``."""
        return (
            f"iter={self.iteration} cash={self.cash:,.2f} "
            f"equity={self.equity:,.2f} fills={self.fills}"
        )
