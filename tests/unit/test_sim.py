"""The simulated market: deterministic, realistic bars for any interval, with regimes."""

from datetime import date, datetime, time, timedelta
from itertools import pairwise

import pytest

from tui_trader.core.timeframes import NEW_YORK, parse_interval, parse_period
from tui_trader.market.sim import SimMarket
from tui_trader.market.sim_days import SIM_CALENDAR_END


def _closes(seed: int, n: int = 50) -> list[tuple[str, float]]:
    market = SimMarket(seed=seed, interval=parse_interval("1d"), period=parse_period("5d"))
    market.warmup()
    return [(b.symbol, b.close) for _ in range(n) for b in market.next_bars().values()]


def test_same_seed_same_bars_other_seed_other_bars() -> None:
    """A seed fixes the market; another seed gives another market."""
    assert _closes(11) == _closes(11)
    assert _closes(11) != _closes(12)


@pytest.mark.parametrize("interval", ["1m", "5m", "1h", "1d"])
def test_bars_are_valid_ohlcv_in_market_hours(interval: str) -> None:
    """High and low bracket open and close, volume is positive, bars sit in 09:30-16:00 NY."""
    market = SimMarket(interval=parse_interval(interval), period=parse_period("2d"), seed=3)
    history = market.warmup()
    bars = [b for series in history.values() for b in series]
    bars += [b for _ in range(200) for b in market.next_bars().values()]
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.low > 0 and bar.volume > 0
        local = bar.timestamp.astimezone(NEW_YORK)
        assert local.weekday() < 5
        minutes = local.hour * 60 + local.minute
        assert 9 * 60 + 30 <= minutes < 16 * 60


def test_warmup_holds_the_period_and_timestamps_advance() -> None:
    """60d of 1d bars is 60 bars per symbol, strictly increasing in time."""
    market = SimMarket(interval=parse_interval("1d"), period=parse_period("60d"))
    history = market.warmup()
    assert {len(v) for v in history.values()} == {60}
    stamps = [b.timestamp for b in history["SPY"]]
    assert all(b - a >= timedelta(days=1) for a, b in pairwise(stamps))
    assert next(iter(market.next_bars().values())).timestamp > stamps[-1]


def test_symbols_move_together() -> None:
    """SPY and QQQ follow one market factor: their daily returns are clearly correlated."""
    market = SimMarket(interval=parse_interval("1d"), period=parse_period("5d"), seed=5)
    market.warmup()
    prev = market.next_bars()
    xs, ys = [], []
    for _ in range(250):
        bars = market.next_bars()
        xs.append(bars["SPY"].close / prev["SPY"].close - 1)
        ys.append(bars["QQQ"].close / prev["QQQ"].close - 1)
        prev = bars
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    var_x = sum((x - mx) ** 2 for x in xs)
    var_y = sum((y - my) ** 2 for y in ys)
    assert cov / (var_x * var_y) ** 0.5 > 0.7


def test_a_staged_crash_falls_hard() -> None:
    """A scripted crash regime takes the index down by well over 10% in 20 days."""
    market = SimMarket(
        interval=parse_interval("1d"),
        period=parse_period("5d"),
        seed=1,
        schedule=[("bull", 5), ("crash", 20)],
    )
    market.warmup()
    start = None
    for _ in range(20):
        bars = market.next_bars()
        start = start or bars["SPY"].open
        assert market.regime.name == "crash"
    assert bars["SPY"].close < 0.9 * start


def test_regimes_switch_over_time() -> None:
    """Left alone, the market visits more than one regime in two years."""
    market = SimMarket(interval=parse_interval("1d"), period=parse_period("5d"), seed=2)
    market.warmup()
    seen = set()
    for _ in range(504):
        market.next_bars()
        seen.add(market.regime.name)
    assert len(seen) >= 2


def test_unknown_regime_in_schedule_is_refused() -> None:
    """A typo in a staged schedule fails loudly."""
    with pytest.raises(ValueError, match="regime"):
        SimMarket(schedule=[("boom", 3)])


def _ny_days(market: SimMarket, bars: int) -> dict[date, list[datetime]]:
    """The New York bar times of SPY per day: the warm-up and ``bars`` more."""
    series = market.warmup()["SPY"] + [market.next_bars()["SPY"] for _ in range(bars)]
    days: dict[date, list[datetime]] = {}
    for bar in series:
        local = bar.timestamp.astimezone(NEW_YORK)
        days.setdefault(local.date(), []).append(local)
    return days


def test_thanksgiving_has_no_bars_and_the_early_close_ends_the_friday() -> None:
    """A minute-bar market across Thanksgiving 2026 trades Wednesday, not Thursday (a
    holiday), stops at 13:00 on Friday (an early close) and trades all of Monday."""
    market = SimMarket(("SPY",), parse_interval("1m"), parse_period("1d"), start=date(2026, 11, 25))
    days = _ny_days(market, 2 * 390)
    assert list(days)[:4] == [
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 11, 30),
        date(2026, 12, 1),
    ]
    friday = days[date(2026, 11, 27)]
    assert len(friday) == 210
    assert friday[-1].time() == time(12, 59)
    assert len(days[date(2026, 11, 30)]) == 390
    assert days[date(2026, 11, 30)][-1].time() == time(15, 59)


def test_hourly_and_daily_bars_follow_the_exchange_days() -> None:
    """Hourly bars stop with the early close (12:30 is the last); daily bars skip Good Friday
    and the holidays of a simulated year: 2024 has 252 trading days, not 262 weekdays."""
    hourly = SimMarket(("SPY",), parse_interval("1h"), parse_period("1d"), start=date(2026, 11, 27))
    friday = _ny_days(hourly, 7)[date(2026, 11, 27)]
    assert [t.strftime("%H:%M") for t in friday] == ["09:30", "10:30", "11:30", "12:30"]
    daily = SimMarket(("SPY",), parse_interval("1d"), parse_period("1d"), start=date(2024, 1, 1))
    days = [d for d in _ny_days(daily, 300) if d.year == 2024]
    assert days[0] == date(2024, 1, 2)  # New Year's Day is a holiday
    assert date(2024, 3, 29) not in days  # Good Friday
    assert date(2024, 12, 25) not in days
    assert len(days) == 252


def test_days_outside_the_calendar_are_weekdays_and_said_once() -> None:
    """Past the calendar the simulated market follows (a fixed horizon, so a seed's bars do
    not depend on the date it runs), and before its first day, the days are plain weekdays
    and the market says so once; it does not fail."""
    notes: list[str] = []
    late = SimMarket(
        ("SPY",),
        parse_interval("1d"),
        parse_period("1d"),
        start=date(2035, 11, 19),
        report=notes.append,
    )
    days = list(_ny_days(late, 60))
    assert date(2035, 11, 22) not in days  # Thanksgiving 2035, inside the calendar
    assert date(2036, 1, 1) in days  # past it: a weekday, a holiday or not
    assert all(d.weekday() < 5 for d in days)
    assert len(notes) == 1 and f"to {SIM_CALENDAR_END}" in notes[0]
    assert "plain weekdays" in notes[0]
    early: list[str] = []
    old = SimMarket(
        ("SPY",),
        parse_interval("1d"),
        parse_period("1d"),
        start=date(1990, 12, 24),
        report=early.append,
    )
    assert date(1990, 12, 25) in list(_ny_days(old, 5))
    assert len(early) == 1 and "1990-12-24 is outside" in early[0]
