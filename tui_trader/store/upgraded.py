"""Has a newer tui-trader upgraded the store under this running session?

A release refuses to open a store of a newer schema (``store.ownership``, ``store.pg_schema``),
but a desk that is already running when a newer release opens the same store (an upgrade on one
machine while another desk trades, a second desk started with the new version) is not asked
again: the newer process migrates the tables, and the older desk went on writing rows without
the newer columns' meaning, which the newer release's readers then trust. So the session reads
the store's schema version with every heartbeat it writes (about once a second; ``PRAGMA
user_version`` reads the file's header, a PostgreSQL store one row of its meta table) and stops,
failing closed, once it is newer than this program writes.
"""

from __future__ import annotations

from typing import Any

from tui_trader.store.ownership import SCHEMA_VERSION
from tui_trader.store.pg import META_TABLE


def store_version(db: Any) -> int:
    """The schema version the store says it is at now (0 when it says nothing readable)."""
    if getattr(db, "is_postgres", False):
        row = db.execute_sql(
            f'SELECT "value" FROM "{META_TABLE}" WHERE "key" = ?', ("schema_version",)
        ).fetchone()
        text = str(row[0]) if row is not None and row[0] is not None else ""
        return int(text) if text.isdigit() else 0
    (version,) = db.execute_sql("PRAGMA user_version").fetchone()
    return int(version)


def upgraded_under_us(db: Any) -> str | None:
    """The line a session stops on when a newer release upgraded its store; ``None`` while
    the store is at the schema this program writes (or older)."""
    version = store_version(db)
    if version <= SCHEMA_VERSION:
        return None
    where = "PostgreSQL store" if getattr(db, "is_postgres", False) else f"database {db.database}"
    return (
        f"the audit {where} was upgraded to schema {version} by a newer tui-trader while this "
        f"session ran (this one writes schema {SCHEMA_VERSION}): trading stopped, no order sent "
        "with rows the newer schema does not expect (start the session again with the newer "
        "tui-trader to go on)"
    )
