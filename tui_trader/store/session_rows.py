"""The session's own row: opened with its process id, host and first heartbeat, kept alive by
heartbeats, closed with how the session ended (the ``AuditLog``'s session side).

The row records the process that runs the session for good (pid, start time, boot id:
``store.process_identity``). Each heartbeat is stamped on the wall clock, whatever clock the
session runs on (a replay's clock may be the bars' time), and on the machine's boot clock
(``/proc/uptime``): readers on another machine compare the first with their own wall clock,
readers on this one age the second, which no wall-clock step moves (``store.liveness``).

A heartbeat only updates a row that still says ``running``. A session suspended long enough to
look dead (a laptop lid closed, SIGSTOP) may have been recorded ``died`` by another session's
start (``store.dead_local``), its working orders ``canceled``; when it wakes, its next
heartbeat changes no row and raises ``RowEnded``, so it stops before sending anything that
would contradict the record (no extra round trip: the update's row count tells).

A session that shares its account's request budget (an Alpaca session sets ``on_share``) is
told at its start and at each heartbeat written how many sessions live on its account (its
own included, others by ``store.liveness``): one read of the account's ``running`` rows, at
most once a second, instead of a database round trip per HTTP request.

What the account's other sessions' rows say (alive, running, dead at start) is
``store.other_sessions``'s, a mixin of this.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import peewee
from peewee import SqliteDatabase

from tui_trader.core.clock import Clock, WallClock
from tui_trader.core.domain import RiskEvent
from tui_trader.core.order_ids import tagged_key
from tui_trader.core.waiting import HeartbeatStop
from tui_trader.store import store_identity
from tui_trader.store.clock_watch import ClockWatch
from tui_trader.store.db import from_db_time, to_db_time
from tui_trader.store.file_identity import FileIdentity
from tui_trader.store.liveness import BEAT_SECONDS, MIN_WINDOW, store_now, this_host
from tui_trader.store.models import SessionRow
from tui_trader.store.other_sessions import OtherSessions
from tui_trader.store.process_identity import own_identity, uptime
from tui_trader.store.statements import db_time
from tui_trader.store.upgraded import upgraded_under_us

ASIDE_WAIT_S = 10.0
"""Seconds a heartbeat written from aside (``_beat_from_aside``) waits for a busy store at
most, however far its request's deadline: SQLite's busy timeout (``store.db``)."""


class RowEnded(HeartbeatStop):
    """This session's row can no longer be kept: another process recorded it ended (``died``)
    while this one was suspended, or its SQLite file was deleted or replaced under it
    (``store.file_identity``), or a newer release upgraded the store (``store.upgraded``).
    The message says so in plain words. Raised by a heartbeat inside a broker's request (a
    wait there beats: ``core.waiting``), the broker passes it on (``HeartbeatStop``)."""


class StoreFileLost(RowEnded):
    """The ``RowEnded`` of a SQLite file deleted or replaced under the session, or its log or
    the log's index (``store.file_identity``): the store is lost, no other desk took the
    session's orders over, so the desk cancels its working orders as it stops
    (``session.store_endings.end_on_row_ended``)."""


class SessionRows(OtherSessions):
    """Opening, heartbeating and closing the session row."""

    db: SqliteDatabase
    clock: Clock
    session: SessionRow | None
    _last_beat: float
    _version_seen = float("-inf")
    """When the store's schema version was last read (``store.upgraded``): never, at first."""
    _ended_here = False
    """True once ``end_session`` wrote this session's end: later heartbeats write nothing."""
    _file: FileIdentity | None = None
    """The SQLite file the session opened, checked at every heartbeat (``store.file_identity``)."""
    flush: Callable[[], None]
    """Commit a batch of cycles now (``store.batching`` defines it)."""
    commit_before_send: bool
    """A remote broker's session, whose rows commit one by one (``store.audit`` sets it): its
    file is checked at every heartbeat call, before each cycle's orders."""
    heartbeat_window: float = MIN_WINDOW
    """Seconds after its last heartbeat past which other sessions find this one dead."""
    _silence = 0.0
    """The longest time between two of this session's heartbeats since ``mark_reads``."""
    clock_watch: ClockWatch | None = None
    """This desk's clock judged at each heartbeat (``store.clock_watch``): set on an Alpaca
    desk on the wall clock (``session.alpaca``), ``None`` elsewhere (a local desk's account
    is its own)."""
    on_share: Callable[[int], None] | None = None
    """Told the number of live sessions on this session's account (this one included) at its
    start and at each heartbeat written: the request budget's ``share``."""

    def start_session(
        self,
        mode: str,
        broker: str,
        endpoint: str | None,
        data_source: str,
        symbols: tuple[str, ...],
        parameters: dict[str, Any],
        account_key: str | None = None,
    ) -> SessionRow:
        """Create the session row; a local account is keyed by the session itself. The key
        carries the store's tag (``store.store_identity``): a halt on this store after a
        restore from an older backup still knows the session's orders for its own."""
        key = tagged_key(secrets.token_hex(4), store_identity.store_tag(self.db))
        now = to_db_time(self._shared_time())
        me = own_identity()
        self.session = SessionRow.create(
            key=key,
            mode=mode,
            broker=broker,
            endpoint=endpoint,
            data_source=data_source,
            symbols=",".join(symbols),
            parameters=json.dumps(parameters, sort_keys=True, default=str),
            account_key=account_key or f"local:{key}",
            started_at=now,
            pid=os.getpid(),
            host=this_host(),
            heartbeat_at=to_db_time(self._beat_time()),
            heartbeat_window=MIN_WINDOW,
            heartbeat_uptime=uptime(),
            proc_start=me.start if me else None,
            boot_id=me.boot_id if me else None,
        )
        self._last_beat = _since_boot()
        self._version_seen = float("-inf")
        self.note_dead_at_start(self.session.account_key)
        self._iterations: int | None = None
        self._ended_here = False
        self._file = FileIdentity.of(self.db)
        self._tell_share()
        return self.session

    def set_heartbeat_window(self, seconds: float) -> None:
        """Store how long after its last heartbeat this session counts as dead."""
        self.heartbeat_window = float(seconds)
        if self.session is None:
            return
        self.db.execute_sql(
            'UPDATE "sessions" SET "heartbeat_window" = ? WHERE "id" = ?',
            (float(seconds), self.session.id),
        )

    def beat(self, force: bool = False, iterations: int | None = None) -> None:
        """Write the session's heartbeat, at most once a second (``store.liveness``): inside
        the cycle's transaction when called from a cycle, so it costs no commit of its own.

        A cycle passes its count too, and every later heartbeat writes the latest count, so a
        session that dies without ending (kill -9, a lost machine) still shows how many cycles
        it ran, as of its last heartbeat.

        Raises ``RowEnded`` when the row no longer says ``running`` (another start recorded
        this session dead while it was suspended), or when the SQLite file's path names
        another file or none, or its log or the log's index was deleted or replaced
        (``store.file_identity``: three ``stat`` calls, about 3 us). That is checked whenever
        a heartbeat is written, which a local cycle forces as it commits, and at every call on
        a remote broker's session (before each cycle's orders are sent); a batched replay
        checks about once a second, as it beats. Also when a newer release upgraded the store
        under the session (``store.upgraded``), read with a heartbeat at most once a second."""
        if self.session is None or self._ended_here:
            return
        if iterations is not None:
            self._iterations = iterations
        now = _since_boot()
        due = force or now - self._last_beat >= BEAT_SECONDS
        postgres, watch = getattr(self.db, "is_postgres", False), self.clock_watch
        if watch is not None and not (due and postgres):  # (else the server's time judges)
            watch.glance()  # this machine's clock, for nothing, at every call
        if self._file is not None and (due or self.commit_before_send):
            moved = self._file.changed()
            if moved is not None:
                raise StoreFileLost(moved)
        if not due:
            return
        if now - self._version_seen >= BEAT_SECONDS:  # ~7 us a look: once a second is enough
            self._version_seen = now
            newer = upgraded_under_us(self.db)
            if newer is not None:
                raise RowEnded(newer)
        if now - self._last_beat > self._silence:
            self._silence = now - self._last_beat
        self._last_beat = now
        iterations = self._iterations
        args: tuple[object, ...] = ()
        if postgres:  # the server's clock: one for all machines
            beat = "(clock_timestamp() AT TIME ZONE 'UTC')"
        else:
            beat, args = "?", (db_time(_wall_now()),)
        sets = f'"heartbeat_at" = {beat}, "heartbeat_uptime" = ?'
        args += (uptime(),)
        if iterations is not None:
            sets += ', "iterations" = ?'
            args += (iterations,)
        sent = watch.before() if watch is not None else 0.0
        returning = ' RETURNING "heartbeat_at"' if postgres and watch is not None else ""
        cursor = self.db.execute_sql(
            f'UPDATE "sessions" SET {sets} WHERE "id" = ? AND "status" = \'running\'{returning}',
            (*args, self.session.id),
        )
        if not self.db.rows_changed(cursor):
            raise RowEnded(self._ended_under_us())
        if returning:  # the heartbeat's own server time: the clock's check costs no statement
            assert watch is not None
            watch.server_read(sent, from_db_time(cursor.fetchone()[0]))
        self._tell_share()

    def beat_waiting(self) -> None:
        """The heartbeat of a wait inside a cycle (``core.waiting``: the request budget, a
        read's retries, a stop's cancel), at most once a second as ``beat`` writes it; only
        outside a transaction, where it commits at once and other desks see it. A remote
        broker's session, whose rows commit one by one, waits there. Inside a local cycle's
        (or a replay batch's) transaction a heartbeat would be seen only at its commit, which
        writes one anyway; and a local cycle waits for no broker.

        A heartbeat the store refuses here (busy past its timeout, a connection dropped for a
        moment) is not raised: the wait sits inside a broker call, between a protective stop's
        cancel and the order it was cancelled for, and raised there it left the position with
        no stop and the order neither sent nor followed. The wait goes on unbeaten, as before
        waits beat: ``silent_for`` still counts from the last heartbeat written (what the desk
        read is judged by it), and the cycle's next write meets a store still failing. A row
        recorded ended (``RowEnded``) still ends the wait."""
        if self.db.in_transaction():
            return
        last, silence = self._last_beat, self._silence
        try:
            self.beat()
        except peewee.PeeweeException:
            self._last_beat, self._silence = last, silence

    def beat_aside(self) -> Callable[[float], None] | None:
        """On the session's thread, as one broker request is about to block it: the heartbeat
        the request's watchdog may write from its own thread (and connection) while it blocks
        (``brokers.request_deadline``); None inside an open transaction, where a heartbeat
        would be seen only at the commit (as ``beat_waiting``), or once the session ended."""
        if self.session is None or self._ended_here or self.db.in_transaction():
            return None
        return self._beat_from_aside

    def _beat_from_aside(self, within: float) -> None:
        """The heartbeat written from the watchdog's thread while the session's thread blocks
        in a request (which holds it back from going on meanwhile). Nothing it meets is raised
        there: a store error as in ``beat_waiting``, and a row recorded ended (``RowEnded``)
        leaves the heartbeat due, so the session's own next one, on its own thread, meets it
        and stops the session. The watchdog's connection is closed after each heartbeat: it
        is not kept open on a thread the session does not own.

        It waits for a store busy with another connection's write (SQLite's write lock, a
        PostgreSQL row lock) ``within`` seconds at most, the time left to the first deadline
        of the requests in flight (this one's, or another desk's in the process): the watchdog
        cuts a request only after it, and the request's thread goes on only after it too.
        Before, it waited SQLite's whole busy timeout (10 s), and so did the request, whatever
        its deadline said."""
        last, silence = self._last_beat, self._silence
        try:
            self._wait_at_most(within)
            self.beat()
        except (peewee.PeeweeException, RowEnded):
            self._last_beat, self._silence = last, silence
        finally:
            self.db.close()

    def _wait_at_most(self, seconds: float) -> None:
        """This thread's connection waits ``seconds`` at most (``ASIDE_WAIT_S`` at the most)
        for a lock another connection holds; it is closed after the heartbeat, and the
        setting with it."""
        ms = max(int(min(seconds, ASIDE_WAIT_S) * 1000), 1)  # 0 would mean "no limit" on PG
        if getattr(self.db, "is_postgres", False):
            self.db.execute_sql(f"SET statement_timeout = {ms}")
        else:
            self.db.connection().execute(f"PRAGMA busy_timeout = {ms}")

    def mark_reads(self) -> None:
        """The session reads the account now (``engine.claims.begin``): ``silent_for`` counts
        from here."""
        self._silence = 0.0

    def silent_for(self) -> float:
        """The longest time, on the boot clock, this session went without a heartbeat since
        ``mark_reads`` (the time since its last one included, and the gap that ended at its
        first heartbeat after the mark). Past ``heartbeat_window`` other sessions may have
        found it dead meanwhile (``store.liveness``) and taken its symbols over: what it read
        is stale. A process stopped, suspended or stalled runs no code; this is how it sees,
        once it runs again, that it was."""
        return max(self._silence, _since_boot() - self._last_beat)

    def clock_hold(self) -> str | None:
        """Why new orders wait for this machine's clock (``store.clock_watch``), or ``None``."""
        return None if self.clock_watch is None else self.clock_watch.hold()

    def clock_events(self) -> list[RiskEvent]:
        """The clock's holds and resumes found since last asked, to be written."""
        return [] if self.clock_watch is None else self.clock_watch.take_events()

    def _tell_share(self) -> None:
        """Tell ``on_share`` how many sessions live on this account now (this one included)."""
        if self.on_share is not None and self.session is not None:
            self.on_share(1 + len(self._others_alive(self.session.account_key)))

    def _ended_under_us(self) -> str:
        """Why this session stops: its row was recorded ended by another process."""
        assert self.session is not None
        row = SessionRow.get_or_none(SessionRow.id == self.session.id)
        status = row.status if row is not None else "deleted"
        why = (
            f"this session ({self.session.key}) was recorded {status} by another session's "
            "start while it was suspended or not answering (its heartbeat went stale), and "
        )
        if self.session.mode == "local":
            return (
                why
                + "its working orders were recorded canceled; it stops now and sends no more orders"
            )
        # an account at a broker: the other session follows its orders now
        return why + (
            "that session took its open orders over; it stops now and records and sends "
            "nothing more"
        )

    def _beat_time(self) -> datetime:
        """The time a heartbeat is stamped with: the PostgreSQL server's (one clock for every
        machine on the store), else this machine's wall clock."""
        if getattr(self.db, "is_postgres", False):
            return store_now(self.db)
        return _wall_now()

    def _shared_time(self) -> datetime:
        """The time a session's start and end are written with: other desks compare them with
        heartbeats (``store.lost_rows``), so on PostgreSQL the server's clock, as heartbeats'
        (before, this machine's: up to 5 s apart, a clock stepped since the start more);
        the session's own clock elsewhere (a replay's may be the bars')."""
        if getattr(self.db, "is_postgres", False) and isinstance(self.clock, WallClock):
            return store_now(self.db)
        return self.clock.now()

    def end_session(self, status: str, iterations: int) -> None:
        """Mark how the session ended (committing any batch first). A row another process
        already recorded ended (``died``: a heartbeat went stale during the session's last
        writes) is left as it says, and ``RowEnded`` says so: the session's end is then that
        record's, not ``status`` (before, the desk said "session completed" of a row recorded
        ``died``, and then "failed")."""
        self.flush()
        if self.session is None or self._ended_here:
            return
        changed = (
            SessionRow.update(
                ended_at=to_db_time(self._shared_time()), status=status, iterations=iterations
            )
            .where((SessionRow.id == self.session.id) & (SessionRow.status == "running"))
            .execute()
        )
        self._ended_here = True
        if not changed:
            raise RowEnded(self._ended_under_us())


def _since_boot() -> float:
    """Seconds on a clock that also counts time suspended (Linux ``CLOCK_BOOTTIME``; the
    monotonic clock elsewhere): the first heartbeat after a laptop's suspend is due at once,
    and so is its check that the row still says ``running``. On the monotonic clock, which
    stops while suspended, a session suspended within a second of its last heartbeat woke
    with no heartbeat due and sent its cycle's orders unchecked."""
    return time.clock_gettime(_BOOT_CLOCK)


_BOOT_CLOCK = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def _wall_now() -> datetime:
    """The wall-clock time a heartbeat is stamped with."""
    return datetime.now(UTC)
