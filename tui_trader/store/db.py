"""Opening the audit database: one SQLite file in WAL mode, shared by threads and processes.

WAL lets the history browser and the monitor read while a session writes; each thread gets its
own connection (peewee's default), which is why the database is always a file and never
``:memory:``.

Durability: ``synchronous=normal`` keeps commits cheap and survives a killed process (kill -9)
with every committed row, but an OS crash or a power loss may take the last commits with it.
A session on a broker that outlives the process (Alpaca, paper or live) opens the store
``durable``: the commit of each order row, made before its order is sent, runs with
``synchronous=full`` (``AuditDatabase.execute_durably``), so it is on disk before the broker
hears of the order, and with it every commit made before it (they are earlier in the same
write-ahead log); so does the write of a halt into the account's risk state
(``AuditDatabase.durably``), or the next start would trade as if it had never halted. Its other
commits stay ``normal``: an fsync for every commit of a cycle (the fills, the
acknowledgements, the heartbeat, the snapshot) cost about ten per order. Local
simulated sessions and replays keep ``normal`` throughout: their account dies with the process,
and a replay's speed matters.

Before anything is written, ``check_database`` (``store.ownership``) decides the file is ours and
whole: another program's file, a newer schema or a damaged file is refused and left as it was.
Then ``store.migrations`` brings it to the current schema. A new file is created 0600 (its
``-wal`` and ``-shm`` take the same mode). Every write transaction begins ``IMMEDIATE``: a
deferred one that reads first and then writes cannot wait for another process's write lock
(SQLite answers "database is locked" at once instead of calling the busy handler).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from peewee import DatabaseError, SqliteDatabase

from tui_trader.security.private_files import create_private_file
from tui_trader.store.migrations import MigrationError, migrate
from tui_trader.store.models import database
from tui_trader.store.ownership import check_database
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.sqlite_errors import disk_full_message, is_disk_full, is_read_only

_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "cache_size": -2_000,
}
"""2 MB of page cache per connection: the audit log is written once and read back in pages, so
a bigger cache bought no speed here, and it made a day-long session's memory climb (issue 8)."""
DURABLE = "PRAGMA synchronous=full"
NOT_DURABLE = "PRAGMA synchronous=" + str(_PRAGMAS["synchronous"])
"""A durable commit's setting, and the connection's usual one back after it."""

CHECKPOINT_EVERY_S = 1.0
"""Seconds between a live session's checkpoints (``AuditDatabase.checkpoint``): every cycle
on one-minute bars; about once a second when cycles follow each other (the sandbox benchmark),
where a checkpoint per cycle, an fsync each, slowed the next cycles' requests."""

SAVEPOINT = "SAVEPOINT tt_cycle"
RELEASE = "RELEASE SAVEPOINT tt_cycle"
ROLLBACK_TO = "ROLLBACK TO SAVEPOINT tt_cycle"
"""A batched replay cycle's savepoint statements (``store.batching``)."""
_WANTED = "wanted"
_OPEN = "open"


class StoreError(Exception):
    """The database cannot be opened or written: the session must not trade without its audit."""


class AuditFullError(StoreError):
    """The disk (or the database's size limit) is full: the audit trail cannot be written."""


