"""How a session's decision cycles map onto transactions (the ``AuditLog``'s batching).

A local cycle is one transaction; a remote broker's rows commit one by one (each order row is
durable before the order is sent). A replay may go further with ``commit_every``: cycles then
share one transaction (each cycle a savepoint, so a failed cycle still rolls back alone)
committed every ``commit_every`` cycles or ``commit_seconds``, whichever comes first, and on
``flush``. Within a batch the risk state is written once, at the commit, and other processes'
halt requests are read once per batch (they cannot be written while the batch holds the write
lock anyway). The replay fast path counts its quiet cycles with ``idle_cycles``.

The account's risk state is merged into its shared row (``store.risk_store``), never overwritten:
each cycle when cycles commit one by one (so a halt or reset written by another process is taken
within a cycle), at each commit of a batch. ``_risk_base`` is the row as this log last read or
wrote it, which is how the merge tells this session's changes from everybody else's.
Every transaction begins ``IMMEDIATE``: it takes the write lock first, waiting (busy timeout)
for another process's transaction to end. A deferred one reads (halt requests, risk state) and
then writes; in WAL mode, when another process committed meanwhile, SQLite cannot upgrade it
and answers "database is locked" at once, without waiting: two sessions on one file died so.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from peewee import SqliteDatabase

from tui_trader.core.clock import Clock
from tui_trader.risk.state import RiskState
from tui_trader.store.risk_rows import AccountRiskRows


class CycleTransactions(AccountRiskRows):
    """The transaction side of ``AuditLog``: cycles, batches of cycles, commits."""

    db: SqliteDatabase
    clock: Clock
    session: Any
    commit_before_send: bool
    commit_every: int
    commit_seconds: float
    _batch: Any
    _batched: int
    _batch_started: float
    _poll_halts: bool
    _unsent: dict[str, list[Any]]
    _unsent_events: list[list[Any]]
    _events_kept: int
    _batched_cycle: _BatchedCycle | None
    rollbacks: int
    """Cycles (or batches of cycles) rolled back so far: what the learning journal writes
    again in full after (``store.learning_journal``)."""

    def _write_unsent(self, events: bool = True) -> None:
        """Write the rows a batched cycle kept back, and with ``events`` the risk events its
        batch kept back (the audit log defines it)."""
        raise NotImplementedError

    def _drop_unsent(self, cycle_only: bool = False) -> None:
        """Forget the rows kept back: the failed cycle's, or all (the audit log defines it)."""
        raise NotImplementedError

    def beat(self, force: bool = False, iterations: int | None = None) -> None:
        """Write the session's heartbeat if one is due (the audit log defines it)."""
        raise NotImplementedError

    def _open_batch(self) -> None:
        """Begin a batch's transaction if none is open."""
        if self._batch is None:
            self._batch = self.db.atomic("IMMEDIATE")
            self._batch.__enter__()
            self.db.begin_batch()
            self._batch_started = time.monotonic()
            self._batched = 0

    def cycle(self) -> contextlib.AbstractContextManager[Any]:
        """One decision cycle: a single transaction locally, row-by-row commits for a remote
        broker (so that each order row is durable before it is sent), a savepoint in a batch."""
        if self.commit_before_send:
            return _CommittedCycle(self.db)
        if self.commit_every == 1:
            return _LocalCycle(self)
        cycle = self._batched_cycle  # one for every cycle of the log: it holds no cycle's state
        if cycle is None:
            cycle = self._batched_cycle = _BatchedCycle(self)
        return cycle

    def _end_cycle(self) -> None:
        """A batched cycle succeeded: count it, and commit the batch when it is due."""
        self._batched += 1
        if (
            self._batched >= self.commit_every
            or time.monotonic() - self._batch_started >= self.commit_seconds
        ):
            self.flush()

    def idle_cycles(
        self, count: int, risk_state: Callable[[], RiskState], timed: bool = True
    ) -> None:
        """``count`` cycles that wrote nothing (the replay fast path's quiet bars): they count
        toward the batch's commit cadence like ``cycle`` without a savepoint; ``risk_state``
        gives the state to save when the batch commits. ``timed`` False leaves the
        ``commit_seconds`` check to the next cycle."""
        if self.commit_every == 1 or self.commit_before_send:
            self.save_risk_state(risk_state())
            return
        self._open_batch()
        self._batched += count
        if self._batched >= self.commit_every or (
            timed and time.monotonic() - self._batch_started >= self.commit_seconds
        ):
            self.save_risk_state(risk_state())
            self.flush()

    @property
    def rows_wait_for_cycle_end(self) -> bool:
        """True inside a local cycle's transaction or a batch of cycles: nothing the cycle
        writes is committed before it ends, and a failed cycle rolls back whole, so a row
        written late in the cycle commits the same as one written early (the session writes
        the previous cycle's fills after the new orders have gone out)."""
        return self._batch is not None or self._local_cycles > 0

    @property
    def cycles_before_commit(self) -> int:
        """How many more cycles the current batch takes before it commits (by count)."""
        if self._batch is None:
            return self.commit_every
        return max(self.commit_every - self._batched, 1)

    @property
    def halt_poll_due(self) -> bool:
        """True when the next ``halt_requested`` reads the database (each cycle, or once per
        batch of cycles)."""
        return self.session is not None and (self.commit_every == 1 or self._poll_halts)

    def flush(self) -> None:
        """Commit a batch of cycles now (with the latest risk state); a no-op without one."""
        if self._risk_state is not None:
            state, self._risk_state = self._risk_state, None
            self._risk_merged = (state, self._write_risk(state))
        if self._batch is not None:
            self._write_unsent()  # the batch's risk events, and rows kept back outside a cycle
            self.beat()
            batch, self._batch = self._batch, None
            self.db.end_batch()
            batch.__exit__(None, None, None)
            self._poll_halts = True

    def abandon(self) -> None:
        """Forget the open batch and the rows kept back after a write failed (disk full):
        SQLite may already have rolled the transaction back; whatever is left is rolled back
        now, so the connection is usable for one last write."""
        self._drop_unsent()
        self._risk_state = None
        batch, self._batch = self._batch, None
        self.db.end_batch(failed=True)
        if batch is not None:
            batch.__exit__(RuntimeError, None, None)  # pops it, rolls back what SQLite kept
        while self.db.transaction_depth():
            self.db.pop_transaction()
        if self.db.connection_in_transaction():
            self.db.rollback()


