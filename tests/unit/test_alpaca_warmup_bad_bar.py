"""One bar no market makes in Alpaca's warm-up history is dropped and named; the start goes on.

Before, one such bar among hundreds refused the whole start: the desk placed no stop for the
positions it would have protected. Too many bad bars still refuse it: the rest is no market.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.core.domain import Bar
from tui_trader.market import MarketDataError
from tui_trader.market.alpaca import AlpacaMarketData

MINUTE = timedelta(minutes=1)
START = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)


def _bar(i: int, close: float = 100.0, symbol: str = "SPY", when: datetime | None = None) -> Bar:
    return Bar(symbol, when or START + i * MINUTE, close, close, close, close, 1_000.0)


def _market(answers: list[dict[str, list[Bar]]]) -> AlpacaMarketData:
    """The market data answering ``answers`` in turn, nothing seen yet."""
    from tui_trader.core.timeframes import parse_interval, parse_period

    market = object.__new__(AlpacaMarketData)
    market.symbols = ("SPY", "QQQ")
    market.interval = parse_interval("1m")
    market.period = parse_period("1d")
    market._last_seen = {}
    market._ahead = set()
    market.warmup_notes = []
    market._fetch = lambda start, what, symbols=None: answers.pop(0)  # type: ignore[method-assign]
    return market


def test_one_nan_close_in_the_warm_up_is_dropped_with_a_note_naming_it() -> None:
    spy = [_bar(i, 100.0 + i) for i in range(60)]
    spy[30] = _bar(30, float("nan"))
    qqq = [_bar(i, 50.0, "QQQ") for i in range(60)]
    market = _market([{"SPY": list(spy), "QQQ": qqq}])
    history = market.warmup()  # on main: MarketDataError, the start refused
    assert len(history["SPY"]) == 59 and spy[30] not in history["SPY"]
    assert history["QQQ"] == qqq
    (note,) = market.warmup_notes
    when = f"{spy[30].timestamp:%Y-%m-%d %H:%M}"
    assert f"dropped 1 bar(s) of the warm-up history no market makes: SPY at {when} UTC" in note
    assert "with a NaN, infinite or non-positive close" in note


def test_a_warm_up_bar_stamped_in_2199_is_dropped_and_not_refused_later() -> None:
    future = datetime(2199, 1, 1, 14, 30, tzinfo=UTC)
    spy = [_bar(i) for i in range(30)] + [_bar(0, when=future)]
    later = [_bar(30, 101.0), _bar(0, when=future)]
    market = _market([{"SPY": spy}, {"SPY": later}])
    history = market.warmup()
    assert history["SPY"] == spy[:30]
    assert "SPY at 2199-01-01 14:30 UTC stamped more than 366 days" in market.warmup_notes[0]
    assert market.next_bars() == {"SPY": _bar(30, 101.0)}  # said once, at the start


def test_a_warm_up_with_too_many_bad_bars_still_refuses_the_start() -> None:
    """One bar in five (``MAX_BAD_SHARE``: one in ten) is no market to learn from."""
    spy = [_bar(i, -5.0 if i % 5 == 0 else 100.0) for i in range(60)]
    market = _market([{"SPY": spy}])
    with pytest.raises(MarketDataError, match=r"history of SPY: 12 of its 60 bars .* too many"):
        market.warmup()
