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

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import peewee
from peewee import InterfaceError, InternalError, OperationalError, PostgresqlDatabase

from tui_trader.store.pg_budget import AnswerBy
from tui_trader.store.pg_url import PgUrl

META_TABLE = "tui_trader_meta"
"""The store's own key-value table: on PostgreSQL the stand-in for SQLite's ``application_id``
and ``user_version`` header marks; on both engines the store's identity
(``store.store_identity``)."""
MIGRATION_LOCK = 0x54545244
"""``pg_advisory_xact_lock`` key held while a database is created or migrated (``TTRD``)."""
CONNECT_TIMEOUT = 5
"""Seconds to wait for the server at start: an unreachable host is one line, not a hang."""
IDLE_IN_TRANSACTION = 20.0
"""Seconds the server lets one of our connections sit idle inside a transaction before it ends
that connection (``idle_in_transaction_session_timeout``). A desk frozen mid-transaction
(SIGSTOP, a suspended laptop, a hung process) holding its account's risk-state row kept every
other session on the account, and the fleet's kill switch, waiting on that row (past their
statement deadline, ``store.pg_deadline``: a halt that could not be written). Now its locks go
after this long and its unfinished transaction is rolled back (an order's row commits before
the order is sent, so nothing sent loses its row); when it wakes, its connection is gone and
it stops as on a lost store. Our transactions never idle for long: statements follow each other
as fast as the desk computes."""
LOCK_WAIT = 25.0
"""Seconds the server lets one of our statements wait for a lock another connection holds
(``lock_timeout``) before it cancels the statement with SQLSTATE 55P03, which the desk says as
a store locked by another connection (``store.pg_refusals``). A ``psql`` session left inside
``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`` (or a ``VACUUM FULL``, an ``ALTER TABLE``) made the
desk's next write wait until the client's own deadline (``store.pg_deadline``, 30 s), which
closed the connection and said the server did not answer: it had, and the line sent the reader
to the server instead of to the transaction holding the lock. Longer than
``IDLE_IN_TRANSACTION``, so a halt waiting for a frozen desk's row still gets it when the
server ends that desk's transaction; shorter than the client's deadline, so the server's
words come first and the connection stays up to write the halt."""

