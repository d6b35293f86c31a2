"""The PostgreSQL audit store lost (or refusing writes) while a session starts: one plain line
and exit 1.

Mid-session the runner halts and ends the session (``store_endings.end_on_lost_store``); before the
first cycle there is no runner yet, so the builders (``session.local``, ``session.alpaca``) turn
the lost connection into ``StoreLostAtStart``, which the CLI prints as one line (never the
driver's error and a crash log): no order is sent without its row, the rows written before stay
on the server, and the session row says ``failed`` if the server answers again within
``store.pg.RECONNECT_WITHIN`` seconds (a restart's time). A server
that answers but takes no writes (its disk full, or read-only: ``store.pg_refusals``) is told
the same way, in its own words, and so is a store that refuses the halt a start found kept on
disk (``engine.kept_halts``): that start trades nothing, and the file keeps the halt.
"""

from __future__ import annotations

from tui_trader.engine.kept_halts import KeptHaltUnwritten
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import StoreError
from tui_trader.store.pg import lost_message, reconnect, store_lost
from tui_trader.store.pg_refusals import refusal


class StoreLostAtStart(StoreError):
    """The audit store went away (or refused writes) before the session's first cycle;
    ``str()`` is the line (a ``StoreError``, so the full-screen app shows it on its setup
    screen as any store error)."""


def lost_at_start(audit: AuditLog, exc: BaseException) -> StoreLostAtStart | None:
    """If ``exc`` is the PostgreSQL store going away, or refusing the start's writes, or any
    store failure writing a halt kept on disk (``engine.kept_halts``): drop the dead
    transaction, mark the session row ``failed`` if the store takes it, and return the error
    to raise (a kept halt's line says which file still holds it); ``None`` for any other
    failure."""
    db = audit.db
    kept = exc if isinstance(exc, KeptHaltUnwritten) else None
    if kept is not None and kept.__cause__ is not None:
        exc = kept.__cause__
    refused = refusal(db, exc, "nothing sent")
    if refused is not None:
        message = refused.message
    elif store_lost(db, exc):
        message = lost_message(db, exc)
    elif kept is not None:  # an SQLite file locked, read-only, full: its own words are in it
        message = ""
    else:
        return None
    if kept is not None:
        message = f"{message}; {kept}" if message else str(kept)
    audit.abandon()
    answers = refused is not None or (kept is not None and not getattr(db, "is_postgres", False))
    if audit.session is not None and (answers or reconnect(db, patient=True)):
        try:
            audit.end_session("failed", 0)
        except Exception:  # gone again: the stale heartbeat will tell
            audit.abandon()
    return StoreLostAtStart(f"{message} (the session stopped while starting)")
