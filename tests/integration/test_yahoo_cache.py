"""The Yahoo adapter against a fake Yahoo on 127.0.0.1: cache hits, tail fetches, offline, deadline.

yfinance itself runs (its real request code, its real JSON parsing); only its session is pointed
at ``fake_yahoo.FakeYahoo`` through ``YahooOptions.base_url``. Nothing leaves 127.0.0.1 and
nothing is written outside ``tmp_path``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from tests.integration.fake_yahoo import FakeYahoo, SilentServer, closed_port_url
from tui_trader.core.timeframes import NEW_YORK, parse_interval, parse_period
from tui_trader.market import MarketDataError
from tui_trader.market.cache import BarCache
from tui_trader.market.calendar import us_equity_calendar
from tui_trader.market.replay import ReplayMarket
from tui_trader.market.yahoo import YahooOptions, load_history, open_yahoo_market

DAILY = parse_interval("1d")
START = datetime(2025, 1, 2, tzinfo=NEW_YORK)
FEB_14_EVENING = datetime(2025, 2, 14, 22, tzinfo=UTC)
MAR_7_EVENING = datetime(2025, 3, 7, 22, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeYahoo]:
    """A fake Yahoo for one test."""
    server = FakeYahoo()
    yield server
    server.close()


def options(cache_dir: Path, url: str, now: datetime, **extra: object) -> YahooOptions:
    """Options with a frozen clock and the fake's origin."""
    return YahooOptions(cache_dir=cache_dir, timeout=5.0, base_url=url, now=lambda: now, **extra)  # type: ignore[arg-type]


def sessions(first: date, last: date) -> list[datetime]:
    """The session opens (UTC) from ``first`` to ``last``."""
    return [s.open for s in us_equity_calendar().sessions_between(first, last)]


def test_first_fetch_fills_the_cache_and_stamps_daily_bars_at_the_open(
    tmp_path: Path, fake: FakeYahoo
) -> None:
    history = load_history(
        ["SPY", "QQQ"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING)
    )
    assert history.requests == 2 and history.notes == [] and not history.stale
    spy = history.frame.filter(pl.col("symbol") == "SPY")
    assert spy.get_column("timestamp").to_list() == sessions(date(2025, 1, 2), date(2025, 2, 14))
    assert BarCache(tmp_path).path("SPY", "1d").is_file()
    assert (tmp_path / "yfinance" / "tkr-tz.db").is_file()  # yfinance's cache moved into ours


def test_cache_hit_makes_no_request(tmp_path: Path, fake: FakeYahoo) -> None:
    opts = options(tmp_path, fake.url, FEB_14_EVENING)
    first = load_history(["SPY"], DAILY, START, opts)
    fake.requests.clear()
    again = load_history(["SPY"], DAILY, START, opts)
    assert fake.requests == [] and again.requests == 0
    assert again.frame.equals(first.frame)


def test_tail_fetch_asks_only_for_the_missing_range_and_merges_without_gaps(
    tmp_path: Path, fake: FakeYahoo
) -> None:
    load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    fake.requests.clear()
    later = load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, MAR_7_EVENING))
    asked = fake.chart_requests()
    assert len(asked) == 1 and later.requests == 1
    # From the newest cached bar's day (Fri 14 Feb, asked again to see that Yahoo did not
    # restate it) to now: nothing older cached is asked for again.
    assert int(asked[0]["period1"]) == int(datetime(2025, 2, 14, tzinfo=NEW_YORK).timestamp())
    assert int(asked[0]["period2"]) == int(MAR_7_EVENING.timestamp())
    stamps = later.frame.get_column("timestamp")
    assert stamps.is_unique().all() and stamps.is_sorted()
    assert stamps.to_list() == sessions(date(2025, 1, 2), date(2025, 3, 7))
    assert BarCache(tmp_path).read("SPY", "1d").height == stamps.len()  # type: ignore[union-attr]


def test_a_longer_period_fetches_only_the_head(tmp_path: Path, fake: FakeYahoo) -> None:
    feb_3 = datetime(2025, 2, 3, tzinfo=NEW_YORK)
    load_history(["SPY"], DAILY, feb_3, options(tmp_path, fake.url, FEB_14_EVENING))
    fake.requests.clear()
    longer = load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    asked = fake.chart_requests()
    assert len(asked) == 1
    assert int(asked[0]["period1"]) == int(START.timestamp())
    assert int(asked[0]["period2"]) == int(feb_3.timestamp())
    assert longer.frame.get_column("timestamp").to_list() == sessions(
        date(2025, 1, 2), date(2025, 2, 14)
    )


