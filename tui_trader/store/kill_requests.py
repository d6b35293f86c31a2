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

Before acting, a session claims the request (``claim``): one compare-and-set ``UPDATE`` of its
``taken_by``, whose row count says who won. Two live sessions of the account that both read a
dead session's pending request used to both halt (and both flatten, if asked); now the loser
leaves it, and obeys the halt the winner writes to the account. A claim whose session ended or
died before marking the request taken is taken over like a request addressed to it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tui_trader.core.order_ids import short_key
from tui_trader.store.db import from_db_time
from tui_trader.store.liveness import DIED, is_alive, store_now
from tui_trader.store.models import SessionRow
from tui_trader.store.statements import db_time

PENDING_SQL = (
    "SELECT r.id, r.requested_by, r.flatten, r.reason, r.timestamp, r.session_id, r.taken_by "
    "FROM halt_requests r LEFT JOIN sessions s ON s.id = r.session_id "
    "WHERE r.handled_at IS NULL AND (r.session_id IS NULL OR r.session_id = ? "
    "OR s.account_key = ?) ORDER BY r.id LIMIT 20"
)
"""The pending requests a session may take: its own, unaddressed ones, and its account's
other sessions' (taken only if that session is no longer alive: ``pending_kill``)."""

CLAIM_SQL = (
    "UPDATE halt_requests SET taken_by = ? WHERE id = ? AND handled_at IS NULL "
    "AND (taken_by IS NULL OR taken_by = ?)"
)
"""Take a request as this session, if it is still as read: pending, and unclaimed or claimed
by the session read (one that ended or died before acting on it)."""


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
    claimed_by: int | None = None
    """The session whose claim was read (``taken_by``): the claim is taken over only from it."""


def pending_kill(
    db: Any, session_id: int, account_key: str, taken: Collection[int] = ()
) -> KillRequest | None:
    """The oldest pending request this session should act on, skipping ``taken`` (requests
    it has acted on whose halt is not written yet), or ``None``. A request is held by the
    session that claimed it, else by the one it is addressed to; one held by another session
    still alive is left to it."""
    rows = db.execute_sql(PENDING_SQL, (session_id, account_key)).fetchall()
    now: datetime | None = None
    for rid, by, flatten, reason, asked, target, claimed in rows:
        if rid in taken:
            continue
        holder = claimed if claimed is not None else target
        request = KillRequest(rid, by, bool(flatten), reason or "", claimed_by=claimed)
        if holder is None or holder == session_id:
            return request
        row = SessionRow.get_or_none(SessionRow.id == holder)
        if row is None:  # addressed to a session no longer in the store; or claimed by one
            if claimed is None:
                continue
            return replace(request, orphaned=f"kill switch pressed by {by}")
        if row.status == "running":
            now = now or store_now(db)
            if is_alive(row, now):
                continue  # that session takes it itself
        fate = "ended" if row.status not in ("running", DIED) else "died"
        when = from_db_time(asked)
        at = f" at {when:%H:%M:%S} UTC" if when is not None else ""
        whose = "for" if holder == target else "taken by"
        words = (
            f"kill switch pressed by {by}{at} {whose} session {short_key(row.key)}, which "
            f"{fate} before acting on it"
        )
        return replace(request, orphaned=words)
    return None


def claim(db: Any, request: KillRequest, session_id: int) -> bool:
    """Take ``request`` as this session, atomically: True if this session holds it now (it
    acts on it), False if another session took it (or marked it taken) since it was read."""
    if request.claimed_by == session_id:
        return True
    seen = request.claimed_by if request.claimed_by is not None else session_id
    cursor = db.execute_sql(CLAIM_SQL, (session_id, request.id, seen))
    return db.rows_changed(cursor) == 1  # (on PostgreSQL in a pipeline: once answered)


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


class KillRequestReads:
    """The audit log's side of kill requests (a mixin of ``store.audit.AuditLog``): the one
    a session acts on, claimed first, and marked taken with its halt."""

    db: Any
    session: SessionRow | None
    commit_every: int
    _poll_halts: bool
    clock: Any

    def halt_requested(self, taken: Collection[int] = ()) -> KillRequest | None:
        """A pending kill request this session should act on: its own, one for any session, or
        one addressed to another session of its account that ended or died before acting on
        it (``store.kill_requests``); ``taken``: requests acted on whose halt is not written
        yet, skipped."""
        if self.session is None:
            return None
        if self.commit_every > 1:
            if not self._poll_halts:
                return None
            self._poll_halts = False
        return pending_kill(self.db, self.session.id, self.session.account_key, taken)

    def claim_kill(self, request: KillRequest) -> bool:
        """Take a pending kill request for this session before acting on it: False if another
        session took it since it was read (``store.kill_requests.claim``; that one halts)."""
        assert self.session is not None  # ``halt_requested`` returns requests only with one
        return claim(self.db, request, self.session.id)

    def mark_handled(self, ids: Collection[int]) -> None:
        """Note that kill requests were acted upon: called inside the transaction that writes
        their halt, so a process killed before it leaves them pending for the next session."""
        mark_taken(self.db, ids, self.clock.now())
