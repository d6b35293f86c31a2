"""The ``running`` rows of a SQLite file's sessions table, read on a plain ``sqlite3``
connection: what liveness needs to judge each one (``store.liveness``).

Read by the tools that must not open the store as a session does: ``db restore``'s check for
sessions still running on a file (``ops.liveness``) and the naming of a frozen desk holding the
file's write lock (``store.lock_holders``). A column an older file lacks reads as ``None``.
"""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

COLUMNS = (
    "key",
    "status",
    "pid",
    "host",
    "started_at",
    "heartbeat_at",
    "heartbeat_window",
    "heartbeat_uptime",
    "proc_start",
    "boot_id",
)


def running_rows(conn: sqlite3.Connection) -> list[SimpleNamespace]:
    """The sessions whose row says ``running``, oldest first, each with ``COLUMNS`` as
    attributes; none if the file has no sessions table."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    if not columns:
        return []
    chosen = ", ".join(c if c in columns else "NULL" for c in COLUMNS)
    cursor = conn.execute(f"SELECT {chosen} FROM sessions WHERE status = 'running' ORDER BY id")
    return [SimpleNamespace(**dict(zip(COLUMNS, row, strict=True))) for row in cursor]
