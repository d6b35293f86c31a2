"""The audit database's schema: what an older database file turns into when a writer opens it."""

from __future__ import annotations

from pathlib import Path

from tui_trader.store.db import open_database
from tui_trader.store.models import LiveOrder, SessionRow


def _indexes(db) -> set[str]:
    """The names of the database's own (non-automatic) indexes."""
    rows = db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    return {name for (name,) in rows.fetchall()}


def test_an_older_database_loses_the_indexes_no_query_reads_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    """Earlier versions indexed the wall time of every row and the broker's order id; nothing
    reads by them, and each slowed every write. Opening such a file drops them, keeps the rows
    and the indexes the history browser filters by."""
    path = tmp_path / "old.db"
    db = open_database(path)
    session = SessionRow.create(
        key="k", mode="local", broker="paper", data_source="sim", symbols="SPY",
        parameters="{}", account_key="local:k", started_at="2026-11-24 14:30:00",
    )  # fmt: skip
    LiveOrder.create(
        session=session, client_order_id="c1", symbol="SPY", side="buy", quantity=1.0,
        order_type="market", status="filled", timestamp="2026-11-24 14:30:01",
        updated_at="2026-11-24 14:30:01",
    )  # fmt: skip
    made = (
        ("live_orders_timestamp", "live_orders", "timestamp"),
        ("live_orders_broker_order_id", "live_orders", "broker_order_id"),
        ("live_fills_timestamp", "live_fills", "timestamp"),
    )
    for name, table, column in made:
        db.execute_sql(f'CREATE INDEX "{name}" ON "{table}" ("{column}")')
    old = {name for name, _table, _column in made}
    assert old <= _indexes(db)
    db.execute_sql("PRAGMA application_id = 0")  # as files from before the marks were
    db.execute_sql("PRAGMA user_version = 0")
    db.close()

    db = open_database(path)
    try:
        left = _indexes(db)
        assert not old & left
        assert {"live_orders_symbol", "live_orders_status", "live_orders_session_id"} <= left
        assert [o.client_order_id for o in LiveOrder.select()] == ["c1"]
    finally:
        db.close()