def test_offline_session_falls_back_to_the_cache_and_says_how_old(
    tmp_path: Path, fake: FakeYahoo
) -> None:
    load_history(["SPY", "QQQ"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    said: list[str] = []
    market = open_yahoo_market(
        ("SPY", "QQQ"),
        DAILY,
        parse_period("10d"),
        iterations=5,
        options=options(tmp_path, closed_port_url(), MAR_7_EVENING),
        report=said.append,
    )
    assert isinstance(market, ReplayMarket)
    assert market.total_steps == 15  # 10 warm-up + 5 to trade, the newest the cache holds
    assert len(said) == 1
    assert "using cached bars" in said[0] and "up to 2025-02-14" in said[0]
    assert "(21 days old)" in said[0]
    warm = market.warmup()
    assert len(warm["SPY"]) == 10


def test_offline_without_enough_cache_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MarketDataError, match="cache cannot stand in") as info:
        open_yahoo_market(
            ("SPY",),
            DAILY,
            parse_period("10d"),
            options=options(tmp_path, closed_port_url(), MAR_7_EVENING),
        )
    assert "\n" not in str(info.value)


def test_data_fetch_offline_is_an_error_naming_the_cache_age(
    tmp_path: Path, fake: FakeYahoo
) -> None:
    load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    with pytest.raises(MarketDataError, match=r"not updated: SPY up to 2025-02-14"):
        load_history(["SPY"], DAILY, START, options(tmp_path, closed_port_url(), MAR_7_EVENING))


def test_silent_server_is_stopped_by_our_deadline(tmp_path: Path) -> None:
    silent = SilentServer()
    deadline = 1.0
    try:
        began = time.monotonic()
        with pytest.raises(MarketDataError, match="no answer within 1 s"):
            load_history(
                ["SPY", "QQQ"],
                DAILY,
                START,
                YahooOptions(
                    cache_dir=tmp_path,
                    timeout=deadline,
                    base_url=silent.url,
                    now=lambda: MAR_7_EVENING,
                ),
            )
        elapsed = time.monotonic() - began
    finally:
        silent.close()
    # One deadline for the first symbol; the second is not even tried once Yahoo is known down.
    assert elapsed < deadline + 0.75


def test_bad_rows_from_yahoo_are_dropped_and_counted(tmp_path: Path, fake: FakeYahoo) -> None:
    fake.corrupt = {("SPY", "2025-01-06"), ("SPY", "2025-01-07")}
    history = load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    assert history.notes == [
        "yahoo SPY 1d: dropped 2 row(s) where high is below open/close or low above them"
    ]
    assert history.frame.height == len(sessions(date(2025, 1, 2), date(2025, 2, 14))) - 2


def test_adjusted_prices_use_the_adjusted_close(tmp_path: Path, fake: FakeYahoo) -> None:
    raw = load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    adj = load_history(
        ["SPY"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING, adjusted=True)
    )
    ratio = (adj.frame.get_column("open") / raw.frame.get_column("open")).to_list()
    assert all(abs(r - 0.99) < 1e-3 for r in ratio)


def test_cached_parquet_replays(tmp_path: Path, fake: FakeYahoo) -> None:
    load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    market = ReplayMarket.from_file(BarCache(tmp_path).path("SPY", "1d"), period=parse_period("5d"))
    assert market.symbols == ("SPY",)
    assert len(market.warmup()["SPY"]) == 5


def test_unknown_symbol_is_an_error_naming_it(tmp_path: Path, fake: FakeYahoo) -> None:
    with pytest.raises(MarketDataError, match=r"has no ZZZZ 1d bars from 2025-01-02"):
        load_history(["ZZZZ"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    assert BarCache(tmp_path).read("ZZZZ", "1d") is None


def test_offline_option_never_touches_the_network(tmp_path: Path, fake: FakeYahoo) -> None:
    load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    fake.requests.clear()
    said: list[str] = []
    market = open_yahoo_market(
        ("SPY",),
        DAILY,
        parse_period("5d"),
        options=options(tmp_path, fake.url, MAR_7_EVENING, offline=True),
        report=said.append,
    )
    assert fake.requests == [] and market.total_steps == 10
    assert said[0].startswith("offline mode (--offline); using cached bars: SPY up to 2025-02-14")


def test_intraday_bars_keep_their_open_times_and_only_completed_bars(
    tmp_path: Path, fake: FakeYahoo
) -> None:
    five = parse_interval("5m")
    now = datetime(2025, 3, 7, 15, 2, tzinfo=NEW_YORK)  # mid-session: 10:00..15:00 bars done
    start = datetime(2025, 3, 6, 9, 30, tzinfo=NEW_YORK)
    history = load_history(["SPY"], five, start, options(tmp_path, fake.url, now))
    stamps = history.frame.get_column("timestamp").to_list()
    assert stamps[0] == start.astimezone(UTC)
    assert len(stamps) == 78 + 66  # a whole Thursday, then Friday up to the 14:55 bar
    assert stamps[-1] == datetime(2025, 3, 7, 14, 55, tzinfo=NEW_YORK).astimezone(UTC)
    fake.requests.clear()
    later = datetime(2025, 3, 7, 15, 12, tzinfo=NEW_YORK)
    more = load_history(["SPY"], five, start, options(tmp_path, fake.url, later))
    asked = fake.chart_requests()
    assert len(asked) == 1
    # from the newest cached bar (14:55), asked again to see that Yahoo did not restate it
    assert int(asked[0]["period1"]) == int(
        datetime(2025, 3, 7, 14, 55, tzinfo=NEW_YORK).timestamp()
    )
    assert more.frame.height == 78 + 68


def test_open_market_yahoo_through_the_source_factory(tmp_path: Path, fake: FakeYahoo) -> None:
    from tui_trader.market.sources import open_market, parse_data_spec

    said: list[str] = []
    market = open_market(
        parse_data_spec("yahoo"),
        ("SPY", "QQQ"),
        DAILY,
        parse_period("10d"),
        iterations=4,
        yahoo=options(tmp_path, fake.url, FEB_14_EVENING),
        report=said.append,
    )
    assert isinstance(market, ReplayMarket) and market.symbols == ("SPY", "QQQ")
    assert market.total_steps == 14 and said == []
    warm = market.warmup()
    assert [len(warm[s]) for s in ("SPY", "QQQ")] == [10, 10]
    steps = 0
    while market.next_bars() is not None:
        steps += 1
    assert steps == 4


def test_a_listing_abroad_keeps_its_own_dates(tmp_path: Path, fake: FakeYahoo) -> None:
    """A Tokyo listing's daily bars come stamped at midnight Tokyo time, the evening before
    in New York and UTC. Each is its exchange's date, at that day's open: before, every bar
    moved a day back, Monday's onto a Sunday (and Friday's onto Thursday)."""
    fake.zones["SPY"] = "Asia/Tokyo"
    history = load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    days = [t.astimezone(NEW_YORK).date() for t in history.frame.get_column("timestamp")]
    assert days[:3] == [date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 6)]
    assert all(day.weekday() < 5 for day in days)
    assert history.frame.get_column("timestamp").to_list()[:3] == sessions(
        date(2025, 1, 2), date(2025, 1, 6)
    )


def test_a_split_after_the_cache_was_filled_is_no_fall_by_half(
    tmp_path: Path, fake: FakeYahoo
) -> None:
    """SPY is cached to 14 Feb; then it splits two for one, and Yahoo restates its whole
    history at half the price. The next run's bars are all in the new units, said in a note.
    Before, the cached bars (at ~600) were joined to the new ones (at ~300): the replay showed
    a fall by half overnight, which a held position took as a loss."""
    load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, FEB_14_EVENING))
    split = [[row[0], *(price / 2 for price in row[1:6]), row[6] * 2] for row in fake.bars["SPY"]]
    fake.bars["SPY"] = split
    later = load_history(["SPY"], DAILY, START, options(tmp_path, fake.url, MAR_7_EVENING))
    closes = later.frame.get_column("close")
    assert closes.to_list() == [row[4] for row in fake.bars["SPY"]][: closes.len()]
    assert (closes / closes.shift(1)).drop_nulls().min() > 0.9  # type: ignore[operator]
    assert any("restated" in note and "SPY" in note for note in later.notes)
    cached = BarCache(tmp_path).read("SPY", "1d")
    assert cached is not None and cached.get_column("close").max() < 400  # type: ignore[operator]
