"""The other sessions on this session's account, as the store's rows tell them: which are alive,
which say ``running``, what the account's recorded fills make, and the local ones that died.

The session's outside-change judging (``engine.outside_changes``) and exit claims
(``engine.claims``) ask whether other desks trade the same account; a start records the local
sessions that died without ending (``store.dead_local``). Kept apart from
``store.session_rows`` (this session's own row) so that each file does one thing.

A mixin of ``AuditLog`` under ``SessionRows``.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from tui_trader.store.account_record import recorded_positions
from tui_trader.store.dead_local import dead_sessions_line, end_dead_local_sessions
from tui_trader.store.liveness import is_alive, store_now
from tui_trader.store.models import SessionRow


class OtherSessions:
    """Ask the store about the account's other sessions (and record the local dead ones)."""

    db: SqliteDatabase
    session: SessionRow | None
    _dead_at_start: set[int]
    """Other rows left ``running`` by desks already dead as this session started."""

    def others_alive(self, account_key: str) -> bool:
        """True if another session on this account is running with a fresh heartbeat: its
        fills move the account's positions too (``engine.outside_changes``)."""
        return bool(self._others_alive(account_key))

    def others_running(self, account_key: str) -> bool:
        """True if another session's row on this account says ``running``, alive or not, unless
        it was already dead when this session started (``note_dead_at_start``): a live one's
        fills move the positions too, and one killed since (its row ``running`` until a start
        records it ``died``) may have fills it never recorded. Either way shares nobody here
        recorded are not a change made outside (``engine.outside_changes``). A row left
        ``running`` by a desk dead before this start (a start records a dead desk ``died``
        only when it takes orders over) explains nothing now: counting it switched the
        judging of hand trades off on the account for good after one old kill."""
        mine = self.session.id if self.session else -1
        dead = getattr(self, "_dead_at_start", set())
        rows = SessionRow.select(SessionRow.id).where(
            (SessionRow.account_key == account_key)
            & (SessionRow.status == "running")
            & (SessionRow.id != mine)
        )
        return any(row.id not in dead for row in rows)

    def note_dead_at_start(self, account_key: str) -> None:
        """Remember the other rows of this account left ``running`` by desks already dead as
        this session starts (``others_running`` leaves them out)."""
        alive = {row.id for row in self._others_alive(account_key)}
        mine = self.session.id if self.session else -1
        rows = SessionRow.select(SessionRow.id).where(
            (SessionRow.account_key == account_key)
            & (SessionRow.status == "running")
            & (SessionRow.id != mine)
        )
        self._dead_at_start = {row.id for row in rows if row.id not in alive}

    def others_alive_keys(self, account_key: str) -> set[str]:
        """The keys of the other sessions on this account running with a fresh heartbeat
        (``engine.claims``: a claim whose holder is not among them binds nobody)."""
        return {row.key for row in self._others_alive(account_key)}

    def _others_alive(self, account_key: str) -> list[SessionRow]:
        """The other sessions on this account running with a fresh heartbeat."""
        rows = SessionRow.select().where(
            (SessionRow.account_key == account_key)
            & (SessionRow.status == "running")
            & (SessionRow.id != (self.session.id if self.session else -1))
        )
        now = store_now(self.db)  # once: on PostgreSQL each reading is a round trip
        return [row for row in rows if is_alive(row, now)]

    def recorded_positions(self, account_key: str) -> dict[str, float] | None:
        """Net shares by symbol this account's recorded fills make (``store.account_record``);
        ``None`` if no other session on the account is recorded here."""
        return recorded_positions(account_key, self.session.id if self.session else None)

    def record_dead_local_sessions(self) -> str | None:
        """Record the local sessions that died without ending (their working orders
        ``canceled``, their rows ``died``: ``store.dead_local``); one line for the user saying
        so, or ``None`` when there were none."""
        own = self.session.id if self.session else None
        return dead_sessions_line(end_dead_local_sessions(self.db, own))
