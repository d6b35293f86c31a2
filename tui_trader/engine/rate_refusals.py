"""The daily order limit's refusals, said once per symbol per session day and then counted.

Once the account's orders for the day reach ``--max-orders-per-day``, every later cycle would
refuse every symbol that wants to trade, each with its own risk event, all day long: a benchmark
run recorded 39,144 such events, and the desk's risk log and the history filled with one line.
So a session records the first refusal of a symbol on a session day as before (saying that more
will follow without another event), counts the later ones, and when the session day changes, or
the session ends, records one event per symbol with how many more it refused. The cycle's notes
still say, every cycle, that orders are being refused.

The memory is the session's own: the limit is one count for the account (every session on it
refuses once it is reached), and each session says and counts its own refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from tui_trader.core.domain import RiskEvent
from tui_trader.risk.gate import ORDER_RATE


class RateRefusals:
    """One session's memory of the day's order-limit refusals: who was told, how many since."""

    __slots__ = ("_counts", "_day", "_limit", "_orders", "_unsaid", "cycle")

    def __init__(self) -> None:
        self._day: date | None = None
        """The session day the memory is about."""
        self._counts: dict[str, int] = {}
        """Refusals since the first (which was recorded), per symbol told on ``_day``."""
        self._orders = 0.0
        """The day's order count as the last refusal measured it."""
        self._limit = 0.0
        """The limit it was held against."""
        self._unsaid: list[RiskEvent] = []
        """Summaries of a day that ended between two ``roll`` calls (said at the next)."""
        self.cycle: list[str] = []
        """Symbols refused without an event in the current cycle (its note)."""

    def refuse(self, event: RiskEvent, day: date | None) -> RiskEvent | None:
        """The event to record for an order-limit refusal on session day ``day``: the first of
        its symbol that day (saying that later ones are counted), else ``None`` (counted)."""
        symbol = event.symbol or ""
        counts = self._counts
        if day != self._day:
            if counts:  # a day that ended without ``roll``: its summaries go out at the next
                self._unsaid += _summaries(*self._take())
            self._day = day
        elif self.count_again(symbol, day, event.value):
            return None
        self._orders, self._limit = event.value, event.limit
        self._counts[symbol] = 0  # (a new dict if the old day's was summed just now)
        return replace(
            event,
            action_taken=f"{event.action_taken}; further orders for {symbol} are refused until "
            "the next session day, counted without another event",
        )

    def count_again(self, symbol: str, day: date | None, orders: float) -> bool:
        """Count a refusal of ``symbol`` on session day ``day``, with the day's order count
        ``orders``, if one was recorded for it that day already (then True: no event is due);
        else False and nothing changes. The rebalance calls it for an order the day's limit
        refuses again before building the order or its event (~4 us each, ~0.3 per symbol-bar
        in a 100-symbol replay once the day's 100 orders are sent)."""
        counts = self._counts
        if day != self._day or symbol not in counts:
            return False
        counts[symbol] += 1
        self._orders = orders
        self.cycle.append(symbol)
        return True

    def roll(self, day: date | None) -> list[RiskEvent]:
        """Once a cycle, on session day ``day``: the summaries of a day that has ended (the
        memory then starts afresh); nothing while the day is the same."""
        later = self.roll_later(day)
        return later() if later is not None else []

    def roll_later(self, day: date | None) -> Callable[[], list[RiskEvent]] | None:
        """``roll``, with the summaries' text left for later: the memory starts afresh now
        (the cycle's refusals are counted on the new day), and what is returned builds the
        events when called. The session calls it once the cycle's orders have gone out: a
        day's first cycle, the one that sends the orders held back at the limit, would
        otherwise word one event per symbol refused the day before (~0.1 ms at 50 symbols)
        between its bars and its first order. ``None`` when there is nothing to say."""
        unsaid, self._unsaid = self._unsaid, []
        ended = self._take() if self._counts and day != self._day else None
        if ended is None:
            return (lambda: unsaid) if unsaid else None
        return lambda: unsaid + _summaries(*ended)

    def close(self) -> list[RiskEvent]:
        """At the session's end: the summaries of the day it ends on (and any unsaid)."""
        unsaid, self._unsaid = self._unsaid, []
        return unsaid + _summaries(*self._take())

    def _take(self) -> tuple[dict[str, int], float, float, date | None]:
        """The remembered day's counts and what they were measured against; the memory is
        then empty."""
        ended = (self._counts, self._orders, self._limit, self._day)
        self._counts = {}
        self._day = None
        return ended

    def note(self) -> str | None:
        """The cycle's note when it refused orders without an event (then forgets them)."""
        if not self.cycle:
            return None
        symbols = ", ".join(sorted(set(self.cycle)))
        count = len(self.cycle)
        self.cycle = []
        return (
            f"daily order limit reached ({self._orders:.0f} orders today on this account): "
            f"{count} order{'s' if count > 1 else ''} refused ({symbols}), counted in the "
            "risk log at the day's end"
        )


def _summaries(
    counts: dict[str, int], orders: float, limit: float, day: date | None
) -> list[RiskEvent]:
    """One event per symbol refused more than once on ``day`` (how many more), in symbol
    order."""
    return [
        RiskEvent(
            ORDER_RATE,
            orders,
            limit,
            f"{count} more order{'s' if count > 1 else ''} for {symbol} refused by this "
            f"session on {day} by the daily order limit",
            symbol=symbol,
        )
        for symbol, count in sorted(counts.items())
        if count
    ]
