"""What a killed local session left behind, recorded as ended the next time a session starts.

A local session's simulated account (``brokers.paper``) lives in the session's own process. A
session that ends normally records its still-working orders as ``canceled``
(``engine.session_finish``); one that is killed (kill -9, power loss, out of memory) cannot, and
its rows would say ``new`` and ``running`` for ever although nothing can fill those orders any
more.

``end_dead_local_sessions`` finds local sessions whose row still says ``running`` but which are
dead by ``store.liveness`` (their process gone from this machine, or their heartbeat stale: on
the boot clock for a process of this machine, never a wall clock that may have been stepped;
by the store's clock for another machine's), and records, for each: its orders not yet final
as ``canceled``, with why in plain words, and its row as ``died``, ended at its last sign of
life. A session still alive, here or on another machine, is never touched. Only local
sessions: an Alpaca session's orders live at Alpaca, and start-up reconciliation
(``engine.reconcile``) settles them from there.

Atomic and idempotent: the rows are read again and judged inside one write transaction
(SQLite ``BEGIN IMMEDIATE``: the write lock first, so two desks starting at once take turns;
PostgreSQL ``SELECT ... FOR UPDATE`` on the session rows), and each ``UPDATE`` still requires
the row to be ``running`` and the order not final. The second desk finds nothing left to do.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tui_trader.core.orders import OrderStatus
from tui_trader.store.db import to_db_time
from tui_trader.store.liveness import (
    DIED,
    is_alive,
    last_sign_of_life,
    session_pid,
    store_now,
)
from tui_trader.store.models import LiveOrder, SessionRow

LOCAL = "local"
"""The session mode whose account lives and dies with its process."""
FINAL = tuple(str(s) for s in OrderStatus if s.is_final)
"""Order statuses that nothing changes any more; every other status is still working."""


@dataclass(frozen=True, slots=True)
class DeadSession:
    """A local session found dead and recorded so."""

    key: str
    pid: int | None
    host: str | None
    last_seen: datetime | None
    """Its last heartbeat (its start, if it never beat)."""
    orders: int
    """How many of its orders were still working and are now recorded ``canceled``."""


def died_reason(pid: int | None, host: str | None, last_seen: datetime | None) -> str:
    """Why a dead local session's working orders ended, in plain words (their rows' ``error``)."""
    return (
        f"the local session died (pid {pid or '?'} on {host or '?'}, last heartbeat "
        f"{_when(last_seen)}); its simulated account ended with it"
    )


def end_dead_local_sessions(db: Any, exclude: int | None = None) -> list[DeadSession]:
    """Record every dead local session (but ``exclude``, the caller's own) as ``died`` and its
    working orders as ``canceled``; returns those this call recorded (another desk may have
    recorded some first)."""
    running = (SessionRow.mode == LOCAL) & (SessionRow.status == "running")
    if exclude is not None:
        running &= SessionRow.id != exclude
    now = store_now(db)
    dead = [row.id for row in SessionRow.select().where(running) if not is_alive(row, now)]
    if not dead:  # the usual case: no write transaction, no lock taken
        return []
    recorded: list[DeadSession] = []
    with db.atomic("IMMEDIATE"):
        query = SessionRow.select().where(running & SessionRow.id.in_(dead))
        if getattr(db, "is_postgres", False):
            query = query.for_update()
        rows = list(query.order_by(SessionRow.id))
        now = store_now(db)  # judged again under the lock: a session may have beaten since
        for row in rows:
            if is_alive(row, now):
                continue
            seen = last_sign_of_life(row)
            closed = (
                SessionRow.update(status=DIED, ended_at=to_db_time(seen or now))
                .where((SessionRow.id == row.id) & (SessionRow.status == "running"))
                .execute()
            )
            if not closed:
                continue
            why = died_reason(session_pid(row), row.host, seen)
            orders = (
                LiveOrder.update(
                    status=str(OrderStatus.CANCELED), error=why, updated_at=to_db_time(now)
                )
                .where((LiveOrder.session == row.id) & LiveOrder.status.not_in(FINAL))
                .execute()
            )
            recorded.append(DeadSession(row.key, session_pid(row), row.host, seen, orders))
    return recorded


def dead_left_working(conn: sqlite3.Connection, now: datetime | None = None) -> tuple[int, int]:
    """How many dead local sessions a SQLite file still shows ``running``, and how many of
    their orders still working: ``(sessions, orders)``, read only (``db verify``, which may be
    looking at a backup). A file too old to say (no heartbeat columns) counts none."""
    now = now or datetime.now(UTC)
    try:
        have = {row[1] for row in conn.execute('PRAGMA table_info("sessions")')}
        if "heartbeat_at" not in have:
            return 0, 0
        # a file from before process identities lacks their columns: its rows have none
        columns = ", ".join(f'"{c}"' if c in have else "NULL" for c in _Row.__slots__)
        rows = conn.execute(
            f'SELECT {columns} FROM "sessions" WHERE "mode" = ? AND "status" = ?',
            (LOCAL, "running"),
        ).fetchall()
    except sqlite3.OperationalError:
        return 0, 0
    dead = [row[0] for row in rows if not is_alive(_Row(*row), now)]
    if not dead:
        return 0, 0
    marks = ", ".join("?" for _ in dead)
    finals = ", ".join("?" for _ in FINAL)
    (orders,) = conn.execute(
        f'SELECT COUNT(*) FROM "live_orders" WHERE "session_id" IN ({marks}) '
        f'AND "status" NOT IN ({finals})',
        (*dead, *FINAL),
    ).fetchone()
    return len(dead), int(orders)


@dataclass(frozen=True, slots=True)
class _Row:
    """A session row read with plain SQL, as ``store.liveness.is_alive`` reads one."""

    id: int
    status: str
    pid: int | None
    host: str | None
    heartbeat_at: str | None
    heartbeat_window: float | None
    started_at: str | None
    heartbeat_uptime: float | None
    proc_start: int | None
    boot_id: str | None


def dead_sessions_line(ended: list[DeadSession]) -> str | None:
    """One plain line telling the user what was recorded, or ``None`` if nothing was."""
    if not ended:
        return None
    orders = sum(d.orders for d in ended)
    working = f"{orders} working order(s) recorded canceled" if orders else "no working orders"
    if len(ended) == 1:
        d = ended[0]
        return (
            f"local session {d.key} died (pid {d.pid or '?'} on {d.host or '?'}, last heartbeat "
            f"{_when(d.last_seen)}): {working}, its row recorded died; its simulated account "
            "ended with it"
        )
    keys = ", ".join(d.key for d in ended[:5]) + (", ..." if len(ended) > 5 else "")
    return (
        f"{len(ended)} local sessions died ({keys}): {working}, their rows recorded died; a "
        "simulated account ends with its session"
    )


def _when(ts: datetime | None) -> str:
    """A time as the reports show it (UTC, to the second)."""
    return f"{ts:%Y-%m-%d %H:%M:%S} UTC" if ts else "never"
