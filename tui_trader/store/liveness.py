"""Is a session still alive? On its own machine the kernel says; elsewhere, its heartbeat.

A running session writes a heartbeat at most about once a second while it works, and while it
waits between cycles. A session counts as alive while its heartbeat is fresh: the window is
``max(30 s, 3 x the cycle interval)``, stored with the session as ``heartbeat_window`` so that
every reader judges it the same way. Each heartbeat is stamped on two clocks:

- ``heartbeat_at``, wall-clock UTC: the PostgreSQL server's clock on a shared store (one clock
  for every machine, whatever theirs say: ``store_now``), the session's own on a SQLite file;
- ``heartbeat_uptime``, the machine's boot clock (``/proc/uptime``), which every process of one
  boot reads alike and no wall-clock step moves.

**Same machine** (the row's host is this one, and it recorded its process identity: pid, start
time and boot id, ``store.process_identity``): wall clocks play no part. The recorded process
gone, exited, its id now another program's, or the machine restarted since: dead at once. The
very process still there (running or stopped): alive while its heartbeat is fresh on the boot
clock. So a desk started with its clock minutes ahead or behind (a clock step, NTP, a process
under libfaketime) neither finds the healthy desks beside it dead nor looks dead to them, and a
desk stopped (SIGSTOP, Ctrl+Z, a hang) or left without writing its end (a full disk) still goes
stale after its window: its process being there is not enough, it must beat. A process of
this boot that ``/proc`` hides from the reader (``hidepid``: another user's) is aged on the boot
clock too.

**Another machine, or no identity** (a row written before identities, no ``/proc``): the pid
check where the host is this one, then the wall-clock heartbeat against the store's time. A
heartbeat older than the window is dead. A heartbeat more than the window in the *future* says
the clock that wrote it is ahead of the reader's (or the reader's stepped back), so its time
proves nothing: such a session is alive only while this reader sees that heartbeat change,
judged on the reader's own monotonic clock: a value seen unchanged for longer than the window
is dead (a first sighting counts as a change). Without this bound a desk killed while its clock
ran a day ahead would look alive for a day. A reader that lives one moment (a report, a start)
sees the first sighting only, so it shows such a session alive: the cautious side (its orders
are left alone, its account counted as traded by another); a reader that lives on (the desk,
the monitor, the fleet screen) sees it die one window after its last heartbeat.

A session row still ``running`` that is not alive is shown as ``died``; reports, the monitor and
start-up reconciliation all use ``is_alive`` and ``shown_status`` from here.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from typing import Any

from tui_trader.store.db import from_db_time
from tui_trader.store.process_identity import Found, look_up, uptime
from tui_trader.store.stored_numbers import shown_process_id, shown_time, shown_whole

MIN_WINDOW = 30.0
"""Seconds: the shortest heartbeat window (a slow disk or a long cycle must not look dead)."""
BEAT_SECONDS = 1.0
"""A session writes its heartbeat at most this often."""
DIED = "died"
"""How reports show a session whose row says ``running`` but whose process is gone."""
_AHEAD_KEPT = 1024
"""How many future heartbeats a reader remembers (the oldest half is forgotten beyond)."""

_ahead_seen: dict[tuple[Any, ...], float] = {}
"""A heartbeat more than the window in the future, by (session, heartbeat): when this reader
first saw that value, on its monotonic clock."""
_monotonic = time.monotonic
"""The reader's own clock for future heartbeats (a test may move it)."""


def window_for(every: float) -> float:
    """The heartbeat window of a session with ``every`` seconds between cycles."""
    return max(MIN_WINDOW, 3.0 * max(every, 0.0))


def this_host() -> str:
    """The name this machine's sessions record as their host."""
    return socket.gethostname()


def _process_exists(pid: int) -> bool:
    """True if a process with ``pid`` exists on this host (it may be another program's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists and is not ours
        return True
    return True


def store_now(db: Any) -> datetime:
    """The time heartbeats are written and judged by: the PostgreSQL server's clock for a
    shared store (one clock for every machine, whatever theirs say), this machine's for a
    SQLite file (one machine)."""
    db = getattr(db, "obj", db)  # the models' proxy: the database bound to it
    if getattr(db, "is_postgres", False):
        row = db.execute_sql("SELECT clock_timestamp() AT TIME ZONE 'UTC'").fetchone()
        return from_db_time(row[0]) or datetime.now(UTC)
    return datetime.now(UTC)


def _window(row: Any) -> float:
    """The row's heartbeat window."""
    return float(row.heartbeat_window or MIN_WINDOW)


def session_pid(row: Any) -> int | None:
    """The row's process id, ``None`` when none is recorded or a hand edit left one that is no
    process id (text, ``inf``, 0 or below, beyond ``pid_t``: noted as such,
    ``shown_process_id``): such a row is judged by its heartbeat, as a row without an identity
    is (``int('xyzzy')`` crashed ``fleet``, ``os.kill(10**15, 0)`` too). Every reader that shows
    or checks a stored pid takes it from here: a negative one given to ``os.kill`` would signal
    a process group."""
    return shown_process_id(row.pid, "sessions", getattr(row, "id", "?"), "pid")


def session_start(row: Any) -> int | None:
    """The row's process start (``proc_start``), ``None`` when none is recorded or a hand edit
    left one nobody can read (noted as ``session_pid`` notes it)."""
    start = getattr(row, "proc_start", None)
    return shown_whole(start, "sessions", getattr(row, "id", "?"), "proc_start")


