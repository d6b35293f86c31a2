"""The sandbox's market data as Alpaca serves it (issue 15): deep history, weeks and months,
integer volumes, single-symbol paths, snapshots, historical trades and quotes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import requests
from alpaca.data.requests import (
    StockBarsRequest,
    StockQuotesRequest,
    StockSnapshotRequest,
    StockTradesRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from tui_trader.sandbox.feed import Timeframe
from tui_trader.sandbox.testing import running_sandbox


def _get(sb, path: str, **params: str) -> dict:
    """A raw market data request with the sandbox's keys; the JSON answer (status 200)."""
    headers = {"APCA-API-KEY-ID": sb.key_id, "APCA-API-SECRET-KEY": sb.secret}
    answer = requests.get(sb.base_url + path, params=params, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_two_years_of_days_warm_a_200_day_average_and_volumes_are_integers(sandbox, market_data):
    """Daily bars reach more than two years back (they used to start on 1 January), in order, one
    a day; weeks and months aggregate them; every volume on the wire is an integer (it used to
    be ``120570.0``)."""
    now = sandbox.sandbox.feed.market_time
    daily = market_data.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="SPY", timeframe=TimeFrame.Day, start=now - timedelta(days=800)
        )
    ).data["SPY"]
    assert len(daily) >= 730
    assert daily[0].timestamp <= now - timedelta(days=730)
    assert all(
        b.timestamp - a.timestamp == timedelta(days=1) for a, b in itertools.pairwise(daily[-60:])
    )
    closes = [b.close for b in daily]
    average_200 = sum(closes[-200:]) / 200
    assert 0.5 * closes[-1] < average_200 < 2 * closes[-1]
    weekly = market_data.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="SPY", timeframe=TimeFrame.Week, start=now - timedelta(days=120)
        )
    ).data["SPY"]
    assert 16 <= len(weekly) <= 19
    assert all(b.timestamp.astimezone(UTC).weekday() == 0 for b in weekly[1:])
    monthly = market_data.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="SPY",
            timeframe=TimeFrame(3, TimeFrameUnit.Month),
            start=now - timedelta(days=700),
        )
    ).data["SPY"]
    assert 7 <= len(monthly) <= 9
    raw = _get(sandbox, "/v2/stocks/bars", symbols="SPY,QQQ", timeframe="1Day", limit="50")
    raw_week = _get(
        sandbox,
        "/v2/stocks/SPY/bars",
        timeframe="1Week",
        start=(now - timedelta(days=60)).isoformat(),
    )
    volumes = [b["v"] for bars in raw["bars"].values() for b in bars] + [
        b["v"] for b in raw_week["bars"]
    ]
    assert volumes and all(type(v) is int and v > 0 for v in volumes)


def test_thirty_days_of_minutes_join_the_live_bars_without_a_gap():
    """Minute bars go back 30 days (they used to start ~1.35 days back), one a minute up to the
    newest live bar, each opening where the one before closed (the CLI's default depth; test
    sandboxes serve the warm-up only unless asked)."""
    with running_sandbox(minute_days=30) as sandbox:
        now = sandbox.sandbox.feed.market_time
        first = _get(
            sandbox,
            "/v2/stocks/SPY/bars",
            timeframe="1Min",
            start=(now - timedelta(days=30)).isoformat(),
            limit="1",
        )
        assert _stamp(first["bars"][0]["t"]) <= now - timedelta(days=29, hours=23)
        bars = sandbox.sandbox.feed.bars("SPY", Timeframe("min", 1), None, None)
        assert len(bars) >= 30 * 1440
        assert all(
            b.timestamp - a.timestamp == timedelta(minutes=1) for a, b in itertools.pairwise(bars)
        )
        assert all(abs(a.close - b.open) < 0.01 for a, b in itertools.pairwise(bars[:-2000]))


def test_the_history_is_the_same_for_the_same_seed() -> None:
    """Two sandboxes started with one seed serve the same deep history."""
    answers = []
    for _ in range(2):
        with running_sandbox(seed=11) as sb:
            answers.append(
                _get(sb, "/v2/stocks/SPY/bars", timeframe="1Month", start="2000-01-01")["bars"]
            )
    assert answers[0] == answers[1] and len(answers[0]) >= 24


def test_snapshots_trades_quotes_and_single_symbol_paths(sandbox, market_data):
    """alpaca-py's snapshot, trades and quotes requests work; the single-symbol paths answer
    Alpaca's single shapes; a symbol the sandbox does not simulate is a 404 there."""
    sandbox.admin.step(2)
    feed = sandbox.sandbox.feed
    latest = feed.latest_bar("SPY")
    snaps = market_data.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols=["SPY", "QQQ"]))
    assert set(snaps) == {"SPY", "QQQ"}
    assert snaps["SPY"].minute_bar.close == latest.close
    assert snaps["SPY"].latest_trade.price == latest.close
    assert snaps["SPY"].daily_bar.close == latest.close
    assert snaps["SPY"].previous_daily_bar.timestamp < snaps["SPY"].daily_bar.timestamp
    start = feed.market_time - timedelta(minutes=10)
    trades = market_data.get_stock_trades(
        StockTradesRequest(symbol_or_symbols=["IWM"], start=start)
    ).data["IWM"]
    quotes = market_data.get_stock_quotes(
        StockQuotesRequest(symbol_or_symbols="IWM", start=start)
    ).data["IWM"]
    assert len(trades) == len(quotes) == 10
    assert trades[-1].price == feed.latest_bar("IWM").close
    assert all(q.bid_price < q.ask_price for q in quotes)
    single = _get(sandbox, "/v2/stocks/SPY/snapshot")
    assert single["symbol"] == "SPY" and single["minuteBar"]["c"] == latest.close
    assert _get(sandbox, "/v2/stocks/SPY/bars/latest")["bar"]["c"] == latest.close
    assert _get(sandbox, "/v2/stocks/SPY/trades/latest")["trade"]["p"] == latest.close
    assert _get(sandbox, "/v2/stocks/SPY/quotes/latest")["quote"]["bp"] < latest.close
    page = _get(sandbox, "/v2/stocks/SPY/trades", start=start.isoformat(), limit="4")
    assert page["symbol"] == "SPY" and len(page["trades"]) == 4 and page["next_page_token"]
    headers = {"APCA-API-KEY-ID": sandbox.key_id, "APCA-API-SECRET-KEY": sandbox.secret}
    missing = requests.get(
        sandbox.base_url + "/v2/stocks/ZZZZ/snapshot", headers=headers, timeout=10
    )
    assert missing.status_code == 404 and "ZZZZ" in missing.json()["message"]
