"""Alpaca bars stamped far ahead: a year past both the clock and the bar before them is refused,
once; either alone is a real bar (a fast sandbox's, a symbol back from a long halt)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import parse_interval
from tui_trader.market import MarketDataError
from tui_trader.market.alpaca import AlpacaMarketData

MINUTE = timedelta(minutes=1)


def _bar(when: datetime, close: float = 100.0) -> Bar:
    return Bar("SPY", when, close, close, close, close, 1_000.0)


def _market(answers: list[list[Bar]], seen: datetime) -> AlpacaMarketData:
    """The market data with SPY last seen at ``seen``, answering ``answers`` in turn."""
    market = object.__new__(AlpacaMarketData)
    market.symbols = ("SPY",)
    market.interval = parse_interval("1m")
    market._last_seen = {"SPY": seen}
    market._ahead = set()
    market._fetch = lambda start, what: {"SPY": answers.pop(0)}  # type: ignore[method-assign]
    return market


def test_a_bar_in_2199_is_refused_once_and_the_later_bars_are_new() -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    future = datetime(2199, 1, 1, 14, 30, tzinfo=UTC)
    market = _market(
        [[_bar(now), _bar(future)], [_bar(now + MINUTE, 101), _bar(future)]], now - MINUTE
    )
    with pytest.raises(MarketDataError, match="SPY at 2199-01-01 14:30 UTC stamped more than"):
        market.next_bars()
    assert market.next_bars() == {"SPY": _bar(now + MINUTE, 101)}  # on main: {}


def test_a_fast_sandboxs_bars_years_past_the_clock_are_taken() -> None:
    """At ``--speed 100000`` the sandbox's time is a year past the wall clock in minutes."""
    far = datetime.now(UTC).replace(microsecond=0) + timedelta(days=800)
    market = _market([[_bar(far), _bar(far + MINUTE, 102)]], far - MINUTE)
    assert market.next_bars() == {"SPY": _bar(far + MINUTE, 102)}


def test_a_symbol_back_from_a_two_year_halt_trades() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    market = _market([[_bar(now, 3.0)]], now - timedelta(days=730))
    assert market.next_bars() == {"SPY": _bar(now, 3.0)}
