"""Which of the desk's own sessions may be holding a SQLite file's write lock, frozen.

A desk stopped (SIGSTOP, Ctrl+Z, a debugger, a hang) inside a SQLite transaction keeps the
file's write lock for as long as it is stopped: no server can take it back (PostgreSQL ends
such a connection after 20 s, ``store.pg``). Every other writer, ``fleet halt`` first, then
gives up after the busy timeout ("stayed locked by another program"). But a session of this
very file whose row still says ``running`` and whose heartbeat has gone stale is the likely
holder, and it is no stranger: its row names its process. This reads the ``sessions`` table
(read-only, without waiting: reading does not need the write lock in write-ahead-log mode)
and says which such session it is and what to do, with its pid and host.

On this machine the kernel confirms the very process is still there (``look_up``) and says if
it is stopped; of another host's session nothing can be seen, so the words only name its row
and what to run there, if it is the holder.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_trader.store.liveness import (
    MIN_WINDOW,
    heartbeat_age,
    session_pid,
    session_start,
    this_host,
)
from tui_trader.store.process_identity import Found, is_stopped, look_up
from tui_trader.store.running_rows import running_rows

_MAX_NAMED = 3
"""At most this many sessions named (the line stays one line)."""


def _rows(path: Path) -> list[Any]:
    """The file's running session rows, read without waiting; none if they cannot be read."""
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=0)
    except (sqlite3.Error, ValueError):
        return []
    try:
        return running_rows(conn)
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def _words(row: Any, age: float) -> str | None:
    """What to say of one stale running session; ``None`` if it cannot hold the lock."""
    pid, host, start = session_pid(row), row.host, session_start(row)
    if not pid:
        return None
    if host == this_host():
        if start is None or not row.boot_id:
            return None  # no identity: its pid may be another program's now; no guess
        if look_up(pid, start, str(row.boot_id)) is not Found.THERE:
            return None  # gone: a dead process holds no lock
        how = "is stopped" if is_stopped(pid) else "is still there"
        return (
            f"session {row.key} (pid {pid} on this machine) has not written its heartbeat for "
            f"{age:.0f} s and its process {how}: it holds the file's lock; resume it "
            f"(kill -CONT {pid}) or end it (kill -9 {pid}), then run this again"
        )
    return (
        f"session {row.key} of host {host} (pid {pid}) has not written its heartbeat for "
        f"{age:.0f} s; this machine cannot see its process: if it holds the lock, on {host} "
        f"resume it (kill -CONT {pid}) or end it (kill -9 {pid})"
    )


def frozen_holders(path: Path | str, now: datetime | None = None) -> str:
    """The sessions of the SQLite file ``path`` that look alive (row ``running``, process
    there) but whose heartbeat is older than their window, with what to do; ``""`` if none."""
    now = now or datetime.now(UTC)
    said: list[str] = []
    for row in _rows(Path(path)):
        age = heartbeat_age(row, now)
        if age is None or age <= float(row.heartbeat_window or MIN_WINDOW):
            continue  # beating: working, not frozen
        words = _words(row, age)
        if words:
            said.append(words)
    if not said:
        return ""
    more = len(said) - _MAX_NAMED
    text = "; ".join(said[:_MAX_NAMED])
    return text + (f"; and {more} more such session(s)" if more > 0 else "")
