"""Is a session running on this database? Asked before a restore replaces the file.

A session row says ``running`` from its start until it ends; a process that died leaves it so.
When the sessions table carries a heartbeat (the time of the session's last sign of life), only a
fresh one counts as running; without that column every ``running`` row counts, which fails closed.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

HEARTBEAT_COLUMN = "heartbeat"
"""The sessions table's last-sign-of-life column, when the database has one."""
FRESH = timedelta(seconds=60)
"""A heartbeat older than this is a dead session's."""


def running_sessions(conn: sqlite3.Connection, now: datetime | None = None) -> list[str]:
    """Keys of the sessions that may still be running on this database."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    if not columns:
        return []
    beat = HEARTBEAT_COLUMN if HEARTBEAT_COLUMN in columns else "NULL"
    rows = conn.execute(f"SELECT key, {beat} FROM sessions WHERE status = 'running'").fetchall()
    if beat == "NULL":
        return [key for key, _ in rows]
    cutoff = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None) - FRESH
    return [key for key, last in rows if last is None or _parse(last) >= cutoff]


def _parse(value: object) -> datetime:
    """A stored naive-UTC time (text) as a datetime; unreadable counts as fresh (fail closed)."""
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        return datetime.max
