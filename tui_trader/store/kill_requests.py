"""Which kill requests (``halt_requests`` rows) a session takes, and marking them taken.

``live monitor``'s kill switch writes a row addressed to the session it follows (``store.
halt_requests``); a row with no session is for any session. A session takes its own and the
unaddressed ones, and also those addressed to another session of its account that ended or
died before acting on it: a press of the kill switch is never lost with the session it was
meant for (a process killed after the monitor wrote, the next start on the account would
have traded). A request addressed to another session still alive is left to it.

A request is marked taken in the same transaction that writes its halt (the risk event and the
account's halted risk state: ``engine.records``), never before: a process killed in between
(a halt's cancels go to the broker first) leaves the request pending, and the next session on
the account acts on it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui_trader.core.order_ids import short_key
from tui_trader.store.db import from_db_time
from tui_trader.store.liveness import DIED, is_alive, store_now
from tui_trader.store.models import SessionRow
from tui_trader.store.statements import db_time

PENDING_SQL = (
    "SELECT r.id, r.requested_by, r.flatten, r.reason, r.timestamp, r.session_id, s.status "
    "FROM halt_requests r LEFT JOIN sessions s ON s.id = r.session_id "
    "WHERE r.handled_at IS NULL AND (r.session_id IS NULL OR r.session_id = ? "
    "OR s.account_key = ?) ORDER BY r.id LIMIT 20"
)
"""The pending requests a session may take: its own, unaddressed ones, and its account's
other sessions' (taken only if that session is no longer alive: ``pending_kill``)."""


@dataclass(frozen=True, slots=True)
class KillRequest:
    """A pending kill request as a session takes it."""

    id: int
    requested_by: str
    flatten: bool
    reason: str
    orphaned: str = ""
    """For a request addressed to another session that ended or died before acting on it,
    the words saying so ("kill switch pressed by monitor at 14:03:07 UTC for session
    ab12cd34, which died before acting on it"); empty for the session's own."""


def pending_kill(
    db: Any, session_id: int, account_key: str, taken: Collection[int] = ()
) -> KillRequest | None:
    """The oldest pending request this session should act on, skipping ``taken`` (requests
    it has acted on whose halt is not written yet), or ``None``."""
    rows = db.execute_sql(PENDING_SQL, (session_id, account_key)).fetchall()
    now: datetime | None = None
    for rid, by, flatten, reason, asked, target, status in rows:
        if rid in taken:
            continue
        request = KillRequest(rid, by, bool(flatten), reason or "")
        if target is None or target == session_id:
            return request
        row = SessionRow.get_or_none(SessionRow.id == target)
        if row is None:
            continue
        if status == "running":
            now = now or store_now(db)
            if is_alive(row, now):
                continue  # that session takes it itself
        fate = "ended" if status not in ("running", DIED) else "died"
        when = from_db_time(asked)
        at = f" at {when:%H:%M:%S} UTC" if when is not None else ""
        words = (
            f"kill switch pressed by {by}{at} for session {short_key(row.key)}, which "
            f"{fate} before acting on it"
        )
        return KillRequest(rid, by, bool(flatten), reason or "", words)
    return None


def mark_taken(db: Any, ids: Iterable[int], when: datetime) -> None:
    """Mark requests taken (inside the transaction that writes their halt)."""
    ids = list(ids)
    if not ids:
        return
    marks = ", ".join("?" for _ in ids)
    db.execute_sql(
        f"UPDATE halt_requests SET handled_at = ? WHERE handled_at IS NULL AND id IN ({marks})",
        (db_time(when), *ids),
    )
