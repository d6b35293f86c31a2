"""A connection of its own to the audit store, for code that is not the session's thread (the
alert and backup threads, the readiness check): ``sqlite3`` for a file, psycopg for a
PostgreSQL URL, with one calling convention (``execute(sql, params)`` with ``?`` marks).

The session's own writes go through the peewee database (``store.db``); these are the few
side rows (a failed alert, a failed backup) and read-only checks that must not share it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tui_trader.store.pg import CONNECT_TIMEOUT, LOST_SQLSTATES, READ_COMMITTED, pg_sql
from tui_trader.store.pg_url import PgUrl


class _PgConnection:
    """A psycopg connection in autocommit mode that takes SQLite-style ``?`` statements."""

    def __init__(self, url: PgUrl) -> None:
        from tui_trader.store.pg_deadline import AnsweringConnection

        self._conn = AnsweringConnection.connect(
            url.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name="tui-trader"
        )
        self._conn.execute(READ_COMMITTED)  # as the session's own (``store.pg``)

    def execute(self, sql: str, params: Any = ()) -> Any:
        """Run one statement; its cursor."""
        return self._conn.execute(pg_sql(sql), params)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def lost(self, exc: BaseException) -> bool:
        """True if ``exc`` (raised by ``execute``) means the server is gone for this
        connection: it ended it, went away, or stopped answering (as ``store.pg.store_lost``
        judges the session's)."""
        sqlstate = getattr(exc, "sqlstate", None) or ""
        if sqlstate in LOST_SQLSTATES or sqlstate.startswith("08"):
            return True
        return bool(self._conn.broken or self._conn.closed)

    def __enter__(self) -> _PgConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        return None  # autocommit: each statement is already committed


def own_connection(target: Path | PgUrl, read_only: bool = False) -> Any:
    """A new connection to ``target`` (closed by the caller); ``read_only`` opens a file
    without creating it."""
    if isinstance(target, PgUrl):
        return _PgConnection(target)
    if read_only:
        return sqlite3.connect(f"file:{target}?mode=ro", uri=True, timeout=10.0)
    return sqlite3.connect(str(target), timeout=10.0)


def own_errors() -> tuple[type[Exception], ...]:
    """What a failed statement on ``own_connection`` raises, on either engine."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)


def table_names(conn: Any) -> set[str]:
    """The tables of the store ``conn`` is connected to."""
    if isinstance(conn, _PgConnection):
        rows = conn.execute(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
        )
        return {r[0] for r in rows.fetchall()}
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
