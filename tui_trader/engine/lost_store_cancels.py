"""A desk that stops on its lost audit store cancels its own working orders at the broker.

Fail closed: a desk that can no longer record (its SQLite file deleted or replaced, its log
gone, a full disk or a file-size limit, PostgreSQL gone or refusing writes:
``session.runner``) must not leave exposure growing at the broker either. Before, it halted in
memory and stopped, and its limit orders (entries, rebalances, hand orders) kept working at
the broker, able to fill with no desk recording them until a next start reconciled them.

The cancel is the halt's own (``SessionHalts._cancel_for_halt``, as a failing session's end
makes it: ``SessionFinish._halt_cancels_at_end``), with two differences the lost store
imposes: what is the desk's cannot be asked of the store, so only this session's own orders
are cancelled (its key is in their client order ids), and the cancels are not recorded (no
row can be written; the next start on the store reconciles them: ``engine.reconcile``).
Protective exits (stops, take-profits of held positions) stay: they protect. So do, on a desk
that keeps exits, its orders that only shrink a position held (a sell by hand of shares held:
the stop was cancelled or sized down for it, so it stands for the stop of the shares it may
sell), and on any desk an order for which a stop was cancelled and is still owed
(``engine.stop_release``). Before, the cancel took them too and left those shares with neither
the sell nor a stop, the end line naming no position without its stop. They grow no exposure,
and nothing new is sent. Best effort:
the broker may not answer either, and the words say so. Not for a row ended under the session
by another desk (that desk took its orders over) nor for a store upgraded under it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError, unseen
from tui_trader.core.orders import Order
from tui_trader.core.waiting import beating
from tui_trader.engine.halt_keeps import HaltKeeps
from tui_trader.security.redact import describe

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
LOCAL_CANCELLED = (
    "cancelled {count} working order(s) of the simulated account, not recorded: the audit "
    "store is lost; that account ends with this desk, so nothing can fill them"
)
"""A local desk's words for that cancel: its simulated account lives in the desk's process
(``brokers.paper``), so there is no broker to look at and no order outlives the desk; and the
next start records them ended only if this desk's end was not written (``store.dead_local``).
Before, it said "at the broker ... the next start records them", true of neither."""
LOCAL_UNANSWERED = (
    "the simulated account's working orders could not be cancelled ({cause}); that account "
    "ends with this desk, so nothing can fill them"
)
"""A local desk's words when that cancel failed."""
LOST_STORE_FAILED = (
    "the desk's working orders could not be cancelled at the broker: the cancel failed on an "
    "error of the desk's, not the broker's ({cause}): they may still be working there, not "
    "recorded; cancel them at the broker"
)
"""The end line when that cancel failed on anything but the broker's silence (a store the
cancel needed, a bug): said as what it is. Before, it read as the broker's silence."""
LOCAL_FAILED = (
    "the simulated account's working orders could not be cancelled: the cancel failed on an "
    "error of the desk's ({cause}); that account ends with this desk, so nothing can fill them"
)
"""A local desk's words when that cancel failed on anything but the broker's silence."""


@dataclass(frozen=True, slots=True)
class LostStoreCancel:
    """What the lost store's cancel did: its words, and whether the broker answered it."""

    said: str
    """The end's line: why the store is lost, with what the cancel did."""
    silent: str = ""
    """Why the broker did not answer the cancel ('' when it did): the end's other reads of
    it are skipped (``session.store_endings``), each would wait out the same silence. Only
    the broker's own failures (``BrokerError``: its transport failed or timed out)."""
    failed: str = ""
    """The cancel's failure when it was anything else ('' when none): a store the cancel
    needed, a bug. The end reads no more of the broker either (fail closed: what failed
    once may fail again, half done), and says so in these words, not as a silence."""

    @property
    def unchecked(self) -> str:
        """Why the end does not read the broker's positions for their exits ('' when it
        does): the broker's silence at the cancel, or the cancel's other failure."""
        if self.silent:
            return f"the broker did not answer the cancel just before: {self.silent}"
        if self.failed:
            return (
                "the cancel just before failed on an error of the desk's, not the broker's: "
                f"{self.failed}"
            )
        return ""