class AuditDatabase(SqliteDatabase):
    """peewee's SQLite database, with write transactions that wait their turn and a rollback
    that does not hide the error that caused it.

    After some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM) SQLite has already rolled the
    transaction back; a second ``ROLLBACK`` would fail with "cannot rollback - no transaction
    is active" and that message, not the real cause, would reach the user.

    A batched replay cycle's savepoint is set only when the cycle first writes (or reads):
    ``raw(SAVEPOINT)`` marks it wanted, the cycle's first statement sends it, and its release
    or rollback is sent only if it was. Most replay cycles write nothing (no order, no fill,
    no snapshot due); their two statements were a tenth of a crossover replay's time. A
    cycle that writes rolls back to a savepoint set just before its first write: the same
    rows undone. The mark is per thread (peewee's connection state), like the connection.
    PostgreSQL does the same (``store.pg``)."""

    durable = False
    """Order rows must reach the disk before their orders are sent (``execute_durably``)."""

    def execute_durably(self, sql: str, params: Any = None) -> Any:
        """Run one statement whose commit must be on disk when this returns (an order row,
        before its order is sent): ``synchronous=full`` for that commit, on a durable store.
        The write-ahead log is synced whole, so every commit before it is on disk too. Inside
        a transaction (no session on a broker that outlives it writes one there: its rows
        commit one by one) the setting cannot change, and the transaction's commit decides."""
        if not self.durable:
            return self.execute_sql(sql, params)
        conn = self.connection()
        if conn.in_transaction:
            return self.execute_sql(sql, params)
        conn.execute(DURABLE)
        try:
            return self.execute_sql(sql, params)
        finally:
            conn.execute(NOT_DURABLE)

    @contextlib.contextmanager
    def durably(self, always: bool = False) -> Iterator[None]:
        """Commit the transaction opened inside durably (``synchronous=full``) on a durable
        store, or on any store with ``always`` (a halt from the fleet, whose store may be a
        local desk's): a halt's write, which the next start must find even after a power
        loss. Inside an open transaction the setting cannot change (its own commit decides)."""
        conn = self.connection() if self.durable or always else None
        if conn is None or conn.in_transaction:
            yield
            return
        conn.execute(DURABLE)
        try:
            yield
        finally:
            conn.execute(NOT_DURABLE)

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        """Run ``sql``, after the cycle's savepoint if one is wanted and not yet set."""
        if getattr(self._state, "tt_savepoint", None) == _WANTED:
            self._open_savepoint()
        return super().execute_sql(sql, params)

    def rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already done so."""
        if not self.is_closed() and not self.connection().in_transaction:
            return
        super().rollback()

    def raw(self, sql: str, params: Any = ()) -> Any:
        """Run one statement straight on the connection; its cursor (the hot path's shortcut:
        peewee's ``execute_sql`` costs more than a small write). The cycle's savepoint
        statements are sent only when the cycle writes (``_open_savepoint``)."""
        state = self._state
        mark = getattr(state, "tt_savepoint", None)
        if sql == SAVEPOINT:
            state.tt_savepoint, state.tt_closing = _WANTED, False
            return None
        if sql in (RELEASE, ROLLBACK_TO):
            if sql == RELEASE:
                state.tt_savepoint = None
            if mark != _OPEN:
                return None
        elif mark == _WANTED:
            self._open_savepoint()
        return self.connection().execute(sql, params)

    def raw_many(self, sql: str, rows: list[Any]) -> None:
        """Run one statement for each of ``rows``."""
        if getattr(self._state, "tt_savepoint", None) == _WANTED:
            self._open_savepoint()
        self.connection().executemany(sql, rows)

    def _open_savepoint(self) -> None:
        """Set the cycle's wanted savepoint before its first statement, or skip it when that
        statement alone ends the cycle (``closing_statement``: one statement is atomic, and a
        failure still fails the cycle)."""
        state = self._state
        conn = self.connection()
        if state.tt_closing or not conn.in_transaction:  # outside one, it would begin one
            state.tt_closing = False
            state.tt_savepoint = None
            return
        state.tt_savepoint = _OPEN
        conn.execute(SAVEPOINT)

    def connection_in_transaction(self) -> bool:
        """True while SQLite holds an open transaction (after some errors it rolled back)."""
        return not self.is_closed() and self.connection().in_transaction

    def rows_changed(self, cursor: Any) -> int:
        """How many rows the statement just run on ``cursor`` changed."""
        return int(cursor.rowcount)

    def closing_statement(self) -> None:
        """The next statement alone ends a batched cycle: if the cycle wrote nothing before it,
        it needs no savepoint."""
        self._state.tt_closing = True

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file (passive: it waits for no reader
        or writer), at most once per ``CHECKPOINT_EVERY_S`` and never inside a transaction.
        A remote broker's session calls it once each cycle is over. The first call turns
        SQLite's automatic checkpoint off for this connection: that one runs inside whichever
        commit fills the log to 1,000 pages, with an fsync (20-30 ms here), and fell in the
        commit of an order row just before its order was sent (issue 17)."""
        if self.is_closed():
            return
        conn = self.connection()
        state = self._state
        now = time.monotonic()
        last = getattr(state, "tt_checkpointed", None)
        if last is None:
            conn.execute("PRAGMA wal_autocheckpoint=0")
        elif now - last < CHECKPOINT_EVERY_S:
            return
        if not conn.in_transaction:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            state.tt_checkpointed = now

    def shrink_log(self) -> None:
        """After a write the system refused for the file's size (a file-size limit, a quota),
        copy the write-ahead log into the database and empty it: the log is what grows first
        (up to 1,000 pages before SQLite's own checkpoint), so the session's last rows (its
        halt, its end) fit again. A failure here changes nothing: it was one more try."""
        if self.is_closed():
            return
        try:
            conn = self.connection()
            if not conn.in_transaction:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except Exception:  # the caller's next write says what is wrong
            pass

    def begin_batch(self) -> None:
        """A batch of replay cycles began (nothing to do for SQLite: statements are local)."""

    def end_batch(self, failed: bool = False) -> None:
        """The batch of replay cycles is about to commit (or was abandoned)."""


def locked_message(
    path: Path | str,
    outcome: str = "trading stopped, no order sent without its row",
    holders: str = "",
) -> str:
    """The one line a user reads when another program held the audit database's lock past
    the busy timeout; ``outcome`` says what that stopped. ``holders``: the desk's own sessions
    of the file that look frozen (``store.lock_holders``), named after it with what to do."""
    wait = _PRAGMAS["busy_timeout"] / 1000
    if holders:
        said = f"the audit database {path} stayed locked for more than {wait:g} s"
        return f"{said}: {outcome}; {holders}"
    return (
        f"the audit database {path} stayed locked by another program for more than {wait:g} s:"
        f" {outcome}"
    )


def open_database(path: Path | PgUrl, create: bool = True, durable: bool = False) -> AuditDatabase:
    """Open (and create or migrate the tables of) the audit database at ``path`` (a SQLite file,
    or a PostgreSQL URL: ``store.pg_open``), and bind the models. A file that is not ours, is of
    a newer schema or is damaged raises ``StoreError`` and is left byte for byte as it was.
    ``create`` False never makes a new file (the monitor follows an existing one); an existing
    file of ours is brought to the current schema either way, so that a newer monitor can read
    a file an older release wrote (its new columns are nullable: older writers never name
    them). ``durable``: order rows reach the disk before their orders are sent (a
    broker-backed session: see the module's docstring)."""
    if isinstance(path, PgUrl):
        from tui_trader.store.pg_open import open_pg

        return open_pg(path, create, durable)  # type: ignore[return-value]
    if str(path) == ":memory:":
        raise StoreError("the audit database must be a file (worker threads cannot share memory)")
    path = Path(path)
    problem = check_database(path)
    if problem:
        raise StoreError(problem)
    if create:
        try:
            create_private_file(path)
        except OSError as exc:
            raise StoreError(f"cannot create the database {path}: {exc.strerror}") from None
    db = AuditDatabase(str(path), pragmas=_PRAGMAS, check_same_thread=False, lock_type="IMMEDIATE")
    db.durable = durable
    try:
        _connect(db)
        database.initialize(db)
        _migrate(db, path)
    except (DatabaseError, sqlite3.DatabaseError, MigrationError) as exc:
        db.close()
        if is_disk_full(exc):
            raise AuditFullError(disk_full_message(path)) from exc
        raise StoreError(f"cannot open the database {path}: {exc}") from exc
    return db


def _migrate(db: AuditDatabase, path: Path) -> None:
    """``migrate``, naming a file too old to read that cannot be written here."""
    try:
        migrate(db)
    except (DatabaseError, sqlite3.DatabaseError) as exc:
        if not is_read_only(exc):
            raise
        db.close()
        raise StoreError(
            f"cannot open the database {path}: an older tui-trader wrote it and it must be "
            "brought up to date, but it is read-only here (copy it to a writable folder, or "
            "open it once where it can be written)"
        ) from None


CONNECT_WAIT = 10.0
"""Seconds a new connection waits for another process that holds the file's lock while it
turns the journal to WAL (the same as ``busy_timeout``)."""


def _connect(db: AuditDatabase) -> None:
    """Connect, waiting while another process holds the lock a new file's switch to WAL needs.

    SQLite answers that switch with "database is locked" at once instead of waiting out the
    busy timeout, so sessions started together on a new database (a fleet, a desk and a
    headless run) failed to start; any other error, or the lock held past ``CONNECT_WAIT``,
    is raised as before."""
    deadline = time.monotonic() + CONNECT_WAIT
    pause = threading.Event()
    while True:
        try:
            db.connect(reuse_if_open=True)
            return
        except (DatabaseError, sqlite3.OperationalError) as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        pause.wait(0.02)


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
