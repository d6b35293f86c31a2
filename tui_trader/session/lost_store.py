"""The PostgreSQL audit store lost while a session starts: one plain line and exit 1.

Mid-session the runner halts and ends the session (``runner.end_on_lost_store``); before the
first cycle there is no runner yet, so the builders (``session.local``, ``session.alpaca``) turn
the lost connection into ``StoreLostAtStart``, which the CLI prints as one line (never the
driver's error and a crash log): no order is sent without its row, the rows written before stay
on the server, and the session row says ``failed`` if the server answers once more.
"""

from __future__ import annotations

from tui_trader.store.audit import AuditLog
from tui_trader.store.db import StoreError
from tui_trader.store.pg import lost_message, reconnect, store_lost


class StoreLostAtStart(StoreError):
    """The audit store went away before the session's first cycle; ``str()`` is the line (a
    ``StoreError``, so the full-screen app shows it on its setup screen as any store error)."""


def lost_at_start(audit: AuditLog, exc: BaseException) -> StoreLostAtStart | None:
    """If ``exc`` is the PostgreSQL store going away: drop the dead transaction, mark the
    session row ``failed`` if the server answers a fresh connection, and return the error to
    raise; ``None`` for any other failure."""
    db = audit.db
    if not store_lost(db, exc):
        return None
    message = lost_message(db, exc)
    audit.abandon()
    if audit.session is not None and reconnect(db):
        try:
            audit.end_session("failed", 0)
        except Exception:  # gone again: the stale heartbeat will tell
            audit.abandon()
    return StoreLostAtStart(f"{message} (the session stopped while starting)")
