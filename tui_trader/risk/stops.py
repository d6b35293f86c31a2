"""Protective stops: the rule that prices them and the measure (average true range) it may use.

``--stop-loss 5`` puts a position's stop 5% below its average entry (above it for a short);
``--stop-loss atr:2`` puts it two average true ranges of the session's bars away. The stop is an
order held at the broker, so it protects the position while no desk is running
(``engine/protective_stops.py`` places and keeps it). Pure values and arithmetic: no broker here;
the typed values are read by the command line's number rules (``cli/numbers.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui_trader.core.domain import Bar
from tui_trader.core.orders import OrderType

PROTECTIVE_LEG = "ps"
"""The last part of a protective exit's client order id is ``ps`` and a number (a stop, a
take-profit limit, or the OCO pair of both)."""
_PROTECTIVE_ID = re.compile(r"^tt-.+-ps\d+$")
ATR_BARS = 14
"""Wilder's usual window for the average true range."""
MAX_ATRS = 20.0
"""The farthest ``atr:N`` stop: twenty average true ranges (farther protects nothing)."""
MAX_TAKE_PROFIT = 1000.0
"""The highest take-profit, in percent above entry (below, for a short)."""


@dataclass(frozen=True, slots=True)
class StopRule:
    """How far below entry (above, for a short) a protective stop sits: ``pct`` percent of the
    entry price, or ``atr`` times the average true range."""

    pct: float | None = None
    atr: float | None = None

    def distance(self, entry: float, atr: float | None) -> float | None:
        """The stop's distance from ``entry`` in dollars (``None``: no ATR measured yet)."""
        if self.pct is not None:
            return entry * self.pct / 100.0
        if atr is None or self.atr is None:
            return None
        return atr * self.atr

    @property
    def text(self) -> str:
        """The rule as the user typed it: ``5`` or ``atr:2``."""
        return f"{self.pct:g}" if self.pct is not None else f"atr:{self.atr:g}"

    def why(self, entry: float, atr: float | None, long: bool) -> str:
        """The rationale's words: ``5% below entry 101.20`` or ``2 ATR (1.35) below ...``."""
        where = "below" if long else "above"
        if self.pct is not None:
            return f"{self.pct:g}% {where} entry {entry:,.2f}"
        return f"{self.atr:g} ATR ({atr or 0.0:,.2f}) {where} entry {entry:,.2f}"


def stop_price(entry: float, distance: float, long: bool) -> float:
    """The stop's price, rounded as Alpaca wants it (cents from $1, else 4 decimals)."""
    price = entry - distance if long else entry + distance
    return _tick(price)


def take_profit_price(entry: float, pct: float, long: bool) -> float:
    """The take-profit limit: ``pct`` percent above entry (below, for a short), in Alpaca's
    ticks."""
    return _tick(entry * (1 + pct / 100.0) if long else entry * (1 - pct / 100.0))


def _tick(price: float) -> float:
    """Cents from $1, else 4 decimals (Alpaca refuses finer prices)."""
    return round(price, 2) if price >= 1 else round(price, 4)


def is_protective(client_order_id: str, order_type: OrderType) -> bool:
    """Whether an order is one of the desk's protective exits (by its id and type): a stop, a
    take-profit limit or their OCO pair; not the market order that closes a position whose
    stop the price already passed."""
    return order_type is not OrderType.MARKET and _PROTECTIVE_ID.match(client_order_id) is not None


class TrueRange:
    """Wilder's average true range of one symbol's bars, fed bar by bar."""

    __slots__ = ("_prev_close", "_seen", "value")

    def __init__(self) -> None:
        self._prev_close: float | None = None
        self._seen = 0
        self.value: float | None = None
        """The current average, ``None`` before the first bar."""

    def add(self, bar: Bar) -> None:
        """Take one bar: the mean of the first ``ATR_BARS`` true ranges, then Wilder's smoothing."""
        prev = self._prev_close
        high, low = bar.high, bar.low
        tr = high - low if prev is None else max(high, prev) - min(low, prev)
        self._prev_close = bar.close
        self._seen += 1
        n = min(self._seen, ATR_BARS)
        self.value = tr if self.value is None else self.value + (tr - self.value) / n
