"""An Alpaca desk's warm-up holds a few symbols' answer at a time, not every symbol's at once.

alpaca-py keeps a whole answer twice over while it builds it (the decoded JSON of every page,
then a model per bar): ~1.7 KB a bar. The warm-up asked for every symbol's history in one
request, so a ``live paper`` start of 20 symbols on the sandbox (five days of minute bars,
~400,000 bars) peaked at 757 MB (measured in branch ``soak32``;
406 MB after this change). Here alpaca-py's own client parses the answers (only the HTTP call is
replaced: pages of 10,000 bars, as Alpaca pages them) and the Python heap's peak is read with
tracemalloc: allocations counted, not time.
"""

from __future__ import annotations

import threading
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from tui_trader.brokers.alpaca_calls import CallPolicy
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.alpaca import AlpacaMarketData

SYMBOLS = tuple(f"S{i:02d}" for i in range(20))
BARS = 1_000
"""Minute bars of history per symbol."""
FIRST = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
PAGE = 10_000
MINUTE = timedelta(minutes=1)


class Feed:
    """Alpaca's bars endpoint: each symbol's ``BARS`` minute bars, paged as Alpaca pages."""

    def __init__(self) -> None:
        self.requested: list[tuple[str, ...]] = []

    def get(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        symbols = tuple(str(data["symbols"]).split(","))
        if not data.get("page_token"):
            self.requested.append(symbols)
        offset = int(data.get("page_token") or 0)
        limit = int(data.get("limit") or PAGE)
        every = [(s, i) for s in symbols for i in range(BARS)]
        page = every[offset : offset + limit]
        bars: dict[str, list[dict[str, Any]]] = {}
        for symbol, i in page:
            stamp = (FIRST + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            price = 100.0 + i % 7
            raw = {"t": stamp, "o": price, "h": price + 1, "l": price - 1, "c": price}
            bars.setdefault(symbol, []).append(raw | {"v": 1_000, "n": 10, "vw": price})
        more = offset + limit < len(every)
        return {"bars": bars, "next_page_token": str(offset + limit) if more else None}


def _market(feed: Feed) -> AlpacaMarketData:
    """The market data of ``SYMBOLS`` on alpaca-py's client, its HTTP call answered by ``feed``."""
    from alpaca.data.historical import StockHistoricalDataClient

    market = object.__new__(AlpacaMarketData)
    market.symbols = SYMBOLS
    market.interval = parse_interval("1m")
    market.period = parse_period("5d")
    market.policy = CallPolicy()
    market._stop = threading.Event()
    market._last_seen = {}
    market._ahead = set()
    market.warmup_notes = []
    client = StockHistoricalDataClient("PKTEST", "secret-not-used")
    client.get = feed.get  # type: ignore[method-assign]
    market.client = client
    return market


def test_the_warm_up_peaks_at_a_few_symbols_answer_and_keeps_every_bar() -> None:
    feed = Feed()
    market = _market(feed)
    tracemalloc.start()
    try:
        bars = market.warmup()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {s: len(series) for s, series in bars.items()} == {s: BARS for s in SYMBOLS}
    assert bars["S07"][5].close == 105.0 and bars["S07"][5].timestamp == FIRST + 5 * MINUTE
    # Each request names a few symbols: together all of them, each once.
    assert sorted(s for request in feed.requested for s in request) == sorted(SYMBOLS)
    assert max(len(request) for request in feed.requested) <= 4
    # Our bars (~270 bytes each, all kept) plus one few-symbol answer in the making; on main
    # every symbol's answer at once: ~1,600 bytes a bar (~520 here).
    assert peak / (len(SYMBOLS) * BARS) < 900
