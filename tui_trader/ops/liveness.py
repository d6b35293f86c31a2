"""Is a session running on this database? Asked before a restore replaces the file.

A session row says ``running`` from its start until it ends; a process that died leaves it so.
Such a row is judged by ``store.liveness`` (its process on this machine, else its heartbeat), as
reports and the next session's start judge it, with one difference that fails closed: a process
of this machine still there counts as running even when its heartbeat has gone stale (stopped
with SIGSTOP or Ctrl+Z, hung), since it may go on writing to whatever file is there once it
resumes. A file from before heartbeats (no ``heartbeat_at`` column) counts every ``running`` row.

Before, this looked for a ``heartbeat`` column the sessions table never had, so every
``running`` row counted: a session killed (``kill -9``, a power cut) blocked every restore of its
database for good with "stop it before restoring", when a restore is what a damaged file needs.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from types import SimpleNamespace

from tui_trader.store.liveness import is_alive, session_pid, session_start, this_host
from tui_trader.store.process_identity import Found, look_up
from tui_trader.store.running_rows import running_rows


def running_sessions(conn: sqlite3.Connection, now: datetime | None = None) -> list[str]:
    """Keys of the sessions that may still be running on this database."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    if not columns:
        return []
    if "heartbeat_at" not in columns:
        rows = conn.execute("SELECT key FROM sessions WHERE status = 'running'").fetchall()
        return [key for (key,) in rows]
    now = now or datetime.now(UTC)
    return [row.key for row in running_rows(conn) if _still_there(row) or is_alive(row, now)]


def _still_there(row: SimpleNamespace) -> bool:
    """Whether the row's very process is still on this machine (running or stopped)."""
    pid, start = session_pid(row), session_start(row)  # a hand edit's text is no process
    if pid is None or row.host != this_host() or start is None or not row.boot_id:
        return False
    return look_up(pid, start, str(row.boot_id)) is Found.THERE
