"""The audit store on a PostgreSQL server: several desks on several machines, one audit trail.

The same models and the same hot statements as SQLite (``store.statements``, written with ``?``
marks: translated once to psycopg's ``%s`` and cached). peewee drives psycopg 3 in autocommit
mode with explicit ``BEGIN``; SQLite's ``BEGIN IMMEDIATE`` has no meaning here (a transaction
takes row locks as it writes: the risk-state ``UPDATE ... RETURNING`` locks the account's row
until the commit, as ``SELECT ... FOR UPDATE`` would), so the lock type is ignored.

Ownership: SQLite's header marks become the ``tui_trader_meta`` table (``application_id`` and
``schema_version`` rows). A database holding other tables and no mark is refused untouched; an
empty one becomes ours. Schema creation and migration run in one transaction under an advisory
lock, so two desks starting on a new database never create the tables twice.
"""

from __future__ import annotations

from typing import Any, ClassVar

from peewee import DatabaseError, InterfaceError, OperationalError, PostgresqlDatabase

from tui_trader.store.pg_url import PgUrl

META_TABLE = "tui_trader_meta"
"""The PostgreSQL stand-in for SQLite's ``application_id`` and ``user_version`` header marks."""
MIGRATION_LOCK = 0x54545244
"""``pg_advisory_xact_lock`` key held while a database is created or migrated (``TTRD``)."""
CONNECT_TIMEOUT = 5
"""Seconds to wait for the server at start: an unreachable host is one line, not a hang."""

_translated: dict[str, str] = {}


def pg_sql(sql: str) -> str:
    """SQLite-style ``?`` marks as psycopg's ``%s`` (a literal ``%`` doubled), cached."""
    done = _translated.get(sql)
    if done is None:
        done = _translated[sql] = sql.replace("%", "%%").replace("?", "%s")
    return done


class PgAuditDatabase(PostgresqlDatabase):
    """peewee's PostgreSQL database (psycopg 3) as the audit store: ``?`` statements accepted,
    SQLite lock types ignored, floats stored as double precision (peewee's default ``REAL`` is
    single precision: an equity of 1,234,567.89 came back as 1,234,567.9)."""

    field_types: ClassVar[dict[str, str]] = {
        **PostgresqlDatabase.field_types,
        "FLOAT": "DOUBLE PRECISION",
    }
    is_postgres = True

    def __init__(self, url: PgUrl, **kwargs: Any) -> None:
        self.url = url
        super().__init__(
            url.dsn,
            prefer_psycopg3=True,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="tui-trader",
            autoconnect=True,
            thread_safe=True,
            **kwargs,
        )

    def __repr__(self) -> str:
        """Never the DSN (it may hold a password)."""
        return f"PgAuditDatabase({self.url})"

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        """Run ``sql`` (``?`` or ``%s`` marks)."""
        if "?" in sql:
            sql = pg_sql(sql)
        return super().execute_sql(sql, params)

    def begin(self, isolation_level: Any = None) -> None:
        """``BEGIN``; SQLite's ``IMMEDIATE``/``DEFERRED`` lock types mean nothing here."""
        super().begin(isolation_level if isinstance(isolation_level, int) else None)

    def raw(self, sql: str, params: Any = ()) -> Any:
        """Run one statement on the connection; its cursor (the hot path's shortcut)."""
        cursor = self.cursor()
        with _errors():
            cursor.execute(pg_sql(sql), params)
        return cursor

    def raw_many(self, sql: str, rows: list[Any]) -> None:
        """Run one statement for each of ``rows`` (psycopg pipelines them)."""
        with _errors():
            self.cursor().executemany(pg_sql(sql), rows)

    def connection_in_transaction(self) -> bool:
        """True while the server holds an open (or failed) transaction for this connection."""
        if self.is_closed():
            return False
        from psycopg.pq import TransactionStatus

        status = self.connection().pgconn.transaction_status
        return status in (TransactionStatus.INTRANS, TransactionStatus.INERROR)

    def rollback(self) -> None:
        """Roll back; a connection the server dropped has nothing left to roll back."""
        try:
            super().rollback()
        except (InterfaceError, OperationalError):
            if self.is_connection_usable():
                raise


class _errors:
    """psycopg's own errors as peewee's (what the rest of the store catches)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc is None:
            return False
        import psycopg

        if isinstance(exc, psycopg.OperationalError):
            raise OperationalError(str(exc)) from exc
        if isinstance(exc, psycopg.InterfaceError):
            raise InterfaceError(str(exc)) from exc
        if isinstance(exc, psycopg.Error):
            raise DatabaseError(str(exc)) from exc
        return False


def store_lost(db: object, exc: BaseException) -> bool:
    """True if ``exc`` came from a PostgreSQL store whose connection is gone (the server went
    away, restarted, or ended this backend): what was committed before stays on the server."""
    if not is_postgres(db) or not isinstance(exc, OperationalError | InterfaceError):
        return False
    conn = getattr(getattr(db, "_state", None), "conn", None)
    return conn is None or bool(getattr(conn, "broken", False) or getattr(conn, "closed", False))


def lost_message(db: Any, exc: BaseException) -> str:
    """The one line a user reads when the PostgreSQL store went away mid-session."""
    cause = " ".join(str(exc).split())[:160] or type(exc).__name__
    return (
        f"lost the audit store {db.url} ({cause}): trading halted, no order sent without its "
        "row; the rows written before are kept on the server"
    )


def reconnect(db: Any) -> bool:
    """Drop a broken connection and open a fresh one; ``False`` if the server is still gone."""
    try:
        db.close()
    except Exception:  # a broken connection may refuse to close cleanly; it is dropped anyway
        db._state.reset()
    try:
        db.connect(reuse_if_open=True)
    except Exception:
        return False
    return True


def is_postgres(db: object) -> bool:
    """True for the PostgreSQL audit store."""
    return bool(getattr(db, "is_postgres", False))
