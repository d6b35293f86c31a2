"""A desk that stops on its lost audit store cancels its own working orders at the broker.

Fail closed: a desk that can no longer record (its SQLite file deleted or replaced, its log
gone, a full disk or a file-size limit, PostgreSQL gone or refusing writes:
``session.runner``) must not leave exposure growing at the broker either. Before, it halted in
memory and stopped, and its limit orders (entries, rebalances, hand orders) kept working at
the broker, able to fill with no desk recording them until a next start reconciled them.

The cancel is the halt's own (``SessionHalts._cancel_for_halt``, as a failing session's end
makes it: ``SessionLifecycle._halt_cancels_at_end``), with two differences the lost store
imposes: what is the desk's cannot be asked of the store, so only this session's own orders
are cancelled (its key is in their client order ids), and the cancels are not recorded (no
row can be written; the next start on the store reconciles them: ``engine.reconcile``).
Protective exits (stops, take-profits of held positions) stay: they protect. Best effort:
the broker may not answer either, and the words say so. Not for a row ended under the session
by another desk (that desk took its orders over) nor for a store upgraded under it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.brokers import unseen
from tui_trader.core.waiting import beating
from tui_trader.engine.halt_keeps import HaltKeeps

if TYPE_CHECKING:
    from tui_trader.engine.session import TradingSession

LOST_STORE_CANCELLED = (
    "cancelled {count} working order(s) at the broker, not recorded: the audit store is lost; "
    "the next start records them"
)
"""The end line of a desk that cancelled its working orders as its store was lost."""
LOST_STORE_UNANSWERED = (
    "the desk's working orders could not be cancelled at the broker ({cause}): they may "
    "still be working there, not recorded; cancel them at the broker"
)
"""The end line when the broker did not answer that cancel."""


def cancel_on_lost_store(session: TradingSession, message: str) -> str:
    """Cancel this session's working orders that are not protective exits (nor a flatten's
    closing sells), recording nothing; return ``message`` (why the store is lost) with what
    that did, for the end's one line and its notice. Any heartbeat is held off meanwhile: the
    store it would write is the lost one."""
    said = _cancel(session)
    return f"{message}; {said}" if said else message


def _cancel(session: TradingSession) -> str:
    """The cancel itself, and its words ('' when none was working)."""
    row = session.audit.session
    if row is None:
        return ""
    own = row.key
    keeps = HaltKeeps(lambda keys: {key for key in keys if key == own})
    try:
        with beating(lambda: None):
            cancelled, _ = session._cancel_for_halt(False, True, keeps)
    except Exception as exc:  # the broker may be down too: say so, the end goes on
        return LOST_STORE_UNANSWERED.format(cause=type(exc).__name__)
    cut = unseen(cancelled)  # a listing cut short, or cancels refused: those may still work
    if not cancelled:
        return cut
    line = LOST_STORE_CANCELLED.format(count=len(cancelled))
    return f"{line}; {cut}" if cut else line
