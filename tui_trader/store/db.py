"""Opening the audit database: one SQLite file in WAL mode, shared by threads and processes.

WAL lets the history browser and the monitor read while a session writes; ``synchronous=normal``
keeps commits cheap without risking corruption; each thread gets its own connection (peewee's
default), which is why the database is always a file and never ``:memory:``.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from peewee import DatabaseError, SqliteDatabase

from tui_trader.store.learning_models import LEARNING_MODELS
from tui_trader.store.models import MODELS, database

_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "cache_size": -2_000,
}
"""2 MB of page cache per connection: the audit log is written once and read back in pages, so
a bigger cache bought no speed here, and it made a day-long session's memory climb (issue 8)."""

_UNUSED_INDEXES = (
    "live_orders_timestamp",
    "live_orders_broker_order_id",
    "live_fills_timestamp",
    "live_trades_timestamp",
    "live_account_snapshots_timestamp",
    "live_risk_events_timestamp",
    "learning_weights_timestamp",
    "learning_regimes_timestamp",
    "learning_shadow_timestamp",
)
"""Indexes earlier versions made that no query reads: rows are found by session, id, symbol,
status or bar time, never by the wall time they were written at or the broker's order id. Each
cost every insert a B-tree update (a replay wrote ~25% faster without them, issue 8), so a
writer drops them when it opens an older database."""

_VIEWS = ("CREATE VIEW IF NOT EXISTS live_risks_events AS SELECT * FROM live_risk_events",)
"""``live_risks_events`` is the Phase 4 document's spelling; the view makes its SQL work too."""


class StoreError(Exception):
    """The database cannot be opened or written: the session must not trade without its audit."""


def open_database(path: Path, create: bool = True) -> SqliteDatabase:
    """Open (and create the tables of) the audit database at ``path``, and bind the models."""
    if str(path) == ":memory:":
        raise StoreError("the audit database must be a file (worker threads cannot share memory)")
    db = SqliteDatabase(str(path), pragmas=_PRAGMAS, check_same_thread=False)
    try:
        db.connect(reuse_if_open=True)
        database.initialize(db)
        if create:
            db.create_tables(MODELS + LEARNING_MODELS, safe=True)
            for view in _VIEWS:
                db.execute_sql(view)
            for index in _UNUSED_INDEXES:
                db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
    except (DatabaseError, sqlite3.DatabaseError) as exc:
        db.close()
        raise StoreError(f"cannot open the database {path}: {exc}") from exc
    return db


def to_db_time(ts: datetime | None) -> datetime | None:
    """A timezone-aware time as the naive UTC value the tables store."""
    if ts is None:
        return None
    if ts.tzinfo is None:
        return ts
    return ts.astimezone(UTC).replace(tzinfo=None)


def from_db_time(ts: datetime | str | None) -> datetime | None:
    """A stored naive UTC value back as a timezone-aware time."""
    if ts is None:
        return None
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts
