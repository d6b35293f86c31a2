"""A desk whose store cannot take its halt keeps the halt on disk for the account's next start.

Fail closed: a halt that lives only in a stopped process is lost with it, and the account's next
start, its store back, would trade (after a drawdown kill, exactly what must not happen). So an
ending that could not write its halt (``session.store_endings``) writes it to a marker file
(``store.halt_markers``): beside a SQLite file, in the user's state folder for PostgreSQL. The
next start of the account on that store writes it to the store before trading
(``engine.kept_halts``). The end's line says where it is, or, when even that file could not be
written, how to halt the account by hand. A local ``paper`` session's account is its own (each
start opens a new simulated one): no start would read its halt, so none is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.store.halt_markers import KeptHalt, keep_halt, store_name
from tui_trader.store.server_identity import server_identity

if TYPE_CHECKING:
    from tui_trader.engine.session import TradingSession

KEPT = (
    "the halt ({reason}) is kept in {path}: the account's next start on this store writes it "
    "to the store and stays halted"
)
"""The end line's tail when the halt was kept on disk."""
NOT_KEPT = (
    "the halt ({reason}) could not be kept on disk either ({why}): once the store is back, "
    "halt the account by hand: tui-trader fleet halt --account {account}"
)
"""The end line's tail when it could not be."""


def keep_unwritten_halt(session: TradingSession, said: str) -> str:
    """Write the session's halt (its risk state's reason and words) to the account's marker
    for this store; ``said`` (the end's line) with what became of it. A local paper session's
    own account (``local:<session key>``) is never started again: its halt ends with it."""
    state = session.risk.state
    reason = state.halt_reason or "session_error"
    row = session.audit.session
    if row is not None and session.account_key == f"local:{row.key}":
        return said
    halt = KeptHalt(
        account_key=session.account_key,
        store=store_name(session.audit.db) or "",
        reason=reason,
        detail=state.halt_detail[:2000],
        decided_at=session.clock.now().isoformat(),
        session_key=row.key if row is not None else "",
        server=server_identity(session.audit.db, ask=False) or "",  # as read at the start
    )
    try:
        path = keep_halt(session.audit.db, halt)
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"{said}; " + NOT_KEPT.format(reason=reason, why=why, account=session.account_key)
    return f"{said}; " + KEPT.format(reason=reason, path=path)
