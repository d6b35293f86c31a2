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

_MOST_DIGITS = 9
"""A schema version tui-trader writes is a small number; more digits than this is an edit."""


def read_version(text: str) -> int | None:
    """A PostgreSQL store's ``schema_version`` text as a number (0 when empty: none written
    yet), ``None`` when it is not a plain number tui-trader writes. ``str.isdigit`` is true
    for '²' and other Unicode digits that ``int()`` refuses, and ``int()`` refuses a number
    of thousands of digits: both raised out of the store's checks, a traceback."""
    text = text.strip()
    if not text:
        return 0
    if len(text) > _MOST_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def unreadable(text: str) -> str:
    """The words for a ``schema_version`` that ``read_version`` refuses (cut short)."""
    shown = text if len(text) <= 20 else f"{text[:20]}... ({len(text)} characters)"
    return f"its schema version {shown!r} is not a number tui-trader writes (edited by hand?)"


def store_version(db: Any) -> int | None:
    """The schema version the store says it is at now (0 when it says none); ``None`` when a
    PostgreSQL store's is not a plain number (``read_version``)."""
    if getattr(db, "is_postgres", False):
        return read_version(_pg_text(db))
    (version,) = db.execute_sql("PRAGMA user_version").fetchone()
    return int(version)


def _pg_text(db: Any) -> str:
    """The text of a PostgreSQL store's ``schema_version`` row ("" without one)."""
    row = db.execute_sql(
        f'SELECT "value" FROM "{META_TABLE}" WHERE "key" = ?', ("schema_version",)
    ).fetchone()
    return str(row[0]) if row is not None and row[0] is not None else ""


def upgraded_under_us(db: Any) -> str | None:
    """The line a session stops on when a newer release upgraded its store, or its version
    can no longer be read (fails closed); ``None`` while the store is at the schema this
    program writes (or older)."""
    version = store_version(db)
    where = "PostgreSQL store" if getattr(db, "is_postgres", False) else f"database {db.database}"
    if version is None:
        return (
            f"the audit {where} changed while this session ran: {unreadable(_pg_text(db))}: "
            "trading stopped, no order sent into a store this desk cannot vouch for"
        )
    if version <= SCHEMA_VERSION:
        return None
    return (
        f"the audit {where} was upgraded to schema {version} by a newer tui-trader while this "
        f"session ran (this one writes schema {SCHEMA_VERSION}): trading stopped, no order sent "
        "with rows the newer schema does not expect (start the session again with the newer "
        "tui-trader to go on)"
    )
