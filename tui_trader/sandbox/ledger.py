"""The sandbox account's books: cash, holdings, fills and the equity curve.

The account is a simple margin account with a multiplier of 1: buying power is equity less the
gross value of the positions and of what open orders reserve, so long and short positions both
use it up. ``last_equity`` is the equity at the previous New York day's last bar, as Alpaca
reports it, less cash moved in after 16:00 the weekday before (``Ledger.mark``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from tui_trader.core.timeframes import NEW_YORK

if TYPE_CHECKING:
    from tui_trader.sandbox.cash_moves import CashMove

EQUITY_POINTS_KEPT = 50_000
"""Equity-curve points kept for the portfolio history endpoint."""


@dataclass(slots=True)
class Holding:
    """One position: signed quantity, average entry price, and the New York day it was opened."""

    qty: float
    avg_entry_price: float
    opened_day: date


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill as the account activities endpoint reports it."""

    id: str
    order_id: str
    symbol: str
    side: str
    qty: float
    price: float
    time: datetime
    kind: str
    """``fill`` or ``partial_fill``."""
    cum_qty: float
    leaves_qty: float
    order_status: str


@dataclass(frozen=True, slots=True)
class Totals:
    """The account's money at one moment, valued at given prices."""

    cash: float
    equity: float
    long_market_value: float
    short_market_value: float
    buying_power: float
    last_equity: float


def close_before(day: date) -> datetime:
    """16:00 New York on the weekday before ``day``."""
    before = day - timedelta(days=1)
    while before.weekday() >= 5:
        before -= timedelta(days=1)
    return datetime.combine(before, time(16), NEW_YORK)


class Ledger:
    """Cash, holdings and history of one account (not thread-safe: the engine holds its lock)."""

    def __init__(self, cash: float, start: datetime) -> None:
        """Open the books with ``cash`` at ``start``."""
        self.cash = cash
        self.initial_cash = cash
        self.holdings: dict[str, Holding] = {}
        self.executions: list[Execution] = []
        self.cash_moves: list[CashMove] = []
        """Deposits, withdrawals and cash journals (``sandbox.cash_moves``), oldest first."""
        self.equity_curve: deque[tuple[datetime, float]] = deque(maxlen=EQUITY_POINTS_KEPT)
        self.equity_curve.append((start, cash))
        self.last_equity = cash
        self._day = start.astimezone(NEW_YORK).date()

    def apply_fill(self, symbol: str, side: str, qty: float, price: float, now: datetime) -> float:
        """Book a fill: move cash and the position; returns the position's new signed quantity."""
        sign = 1.0 if side == "buy" else -1.0
        self.cash -= sign * qty * price
        held = self.holdings.get(symbol)
        day = now.astimezone(NEW_YORK).date()
        if held is None or held.qty == 0:
            self.holdings[symbol] = Holding(sign * qty, price, day)
            return sign * qty
        new_qty = held.qty + sign * qty
        if abs(new_qty) < 1e-9:
            del self.holdings[symbol]
            return 0.0
        if held.qty * sign > 0:  # adding to the position
            held.avg_entry_price = (abs(held.qty) * held.avg_entry_price + qty * price) / abs(
                new_qty
            )
        elif held.qty * new_qty < 0:  # flipped through zero: the rest is a new position
            held.avg_entry_price = price
            held.opened_day = day
        held.qty = round(new_qty, 9)
        return held.qty

    def totals(self, prices: dict[str, float], reserved: float) -> Totals:
        """Cash, equity, market values and buying power at ``prices``, less ``reserved``."""
        long_mv = sum(h.qty * prices[s] for s, h in self.holdings.items() if h.qty > 0)
        short_mv = sum(h.qty * prices[s] for s, h in self.holdings.items() if h.qty < 0)
        equity = self.cash + long_mv + short_mv
        buying_power = max(equity - long_mv + short_mv - reserved, 0.0)
        return Totals(self.cash, equity, long_mv, short_mv, buying_power, self.last_equity)

    def mark(self, stamp: datetime, prices: dict[str, float]) -> None:
        """Record the equity at ``stamp``; a new New York day first moves ``last_equity``: the
        last equity recorded, less the cash moved in since 16:00 on the weekday before (Alpaca
        takes it "as of previous trading day at 16:00:00 ET": a desk counts a deposit made
        after that as the new day's, ``brokers.alpaca_cash``)."""
        day = stamp.astimezone(NEW_YORK).date()
        if day != self._day:
            cutoff, (last, equity) = close_before(day), self.equity_curve[-1]
            late = sum(m.amount for m in self.cash_moves if cutoff < m.time <= last)
            self.last_equity = equity - late
            self._day = day
        self.equity_curve.append((stamp, self.totals(prices, 0.0).equity))