class _CommittedCycle:
    """A remote broker's cycle: its rows commit one by one (each order row before its order
    is sent); once it is over, the write-ahead log is checkpointed into the database file
    (``AuditDatabase.checkpoint``, at most once a second), in place of SQLite's automatic
    checkpoint, which runs in the commit that fills the log to 1,000 pages: between a bar
    and its order."""

    __slots__ = ("db",)

    def __init__(self, db: Any) -> None:
        self.db = db

    def __enter__(self) -> None:
        """Nothing to begin: each row commits as it is written."""

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        """Checkpoint after a cycle that ended well (a failure propagates as it was)."""
        if exc_type is None:
            self.db.checkpoint()


class _LocalCycle:
    """One local decision cycle: one ``IMMEDIATE`` transaction. Its order rows are kept in
    memory while the cycle sends (``AuditLog.order_pending``) and written, with what the
    broker answered, in one statement before the cycle commits: nothing of the cycle is
    committed before its end, the local broker lives and dies with the process, and a failed
    cycle rolls back whole, so the committed rows are the same as writing each row before its
    order, for one statement instead of two per order (a tenth of a millisecond each at 50
    symbols, where the day's first cycle sends dozens of orders in a row)."""

    __slots__ = ("base", "log", "txn")

    def __init__(self, log: CycleTransactions) -> None:
        self.log = log
        self.txn: Any = None
        self.base: RiskState | None = None
        """The account's row as the log knew it before the cycle (``_forget`` puts it back)."""

    def __enter__(self) -> None:
        """Begin the cycle's transaction; order rows wait in memory from now on."""
        self.base = self.log._risk_base
        self.txn = self.log.db.atomic("IMMEDIATE")
        self.txn.__enter__()
        self.log._local_cycles += 1

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        """Write the kept order rows and commit, or roll everything back."""
        log = self.log
        log._local_cycles -= 1
        if log._local_cycles:
            return self.txn.__exit__(exc_type, exc, tb)
        if exc_type is None:
            try:
                # The row must still say running as the cycle commits: a desk suspended inside
                # a cycle and recorded died meanwhile (``store.dead_local``) rolls the cycle
                # back here and stops (``RowEnded``) instead of committing fills and orders
                # after its death; one guarded UPDATE in the same transaction, no commit more.
                log.beat(force=True)
                if log._unsent:
                    log._write_unsent(events=False)
                log._flush_reserved()
            except BaseException as error:
                self._forget()
                self.txn.__exit__(type(error), error, error.__traceback__)
                raise
        else:
            self._forget()
        try:
            return self.txn.__exit__(exc_type, exc, tb)
        except BaseException:  # its commit refused (a disk I/O error): rolled back
            self._forget()
            raise

    def _forget(self) -> None:
        """The cycle rolls back: its kept rows and reserved slots go with it, and so does
        what it merged into the account's row (``AccountRiskRows.risk_rolls_back`` says why)."""
        log = self.log
        log.rollbacks += 1
        log._unsent.clear()
        log._reserved = 0
        log._risk_locked = False
        log._risk_base = self.base


class _BatchedCycle:
    """One cycle inside a batch: a savepoint, so that a failed cycle rolls back alone (raw SQL:
    peewee's savepoints name themselves with a fresh UUID each time). The database sends the
    savepoint only when the cycle first writes (``AuditDatabase``, ``PgAuditDatabase``): a
    cycle that writes nothing costs no statement. A class rather than a generator, and one
    object for all the log's cycles (entered once per cycle, it keeps nothing between them)."""

    __slots__ = ("conn", "log")

    def __init__(self, log: CycleTransactions) -> None:
        self.log = log
        self.conn: Any = None

    def __enter__(self) -> None:
        """Open the batch if needed and set the cycle's savepoint."""
        self.log._open_batch()
        self.conn = self.log.db
        self.conn.raw("SAVEPOINT tt_cycle")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        """Keep the cycle's rows (and count it), or roll them back if it failed."""
        conn = self.conn
        if exc_type is None:
            log = self.log
            if log._unsent:  # order rows; risk events wait for the batch's commit
                try:
                    if len(log._unsent) == 1:
                        conn.closing_statement()  # one atomic statement ends the cycle
                    log._write_unsent(events=False)
                except BaseException:
                    self._roll_back()
                    raise
            log._events_kept = len(log._unsent_events)
            conn.raw("RELEASE SAVEPOINT tt_cycle")
            log._end_cycle()
            return False
        self._roll_back()
        return False

    def _roll_back(self) -> None:
        """Undo the cycle's rows."""
        self.log._drop_unsent(cycle_only=True)
        if not self.conn.connection_in_transaction():  # SQLite rolled the batch back (disk full)
            return
        self.conn.raw("ROLLBACK TO SAVEPOINT tt_cycle")
        self.conn.raw("RELEASE SAVEPOINT tt_cycle")