SAVEPOINT = "SAVEPOINT tt_cycle"
RELEASE = "RELEASE SAVEPOINT tt_cycle"
ROLLBACK_TO = "ROLLBACK TO SAVEPOINT tt_cycle"
"""A batched cycle's savepoint statements (``store.batching``)."""
_WANTED = "wanted"
_OPEN = "open"

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

    def __init__(self, url: PgUrl, durable: bool = False, **kwargs: Any) -> None:
        self.url = url
        self.durable = durable
        """Commits must survive a power loss (a broker-backed session): ``synchronous_commit``
        is turned back on for each connection if the server, database or role turned it off."""
        self._pipeline: Any = None
        """The pipeline's context manager while a batch is open; ``_pipe`` the pipeline."""
        self._pipe: Any = None
        self._savepoint: str | None = None
        """``None``, ``_WANTED`` (a cycle began: send it before its first write), ``_OPEN``."""
        self._closing = False
        self.answer_by = AnswerBy()
        """The time every wait of its connections ends by, when set (``store.pg_budget``)."""
        # Imported here, not when this module loads: it loads psycopg (``store.pg_driver``).
        from tui_trader.store.pg_deadline import AnsweringAdapter

        self.psycopg3_adapter = AnsweringAdapter
        """Connections whose every wait for the server has a deadline (``store.pg_deadline``)."""
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

    def execute_durably(self, sql: str, params: Any = None) -> Any:
        """Run one statement whose commit must be durable: every commit of a durable store's
        connection is (``synchronous_commit``), so this is ``execute_sql``."""
        return self.execute_sql(sql, params)

    @contextlib.contextmanager
    def durably(self, always: bool = False) -> Iterator[None]:
        """Commit what runs inside durably: every commit of a durable store's connection is
        (``synchronous_commit``), so this changes nothing (``AuditDatabase.durably``). With
        ``always`` on a store that is not durable (a halt from the fleet), a server setting
        of ``off`` is overridden for the transaction opened inside, then restored."""
        if self.durable or not always or self.in_transaction():
            yield
            return
        conn = self.connection()
        was = conn.execute("SHOW synchronous_commit").fetchone()[0]
        if was != "off":
            yield
            return
        conn.execute("SET synchronous_commit = on")
        try:
            yield
        finally:
            if not conn.closed:  # a connection lost meanwhile: its error is the one to raise
                conn.execute("SET synchronous_commit = off")

    def _initialize_connection(self, conn: Any) -> None:
        """A durable store's new connection commits durably: ``synchronous_commit`` defaults
        to on, and the desk never turns it off; a server, database or role setting of ``off``
        (commits acknowledged before they reach the disk) is overridden for this connection.
        Any other value (``local``, ``remote_write``, ``remote_apply``) already waits for the
        server's own disk and is left as the administrator chose.

        Every connection has the ``IDLE_IN_TRANSACTION`` and ``LOCK_WAIT`` limits, and
        READ COMMITTED whatever the database's or the role's default (``READ_COMMITTED``)."""
        conn.execute(READ_COMMITTED)
        idle = int(IDLE_IN_TRANSACTION * 1000)
        conn.execute(f"SET idle_in_transaction_session_timeout = {idle}")
        conn.execute(f"SET lock_timeout = {int(LOCK_WAIT * 1000)}")
        if not self.durable:
            return
        if conn.execute("SHOW synchronous_commit").fetchone()[0] == "off":
            conn.execute("SET synchronous_commit = on")  # autocommit: for the whole connection

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        """Run ``sql`` (``?`` or ``%s`` marks)."""
        if self._savepoint == _WANTED:
            self._open_savepoint()
        if "?" in sql:  # our own statements, read at once: one cursor serves them all
            cursor = self._hot_cursor()
            with peewee.__exception_wrapper__:
                cursor.execute(pg_sql(sql), params or ())
            return cursor
        return super().execute_sql(sql, params)

    def _hot_cursor(self) -> Any:
        """This thread's cursor for the hot statements (a new psycopg cursor per statement
        cost ~35 us, a fifth of a pipelined insert)."""
        state = self._state
        if state.closed:
            self.connect()
        cursor = getattr(state, "tt_cursor", None)
        if cursor is None or cursor.closed or cursor.connection is not state.conn:
            cursor = state.tt_cursor = state.conn.cursor()
        return cursor

    def begin(self, isolation_level: Any = None) -> None:
        """``BEGIN``; SQLite's ``IMMEDIATE``/``DEFERRED`` lock types mean nothing here."""
        super().begin(isolation_level if isinstance(isolation_level, int) else None)

    def raw(self, sql: str, params: Any = ()) -> Any:
        """Run one statement on the connection; its cursor (the hot path's shortcut). The
        cycle's savepoint statements are sent only when the cycle writes (``_open_savepoint``)."""
        if sql == SAVEPOINT:
            self._savepoint, self._closing = _WANTED, False
            return None
        if sql in (RELEASE, ROLLBACK_TO):
            opened = self._savepoint == _OPEN
            if sql == RELEASE:
                self._savepoint = None
            if not opened:
                return None
        elif self._savepoint == _WANTED:
            self._open_savepoint()
        cursor = self._hot_cursor()
        with peewee.__exception_wrapper__:
            cursor.execute(pg_sql(sql), params)
        return cursor

    def raw_many(self, sql: str, rows: list[Any]) -> None:
        """Run one statement for each of ``rows`` (psycopg pipelines them)."""
        if self._savepoint == _WANTED:
            self._open_savepoint()
        with peewee.__exception_wrapper__:
            self._hot_cursor().executemany(pg_sql(sql), rows)

    def rows_changed(self, cursor: Any) -> int:
        """How many rows the statement just run on ``cursor`` changed (in a pipeline, after
        waiting for its answer)."""
        if self._pipeline is not None:
            with peewee.__exception_wrapper__:
                self._pipe.sync()
        return int(cursor.rowcount)

    def closing_statement(self) -> None:
        """The next statement alone ends the cycle: if the cycle wrote nothing before it, it
        needs no savepoint (one statement is atomic; a failure still fails the cycle)."""
        self._closing = True

    def _open_savepoint(self) -> None:
        """Send the cycle's savepoint before its first write (or skip it for a lone closing
        statement). A batched replay cycle that writes one order row thus costs one statement
        instead of three (savepoint, insert, release), each a ~150 us client round trip."""
        if self._closing:
            self._closing = False
            return
        self._savepoint = _OPEN
        with peewee.__exception_wrapper__:
            self._hot_cursor().execute(SAVEPOINT)

    def connection_in_transaction(self) -> bool:
        """True while the server holds an open (or failed) transaction for this connection."""
        if self.is_closed():
            return False
        from psycopg.pq import TransactionStatus

        status = self.connection().pgconn.transaction_status
        busy = (TransactionStatus.INTRANS, TransactionStatus.INERROR, TransactionStatus.ACTIVE)
        return status in busy

    def checkpoint(self) -> None:
        """Nothing to do: the server checkpoints its own log (``store.db``'s SQLite does not)."""

    def begin_batch(self) -> None:
        """A batch of replay cycles began: pipeline its statements (psycopg sends them without
        waiting for each answer; a read such as ``RETURNING`` waits for what came before).
        Each statement's round trip, not the server, bounded a batched replay at ~640 orders/s
        on loopback; an error shows at the batch's end, which then fails whole (nothing of it
        is committed)."""
        if self._pipeline is None:
            self._pipeline = self.connection().pipeline()
            self._pipe = self._pipeline.__enter__()

    def end_batch(self, failed: bool = False) -> None:
        """Leave pipeline mode before the commit (an error still queued is raised here)."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return
        if failed:
            with contextlib.suppress(Exception):
                pipeline.__exit__(RuntimeError, RuntimeError("batch abandoned"), None)
            return
        with peewee.__exception_wrapper__:
            pipeline.__exit__(None, None, None)

    def rollback(self) -> None:
        """Roll back; a connection the server dropped (or ended with a command in flight:
        ``store_lost``) has nothing left to roll back."""
        try:
            super().rollback()
        except (InterfaceError, OperationalError) as exc:
            if self.is_connection_usable() and not store_lost(self, exc):
                raise


LOST_SQLSTATES = ("57P01", "57P02", "57P03", "25P03")
"""The server ended this backend: an administrator's terminate or shutdown, a crash restart, a
server that is starting or stopping, this connection idle in a transaction too long (a frozen
process: ``IDLE_IN_TRANSACTION``). Class 08 (a connection exception) means the same."""


def store_lost(db: object, exc: BaseException) -> bool:
    """True if ``exc`` came from a PostgreSQL store whose connection is gone (the server went
    away, restarted, or ended this backend): what was committed before stays on the server.

    The server's goodbye (``terminating connection due to administrator command``) can arrive
    as the answer to a statement before the client has seen the socket close, while psycopg
    does not yet call the connection broken: its SQLSTATE says so first."""
    if not is_postgres(db) or not isinstance(
        exc, OperationalError | InterfaceError | InternalError
    ):
        return False
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    if sqlstate in LOST_SQLSTATES or sqlstate.startswith("08"):
        return True
    if isinstance(exc, InternalError):  # the idle-in-transaction goodbye (25P03) is one
        return False
    conn = getattr(getattr(db, "_state", None), "conn", None)
    if conn is None or bool(getattr(conn, "broken", False) or getattr(conn, "closed", False)):
        return True
    # a statement failed while the connection still has a command in flight (ACTIVE) or its
    # state is unknown: the protocol is out of step, every later statement fails "another
    # command is already in progress" (the server ended the backend mid-pipeline): gone too
    status = getattr(getattr(conn, "info", None), "transaction_status", None)
    return getattr(status, "name", "") in ("ACTIVE", "UNKNOWN")


def lost_cause(exc: BaseException) -> str:
    """Why the store was lost, in the server's or the driver's own words: the message's first
    line, short. The lines after it are the server's context (a ``CONTEXT:`` naming the
    function that ended the connection) or the driver's guesses, not what happened."""
    first = next((line for line in str(exc).splitlines() if line.strip()), "")
    return " ".join(first.split())[:160] or type(exc).__name__


