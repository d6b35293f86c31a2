"""A replay table in any row order is served in step order: by timestamp, then symbol, rows
equal in both in the file's order. A table written symbol after symbol takes a cheaper sort
(issue 17); it must give exactly the table the full sort gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.replay import ReplayMarket

START = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
COLUMNS = ["timestamp", "symbol", "open", "high", "low", "close", "volume"]


def _rows(symbols: tuple[str, ...], steps: int) -> list[tuple]:
    """Symbol after symbol, each in time order; every value tells its row apart."""
    return [
        (START + timedelta(minutes=i), s, 1.0 + i, 2.0 + i, 0.5 + i, 1.5 + i + 1000 * k, 7.0 * k)
        for k, s in enumerate(symbols)
        for i in range(steps)
    ]


def _served(rows: list[tuple]) -> pl.DataFrame:
    """The table a replay serves for ``rows`` (1-minute bars, a one-day warm-up)."""
    frame = pl.DataFrame(rows, schema=COLUMNS, orient="row")
    market = ReplayMarket(frame, "test", interval=parse_interval("1m"), period=parse_period("1d"))
    return market.frame


def _expected(rows: list[tuple]) -> pl.DataFrame:
    """The sort by both keys, stable."""
    frame = pl.DataFrame(rows, schema=COLUMNS, orient="row")
    return frame.sort("timestamp", "symbol", maintain_order=True)


@pytest.mark.parametrize(
    "order",
    ["symbol after symbol", "symbols backwards", "shuffled", "a row twice", "a gap"],
)
def test_every_row_order_is_served_as_the_full_sort_orders_it(order: str) -> None:
    """Symbol-major (the cheap sort), symbol-major with the symbols not in order, shuffled,
    one (timestamp, symbol) twice with different values, a symbol missing some steps: each
    is served exactly as the stable sort by timestamp and symbol orders it."""
    rows = _rows(("AAA", "BBB", "CCC", "DDD"), 450)
    if order == "symbols backwards":
        rows = [r for k in range(3, -1, -1) for r in rows[k * 450 : (k + 1) * 450]]
    elif order == "shuffled":
        random.Random(5).shuffle(rows)
    elif order == "a row twice":
        rows.insert(500, (*rows[500][:5], 99.0, 3.0))
    elif order == "a gap":
        del rows[460:470]
    served = _served(rows)
    assert served.equals(_expected(rows))
    assert served.height == len(rows)
