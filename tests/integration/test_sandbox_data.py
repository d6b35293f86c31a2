"""alpaca-py's StockHistoricalDataClient against the sandbox's Market Data API."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import (
    StockBarsRequest,
    StockLatestBarRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from tui_trader.sandbox.testing import make_fast, running_sandbox


def test_historical_bars_match_the_simulated_market(sandbox, market_data):
    feed = sandbox.sandbox.feed
    start = feed.market_time - timedelta(minutes=30)
    bars = market_data.get_stock_bars(
        StockBarsRequest(symbol_or_symbols=["SPY", "QQQ"], timeframe=TimeFrame.Minute, start=start)
    )
    assert set(bars.data) == {"SPY", "QQQ"}
    spy = bars.data["SPY"]
    assert len(spy) == 30
    assert spy[-1].close == feed.latest_bar("SPY").close
    assert spy[-1].timestamp == feed.latest_bar("SPY").timestamp
    assert all(b.trade_count and b.vwap for b in spy)
    assert all(a.timestamp < b.timestamp for a, b in itertools.pairwise(spy))


def test_bars_aggregate_to_coarser_timeframes(sandbox, market_data):
    feed = sandbox.sandbox.feed
    early = feed.market_time - timedelta(hours=2)
    start = early - timedelta(minutes=early.minute % 5)  # on a five-minute boundary
    minute = market_data.get_stock_bars(
        StockBarsRequest(symbol_or_symbols="SPY", timeframe=TimeFrame.Minute, start=start)
    ).data["SPY"]
    five = market_data.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="SPY", timeframe=TimeFrame(5, TimeFrameUnit.Minute), start=start
        )
    ).data["SPY"]
    assert len(five) == len({(b.timestamp.hour, b.timestamp.minute // 5) for b in minute})
    assert all(b.timestamp.minute % 5 == 0 for b in five)
    assert five[0].open == minute[0].open and five[0].close == minute[4].close
    assert five[0].high == max(b.high for b in minute[:5])
    assert five[0].volume == sum(b.volume for b in minute[:5])
    daily = market_data.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="SPY", timeframe=TimeFrame.Day, start=start - timedelta(days=3)
        )
    ).data["SPY"]
    assert 2 <= len(daily) <= 5


def test_bars_are_paged_with_next_page_token(sandbox):
    headers = {"APCA-API-KEY-ID": sandbox.key_id, "APCA-API-SECRET-KEY": sandbox.secret}
    start = (sandbox.sandbox.feed.market_time - timedelta(minutes=250)).isoformat()
    params = {"symbols": "SPY,IWM", "timeframe": "1Min", "start": start, "limit": 200}
    seen: list[tuple[str, str]] = []
    pages = 0
    with requests.Session() as session:
        for _ in range(10):
            answer = session.get(
                sandbox.base_url + "/v2/stocks/bars", params=params, headers=headers, timeout=5
            ).json()
            pages += 1
            seen += [(s, b["t"]) for s, bars in answer["bars"].items() for b in bars]
            if not answer["next_page_token"]:
                break
            params["page_token"] = answer["next_page_token"]
    assert pages == 3 and len(seen) == 500 and len(set(seen)) == 500


def test_alpaca_py_follows_pages_beyond_its_10000_page_size():
    with running_sandbox(minute_days=30) as sb:
        client = make_fast(
            StockHistoricalDataClient(sb.key_id, sb.secret, url_override=sb.base_url)
        )
        start = sb.sandbox.feed.market_time - timedelta(days=3)  # 3 x 4,320 one-minute bars
        bars = client.get_stock_bars(
            StockBarsRequest(
                symbol_or_symbols=["SPY", "QQQ", "IWM"], timeframe=TimeFrame.Minute, start=start
            )
        )
        assert {s: len(v) for s, v in bars.data.items()} == {"IWM": 4320, "QQQ": 4320, "SPY": 4320}


def test_latest_bar_quote_and_trade(sandbox, market_data):
    sandbox.admin.step(1)
    feed = sandbox.sandbox.feed
    bar = market_data.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols=["SPY"]))["SPY"]
    assert bar.close == feed.latest_bar("SPY").close
    quote = market_data.get_stock_latest_quote(
        StockLatestQuoteRequest(symbol_or_symbols=["SPY", "QQQ"])
    )
    assert set(quote) == {"SPY", "QQQ"}
    assert quote["SPY"].bid_price < bar.close < quote["SPY"].ask_price
    trade = market_data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="IWM"))
    assert trade["IWM"].price == feed.latest_bar("IWM").close


def test_unknown_symbols_are_left_out_and_bad_timeframes_refused(sandbox, market_data):
    latest = market_data.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols=["ZZZZ"]))
    assert latest == {}
    headers = {"APCA-API-KEY-ID": sandbox.key_id, "APCA-API-SECRET-KEY": sandbox.secret}
    for timeframe in ("2Day", "5Month", "60Min", "0Min", "1Year"):  # none of Alpaca's
        answer = requests.get(
            sandbox.base_url + "/v2/stocks/bars",
            params={"symbols": "SPY", "timeframe": timeframe},
            headers=headers,
            timeout=5,
        )
        assert answer.status_code == 422, timeframe
        assert "invalid timeframe" in answer.json()["message"]


def test_market_data_wrong_keys_are_403(sandbox):
    client = make_fast(StockHistoricalDataClient("PKWRONG", "nope", url_override=sandbox.base_url))
    with pytest.raises(APIError) as err:
        client.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols="SPY"))
    assert err.value.status_code == 403
