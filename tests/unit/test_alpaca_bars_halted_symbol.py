"""A symbol with no new bar (halted, or thinly traded on IEX) must not make every later cycle
fetch the whole day again.

Each cycle asks Alpaca for the bars since the least recent symbol's last one. With one symbol
halted at 10:00 and the others trading, every cycle's request reached back to 10:00 for all the
symbols: by the close a one-minute desk of 20 symbols fetched ~7,800 bars (a page is 10,000) a
minute to use 20 of them, and a symbol halted since the warm-up dragged days of bars into each
cycle. A cycle only hands on each symbol's newest bar, so the request now reaches at most
``LAG_BARS`` bars behind the freshest symbol's last bar. Work is counted in bars fetched, not
timed.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import parse_interval
from tui_trader.market.alpaca import LAG_BARS, AlpacaMarketData

MINUTE = timedelta(minutes=1)
OPEN = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)
FIRST = OPEN - 10 * MINUTE
"""The tape's first bar."""
SYMBOLS = ("SPY", "QQQ", "HALT")


class Tape:
    """The market as Alpaca's bars endpoint answers it: every bar stamped at or after a
    request's start, of each symbol; HALT prints none while halted."""

    def __init__(self) -> None:
        self.now = OPEN
        self.halted = True
        self.fetched: list[int] = []
        """Bars answered per request."""
        self.starts: list[datetime] = []

    def bars(self, start: datetime, what: str) -> dict[str, list[Bar]]:
        answer = {}
        for symbol in SYMBOLS:
            if symbol == "HALT" and self.halted:
                answer[symbol] = []
                continue
            # on the minute grid from 10 minutes before the open to now, from the start on
            skip = max(math.ceil((start - FIRST) / MINUTE), 0)
            stamps = (FIRST + i * MINUTE for i in range(skip, int((self.now - FIRST) / MINUTE) + 1))
            answer[symbol] = [Bar(symbol, t, 100.0, 100.0, 100.0, 100.0, 1_000.0) for t in stamps]
        self.starts.append(start)
        self.fetched.append(sum(len(series) for series in answer.values()))
        return answer


def _market(tape: Tape, seen: dict[str, datetime]) -> AlpacaMarketData:
    """The market data of ``SYMBOLS`` on one-minute bars, each last seen at ``seen``."""
    market = object.__new__(AlpacaMarketData)
    market.symbols = SYMBOLS
    market.interval = parse_interval("1m")
    market._last_seen = dict(seen)
    market._ahead = set()
    market._fetch = tape.bars  # type: ignore[method-assign]
    return market


def test_a_symbol_halted_at_the_open_does_not_grow_each_cycles_request() -> None:
    tape = Tape()
    market = _market(tape, {s: OPEN - MINUTE for s in SYMBOLS})
    for _ in range(390):  # a trading day of one-minute cycles
        fresh = market.next_bars()
        assert set(fresh) == {"SPY", "QQQ"}
        tape.now += MINUTE
    # The request reaches LAG_BARS bars back at most (+1 for the bar at the start itself).
    assert max(tape.fetched[LAG_BARS + 5 :]) <= 2 * (LAG_BARS + 1)
    assert tape.fetched[-1] <= 2 * (LAG_BARS + 1)  # on main: 780 (SPY and QQQ since the open)


def test_a_symbol_halted_since_the_warm_up_does_not_drag_days_into_each_cycle() -> None:
    tape = Tape()
    seen = {"SPY": OPEN - MINUTE, "QQQ": OPEN - MINUTE, "HALT": OPEN - timedelta(days=3)}
    market = _market(tape, seen)
    market.next_bars()
    assert tape.starts[0] >= OPEN - (LAG_BARS + 1) * MINUTE  # on main: three days back


def test_the_halted_symbol_trades_on_its_first_bar_back() -> None:
    tape = Tape()
    market = _market(tape, {s: OPEN - MINUTE for s in SYMBOLS})
    for _ in range(120):
        market.next_bars()
        tape.now += MINUTE
    tape.halted = False
    fresh = market.next_bars()
    assert fresh["HALT"].timestamp == tape.now
    assert fresh["SPY"].timestamp == tape.now


def test_a_desk_back_from_sleep_still_fetches_from_its_last_bar() -> None:
    """Every symbol two hours behind: the request starts right after their last bar, as
    before (the spread between symbols is what is bounded, not the gap)."""
    tape = Tape()
    tape.halted = False
    tape.now = OPEN + timedelta(hours=2)
    market = _market(tape, {s: OPEN for s in SYMBOLS})
    fresh = market.next_bars()
    assert tape.starts == [OPEN + timedelta(microseconds=1)]
    assert {s: b.timestamp for s, b in fresh.items()} == {s: tape.now for s in SYMBOLS}