CLOSES_KEPT = "{count} order(s) closing part of a held position left working (they only shrink it)"
"""What the end line adds for the orders kept because they only shrink a position."""


class LostStoreKeeps(HaltKeeps):
    """What the lost store's cancel leaves working: a halt's keeps (protective exits, orders
    not of this session), and those of this session's orders that stand for a stop
    (``stand``: whether one does) and close no more than is held of a position (counted in
    ``closes``); ``held``: symbol -> quantity held (short: negative)."""

    def __init__(self, own: str, held: dict[str, float], stand: Callable[[Order], bool]) -> None:
        super().__init__(lambda keys: {key for key in keys if key == own})
        self._left = dict(held)
        """What is held and not yet closed by an order kept, by symbol."""
        self._stand = stand
        self.closes = 0

    def __call__(self, order: Order) -> bool:
        """True for an order left working."""
        if super().__call__(order):
            return True
        if not self._stand(order):
            return False
        left = self._left.get(order.symbol, 0.0)
        if left * order.side.sign >= 0 or order.remaining_qty > abs(left) + 1e-9:
            return False  # it opens or adds, or would close more than is held: cancelled
        self._left[order.symbol] = left + order.remaining_qty * order.side.sign
        self.closes += 1
        return True


def cancel_on_lost_store(session: TradingSession, message: str) -> LostStoreCancel:
    """Cancel this session's working orders that are not protective exits (nor a flatten's
    closing sells), recording nothing; return ``message`` (why the store is lost) with what
    that did, for the end's one line and its notice, and whether the broker was silent (or
    the cancel failed otherwise: named as what it is). Any heartbeat is held off meanwhile: the
    store it would write is the lost one."""
    local = getattr(session.broker, "orders_end_with_session", False)
    row = session.audit.session
    if row is None:
        return LostStoreCancel(message)
    try:
        said = _cancel(session, row.key, local)
    except BrokerError as exc:  # the broker down too (silent, timed out): said, the end goes on
        cause = type(exc).__name__
        said = (LOCAL_UNANSWERED if local else LOST_STORE_UNANSWERED).format(cause=cause)
        return LostStoreCancel(f"{message}; {said}", silent=cause)
    except Exception as exc:  # anything else is said as what it is; the end goes on
        cause = describe(exc)
        said = (LOCAL_FAILED if local else LOST_STORE_FAILED).format(cause=cause)
        return LostStoreCancel(f"{message}; {said}", failed=cause)
    return LostStoreCancel(f"{message}; {said}" if said else message)


def _cancel(session: TradingSession, key: str, local: bool) -> str:
    """The cancel itself, of the orders of the session ``key``: its words ('' when none was
    working). ``local``: a simulated account's, said as such."""
    with beating(lambda: None):
        keeps = LostStoreKeeps(key, _held(session), _stands_for_a_stop(session))
        cancelled, _ = session._cancel_for_halt(False, True, keeps)
    cut = unseen(cancelled)  # a listing cut short, or cancels refused: those may still work
    kept = CLOSES_KEPT.format(count=keeps.closes) if keeps.closes else ""
    words = LOCAL_CANCELLED if local else LOST_STORE_CANCELLED
    said = [words.format(count=len(cancelled))] if cancelled else []
    return "; ".join(said + [part for part in (kept, cut) if part])


def _stands_for_a_stop(session: TradingSession) -> Callable[[Order], bool]:
    """Whether an order of the session stands for a stop: any closing order on a desk that
    keeps exits (they are sized beside it), else one a stop was cancelled for and is owed."""
    if session.protects:
        return lambda order: True
    owed = set(session._accepted) | set(session._doubted)
    return lambda order: order.client_order_id in owed


def _held(session: TradingSession) -> dict[str, float]:
    """Symbol -> quantity held: read now, else the last read (a position the broker's read
    does not show: no order there is kept as closing it)."""
    try:
        positions = session.broker.positions()
    except Exception:  # the broker silent: the cancel's own listing will say so, if it is too
        positions = session.last_positions
    return {symbol: p.qty for symbol, p in positions.items()}