def _found_here(row: Any) -> Found | None:
    """What this machine's kernel says of the row's process; ``None`` when it is not asked:
    another host, or no (readable) identity recorded."""
    boot, start, pid = getattr(row, "boot_id", None), session_start(row), session_pid(row)
    if not pid or row.host != this_host() or start is None or not boot:
        return None
    return look_up(pid, start, str(boot))


_THIS_BOOT = (Found.THERE, Found.UNKNOWN)
"""What ``look_up`` says of a process of this very boot whose heartbeat the boot clock ages:
there, or hidden from this reader (``/proc`` mounted with ``hidepid``: another user's process;
``look_up`` answers ``REBOOTED`` first for an earlier boot). Without ``/proc`` (also
``UNKNOWN``) there is no boot clock and the wall-clock rule judges. Before, a hidden process
was judged on the wall clock: a reader whose clock stepped ahead found it dead."""


def _boot_clock_age(row: Any) -> float | None:
    """Seconds since the row's last heartbeat on this machine's boot clock (for a process
    ``/proc`` found there); ``None`` if the row or this machine has no such reading."""
    beat, now = getattr(row, "heartbeat_uptime", None), uptime()
    return None if beat is None or now is None else now - float(beat)


def heartbeat_age(row: Any, now: datetime) -> float | None:
    """Seconds since the row's last heartbeat as liveness ages it: on the boot clock for a
    process of this very machine and boot, else on the wall clock against ``now``; ``None``
    without a heartbeat."""
    if row.heartbeat_at is None:
        return None
    if _found_here(row) in _THIS_BOOT:
        age = _boot_clock_age(row)
        if age is not None:
            return age
    seen = last_sign_of_life(row)
    return None if seen is None else (now - seen).total_seconds()


def alive_within(row: Any, seconds: float, now: datetime) -> bool:
    """Whether the session showed a sign of life within the last ``seconds`` (alive now, or
    ended or killed that recently): aged on this machine's boot clock where its process ran
    in this very boot (there, gone or its id reused), else on the wall clock against ``now``;
    a sign of life more than ``seconds`` in the future proves nothing and counts as none."""
    if _found_here(row) in (*_THIS_BOOT, Found.GONE, Found.REUSED):
        age = _boot_clock_age(row)
        if age is not None:
            return age <= seconds
    seen = last_sign_of_life(row)
    return seen is not None and abs((now - seen).total_seconds()) <= seconds


def is_alive(row: Any, now: datetime | None = None) -> bool:
    """True while a session row is ``running`` and its process shows signs of life; ``now``
    (wall clock, for rows judged by ``heartbeat_at``) defaults to the store's time."""
    if row.status != "running":
        return False
    found, pid = _found_here(row), session_pid(row)
    if found in (Found.GONE, Found.REUSED, Found.REBOOTED):
        return False
    if found in _THIS_BOOT:
        age = _boot_clock_age(row)
        if age is not None:
            return age <= _window(row)
    if found is not Found.THERE and (
        pid is not None and row.host == this_host() and not _process_exists(pid)
    ):
        return False
    now = now or store_now(getattr(getattr(row, "_meta", None), "database", None))
    return _fresh_by_wall_clock(row, now)


def _fresh_by_wall_clock(row: Any, now: datetime) -> bool:
    """The heartbeat rule on wall-clock time, bounded for heartbeats in the future."""
    window = _window(row)
    last = last_sign_of_life(row)
    if last is None:
        return False
    age = (now - last).total_seconds()
    if age > window:
        return False
    if -age <= window:
        return True
    return _still_changing(row, last, window)


def _still_changing(row: Any, beat: datetime, window: float) -> bool:
    """For a heartbeat more than the window in the future: True until this reader has seen
    that same value for longer than the window on its own monotonic clock."""
    key = (getattr(row, "id", None), row.host, row.pid, beat)
    now = _monotonic()
    first = _ahead_seen.setdefault(key, now)
    if len(_ahead_seen) > _AHEAD_KEPT:
        for old in list(_ahead_seen)[: _AHEAD_KEPT // 2]:
            if old != key:
                _ahead_seen.pop(old, None)  # another reader thread may have dropped it
    return now - first <= window


def shown_status(row: Any, now: datetime | None = None) -> str:
    """The status a report shows: the row's, or ``died`` for a running row whose process is
    gone."""
    if row.status == "running" and not is_alive(row, now):
        return DIED
    return str(row.status)


def last_sign_of_life(row: Any) -> datetime | None:
    """When the session last showed it was alive (its heartbeat, else its start); a time a
    hand edit left unreadable counts as none, with a warning (``_stored_time``)."""
    return _stored_time(row, "heartbeat_at") or _stored_time(row, "started_at")


def _stored_time(row: Any, column: str) -> datetime | None:
    """The row's time ``column``, or None (noted, ``shown_time``) when it is no time:
    ``'xyzzy'`` in ``heartbeat_at`` ended ``status`` and ``fleet`` with a crash line."""
    return shown_time(getattr(row, column, None), "sessions", getattr(row, "id", "?"), column)


def gone_why(row: Any) -> str | None:
    """Why the session's process is known to be gone, in plain words; ``None`` when the kernel
    does not say (another host, where only the heartbeat can tell, or a process still there)."""
    found, pid = _found_here(row), session_pid(row)
    if found is Found.REBOOTED:
        return f"{row.host} has restarted since process {pid} ran"
    if found is Found.REUSED:
        return f"process {pid} is gone from {row.host} (its id is another program's now)"
    if found is Found.GONE or (
        found in (None, Found.UNKNOWN)
        and pid is not None
        and row.host == this_host()
        and not _process_exists(pid)
    ):
        return f"process {pid} is gone from {row.host}"
    return None
