"""Is a session still alive? Its process id, host and heartbeat say.

A running session writes ``heartbeat_at`` (wall-clock UTC) at most about once a second while it
works, and while it waits between cycles. On a PostgreSQL store shared by several machines the
server's clock writes and judges every heartbeat (``store_now``): a machine whose own clock
runs minutes behind or ahead still looks alive exactly while it beats. A session counts as
alive while its heartbeat is fresh: the window is ``max(30 s, 3 x the cycle interval)``,
stored with the session as ``heartbeat_window`` so that every reader judges it the same way.
A session whose process is gone from this very host is dead at once. A session row still
``running`` with a stale heartbeat (or none: rows written before heartbeats existed) is shown
as ``died``; reports, the monitor and start-up reconciliation all use ``is_alive`` and
``shown_status`` from here.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from typing import Any

from tui_trader.store.db import from_db_time

MIN_WINDOW = 30.0
"""Seconds: the shortest heartbeat window (a slow disk or a long cycle must not look dead)."""
BEAT_SECONDS = 1.0
"""A session writes its heartbeat at most this often."""
DIED = "died"
"""How reports show a session whose row says ``running`` but whose process is gone."""


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
    except PermissionError:
        return True
    except OSError:
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


def is_alive(row: Any, now: datetime | None = None) -> bool:
    """True while a session row is ``running`` and its process shows signs of life; ``now``
    defaults to the store's time (``store_now``)."""
    if row.status != "running":
        return False
    if row.pid and row.host == this_host() and not _process_exists(int(row.pid)):
        return False
    now = now or store_now(getattr(getattr(row, "_meta", None), "database", None))
    window = row.heartbeat_window or MIN_WINDOW
    last = from_db_time(row.heartbeat_at) or from_db_time(row.started_at)
    if last is None:
        return False
    return (now - last).total_seconds() <= window


def shown_status(row: Any, now: datetime | None = None) -> str:
    """The status a report shows: the row's, or ``died`` for a running row whose process is
    gone."""
    if row.status == "running" and not is_alive(row, now):
        return DIED
    return str(row.status)


def last_sign_of_life(row: Any) -> datetime | None:
    """When the session last showed it was alive (its heartbeat, else its start)."""
    return from_db_time(row.heartbeat_at) or from_db_time(row.started_at)


def process_gone(row: Any) -> bool:
    """True when the session's process is known to be gone: it ran on this very host and no
    process has its id any more (on another host only the heartbeat can tell)."""
    return bool(row.pid) and row.host == this_host() and not _process_exists(int(row.pid))
