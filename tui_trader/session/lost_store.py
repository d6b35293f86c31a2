"""The PostgreSQL audit store lost (or refusing writes) while a session starts: one plain line
and exit 1.

Mid-session the runner halts and ends the session (``store_endings.end_on_lost_store``); before the
first cycle there is no runner yet, so the builders (``session.local``, ``session.alpaca``) turn
the lost connection into ``StoreLostAtStart``, which the CLI prints as one line (never the
driver's error and a crash log): no order is sent without its row, the rows written before stay
on the server, and the session row says ``failed`` if the server answers again within
``store.pg.RECONNECT_WITHIN`` seconds (a restart's time). A server
that answers but takes no writes (its disk full, or read-only: ``store.pg_refusals``) is told
the same way, in its own words.
"""

from __future__ import annotations

from tui_trader.store.audit import AuditLog
from tui_trader.store.db import StoreError
from tui_trader.store.pg import lost_message, reconnect, store_lost
from tui_trader.store.pg_refusals import refusal


class StoreLostAtStart(StoreError):
    """The audit store went away (or refused writes) before the session's first cycle;
    ``str()`` is the line (a ``StoreError``, so the full-screen app shows it on its setup
    screen as any store error)."""


def lost_at_start(audit: AuditLog, exc: BaseException) -> StoreLostAtStart | None:
    """If ``exc`` is the PostgreSQL store going away, or refusing the start's writes: drop the
    dead transaction, mark the session row ``failed`` if the server takes it, and return the
    error to raise; ``None`` for any other failure."""
    db = audit.db
    refused = refusal(db, exc, "nothing sent")
    if refused is not None:
        message = refused.message
    elif store_lost(db, exc):
        message = lost_message(db, exc)
    else:
        return None
    audit.abandon()
    if audit.session is not None and (refused is not None or reconnect(db, patient=True)):
        try:
            audit.end_session("failed", 0)
        except Exception:  # gone again: the stale heartbeat will tell
            audit.abandon()
    return StoreLostAtStart(f"{message} (the session stopped while starting)")
