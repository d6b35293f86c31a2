"""The History screen by bar time, and of a date range, on a big store: read through an index.

A desk's database grows by hundreds of thousands of orders, trades and risk events. Sorted by
bar time, or narrowed to dates, each History page sorted or scanned the whole table (a deep
page of 200,000 orders: 0.3-0.5 s; README, Performance). Now one index per browsed table, on
the time a row is filed under (its bar time, else its wall time) and the id, serves both; its
plan is checked here (never timed), and the rows' order: a row without a bar time is sorted by
its wall time among the others, on SQLite and PostgreSQL alike (before, SQLite put such rows
first and PostgreSQL last).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tui_trader.store import browse
from tui_trader.store.db import open_database
from tui_trader.store.models import LiveOrder, LiveTrade, RiskEventRow, SessionRow, database
from tui_trader.store.pg_url import PgUrl

BROWSED = {"orders": "Bar time", "trades": "Exit bar", "events": "Bar time"}
"""Each view and its bar-time column."""


def _orders(where: Path | PgUrl) -> None:
    """Four orders; the third has no bar time (a row written outside a bar), its wall time
    between the first two bars."""
    open_database(where)
    session = SessionRow.create(
        key="k", mode="local", broker="paper", data_source="sim", symbols="SPY",
        parameters="{}", account_key="local:k", started_at=datetime(2026, 1, 5),
    )  # fmt: skip
    bars = (
        datetime(2026, 1, 5, 14, 30),
        datetime(2026, 1, 5, 14, 32),
        None,
        datetime(2026, 1, 5, 14, 33),
    )
    for n, bar in enumerate(bars):
        wall = datetime(2026, 1, 5, 14, 31) if bar is None else bar
        LiveOrder.create(
            session=session, client_order_id=f"c{n}", symbol="SPY", side="buy", quantity=1.0,
            order_type="market", status="filled", timestamp=wall, market_time=bar,
            updated_at=wall,
        )  # fmt: skip


def test_a_row_without_a_bar_time_sorts_by_its_wall_time_on_each_engine(
    store: Path | PgUrl,
) -> None:
    _orders(store)
    rows, total = browse.fetch_page("orders", browse.HistoryFilter(), "Bar time", False)
    assert total == 4
    assert [row[0] for row in rows] == [1, 3, 2, 4]
    rows, _ = browse.fetch_page("orders", browse.HistoryFilter(), "Bar time", True)
    assert [row[0] for row in rows] == [4, 2, 3, 1]


def _plan(query: object) -> str:
    """SQLite's plan of a peewee query, its lines joined."""
    sql, params = query.sql()  # type: ignore[attr-defined]
    rows = database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return " | ".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize("view", sorted(BROWSED))
def test_a_deep_page_by_bar_time_and_a_date_range_read_the_index(view: str, tmp_path: Path) -> None:
    """No sort of the whole table for a page by bar time (either way), and no scan of it for
    the rows of a date range, or their count (each page shows it)."""
    open_database(tmp_path / "audit.db")
    model, columns = browse.VIEWS[view]
    fields = [column.field for column in columns]
    every = browse.HistoryFilter()
    june = browse.HistoryFilter(start=date(2025, 6, 1), end=date(2025, 6, 30))
    index = f"USING INDEX {model._meta.table_name}_filed_at"
    for descending in (False, True):
        page = browse._ordered(view, browse._query(view, every, fields), BROWSED[view], descending)
        plan = _plan(page.offset(99_900).limit(100))
        assert index in plan and "TEMP B-TREE" not in plan, plan
        dated = browse._ordered(view, browse._query(view, june, fields), BROWSED[view], descending)
        assert index in _plan(dated.limit(100))
    counted = browse._query(view, june, [browse.fn.COUNT(model.id)])
    assert index in _plan(counted)


def test_an_older_store_gets_the_index_when_opened(store: Path | PgUrl) -> None:
    """A store of an earlier release (no such index) is given it by the migration, on
    PostgreSQL too (where only the marks and columns were checked before)."""
    db = open_database(store)
    names = [f"{m._meta.table_name}_filed_at" for m in (LiveOrder, LiveTrade, RiskEventRow)]
    for name in names:
        db.execute_sql(f'DROP INDEX "{name}"')
    db.close()
    db = open_database(store)
    try:
        if isinstance(store, PgUrl):
            listed = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        else:
            listed = "SELECT name FROM sqlite_master WHERE type = 'index'"
        have = {name for (name,) in db.execute_sql(listed).fetchall()}
        assert set(names) <= have
    finally:
        db.close()