def lost_message(db: Any, exc: BaseException) -> str:
    """The one line a user reads when the PostgreSQL store went away mid-session."""
    cause = lost_cause(exc)
    return (
        f"lost the audit store {db.url} ({cause}): trading halted, no order sent without its "
        "row; the rows written before are kept on the server"
    )


READ_COMMITTED = "SET default_transaction_isolation = 'read committed'"
"""Set on every connection of the desk: its shared rows are written for READ COMMITTED (a
desk's ``UPDATE`` of its account's risk row waits for another desk's commit, then works on the
row that commit left; an order's slot is one conditional ``UPDATE`` on the committed count).
Under ``repeatable read`` or ``serializable``, an administrator's default for the database or
the role, that wait ended in "could not serialize access due to concurrent update": desks of
one account refused at start or stopped as on a lost store, the account halted."""

RECONNECT_WITHIN = 30.0
"""Seconds a session that lost its store keeps trying to reach the server again to write its
halt and its end (``reconnect`` with ``patient``): a restart (``pg_ctl restart``) or a
failover takes a few seconds, and the one try made at once, while the server was still
shutting down, was refused, so the account's next start found it ``active`` and traded. One
heartbeat window (``store.liveness.MIN_WINDOW``): longer, and the desk would write a halt after
other desks had judged it dead."""
RECONNECT_PAUSE = 0.5
"""Seconds between two tries."""


def reconnect(
    db: Any,
    patient: bool = False,
    stop: threading.Event | None = None,
    until: float | None = None,
) -> bool:
    """Drop a broken connection and open a fresh one; ``False`` if the server is still gone
    (with ``patient``: still gone after ``RECONNECT_WITHIN`` seconds of tries, or by ``until``
    on the monotonic clock if given, or ``stop`` set meanwhile: Ctrl+C, the desk's app
    closing)."""
    deadline = time.monotonic() + (RECONNECT_WITHIN if patient else 0.0)
    if patient and until is not None:
        deadline = until
    pause = stop or threading.Event()
    while True:
        try:
            db.close()
        except Exception:  # a broken connection may refuse to close cleanly; dropped anyway
            db._state.reset()
        try:
            db.connect(reuse_if_open=True)
        except Exception:
            if time.monotonic() + RECONNECT_PAUSE > deadline or pause.wait(RECONNECT_PAUSE):
                return False
            continue
        return True


def is_postgres(db: object) -> bool:
    """True for the PostgreSQL audit store."""
    return bool(getattr(db, "is_postgres", False))
