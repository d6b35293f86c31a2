"""A fill a desk hears of that the audit trail already holds, whole or in part: one path.

Two ways bring a desk a fill: the broker's updates of an order (``SessionRecords.
_apply_updates``) and a look-up (a start's reconciliation, the settlement of an order in doubt:
``SessionRecords._record_with_row``). Either may find the fill refused: recorded already, by
another desk following the same ended session's order (every desk started since follows it,
``crash29``; a look-up of it at two starts, ``fills28``), or, for the desk's own order, by the
desk's own stream before its look-up (review29a). ``_record_elsewhere`` is the one answer for
both paths: what no desk recorded is recorded here (review29d, review29e); what another desk
recorded is accounted for as the broker holds it, in the desk's round-trip ledger (no round-trip
row: the recording desk's is the one, ``ledger29``) and in its expectation of the symbol (its
next cycle does not hold the symbol as changed, ``leftovers29``); a fill of the desk's own order
was counted when its stream recorded it, and is not counted again.

Before (records30) the two paths did this apart, and differently: the stream's path booked
another desk's part in the ledger but not in the expectation (the desk's next cycle held the
symbol, ``the broker holds 20 SPY where this session's fills make 10``), the look-up's counted
a fill of the desk's own order into the expectation a second time (the same hold, 40 for 20).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from tui_trader.core.ledger import TradeLedger
from tui_trader.core.order_ids import sent_by_another
from tui_trader.core.order_views import QTY_EPS
from tui_trader.core.orders import Fill, Order, fill_increment
from tui_trader.engine.outside_changes import OutsideChanges

if TYPE_CHECKING:
    from tui_trader.engine.ledger_beside import Lot
    from tui_trader.store.audit import AuditLog


class RecordedElsewhere:
    """Record what no desk recorded of a refused fill; account for what another desk did."""

    audit: AuditLog
    ledger: TradeLedger
    outside: OutsideChanges
    _record_fill: Callable[[Fill, float | None, Lot | bool | None], bool]

    def _record_elsewhere(self, order: Order, fill: Fill, lot: Lot | None = None) -> bool:
        """``fill`` of ``order`` was refused (its order's row had moved on, or the fills
        recorded for the order, with it, went past what the broker filled): record the part
        no desk recorded, if any, and account for the rest as the broker holds it; True if a
        part was recorded here. The order's row must already be at the broker's view.
        ``lot``: the ledger's top-up before the whole ``fill`` (``LedgerBeside._lot_beside``,
        asked before the transaction), taken once, before the first part the ledger books:
        without it a fill heard after the desk's sale of its shares (the sale's top-up took
        them from the broker's position) was booked a second time (review30b)."""
        if not self._others(order):  # this desk's own: its stream recorded and counted it
            return False
        rest = self._unrecorded_rest(order, fill)
        if rest is None or not self._record_fill(rest, order.filled_qty, lot):
            self._take_recorded(fill, lot)
            return False
        if fill.qty - rest.qty > QTY_EPS:  # the part another desk recorded (lot taken above)
            self._take_recorded(_recorded_part(fill, rest))
        return True

    def _others(self, order: Order) -> bool:
        """Whether ``order`` is another session's that this desk follows (an ended desk's
        order still working, adopted at the start): desks started together all follow it, and
        each one's stream brings its fill. Recorded only while the order's recorded fills,
        with it, stay within what the broker filled (``AuditLog.fill``'s ``upto``), the fill
        is recorded once; before, each desk recorded it (``crash29``: 15 shares for 8)."""
        session = self.audit.session
        return sent_by_another(order.client_order_id, session.key if session else None)

    def _unrecorded_rest(self, order: Order, fill: Fill) -> Fill | None:
        """The part of a followed order's ``fill`` (refused: with the fills recorded it went
        past what the broker filled) that no desk recorded, at the price the order's average
        leaves for it; None if nothing is left. This desk's stream missed an earlier part
        another desk recorded (it heard 0 to 2 where that desk heard 0 to 1, then stopped):
        refused whole, the rest was never recorded, and the row, at the broker's quantity,
        showed no later start anything missing (review29d)."""
        qty, notional = self.audit.recorded_fills(order.client_order_id)
        return fill_increment(order, qty, notional, fill.timestamp, event_time=fill.timestamp)

    def _take_recorded(self, fill: Fill, lot: Lot | None = None) -> None:
        """Account for a fill of an ended desk's order that another desk recorded first: the
        broker holds its shares. The ledger takes it: this desk's ledger was seeded at its
        start with the order's shares filled so far, and its rest, not recorded here, left it a
        lot short (``ledger29``: 10 SPY where the broker held 20; selling the 20 booked a round
        trip of 10 and a phantom short); the round trip the fill closes is the recording desk's
        row, not written twice. The symbol's expectation takes it too, or the next cycle held
        the symbol's orders as differing from this desk's fills (``leftovers29``). ``lot``:
        the ledger's top-up first, as for a fill this desk records (``_record_elsewhere``)."""
        if lot is not None:
            self.ledger.top_up(fill.symbol, lot[0], lot[1], fill.timestamp)
        self.ledger.on_fill(fill)
        self.outside.on_fill(fill)


def _recorded_part(fill: Fill, rest: Fill) -> Fill:
    """The part of a heard ``fill`` that another desk recorded (all but ``rest``, the part this
    desk records), at what it cost: the heard fill's notional less the rest's. At the heard
    fill's average price, the lot the ledger held cost more or less than at the broker when the
    parts filled at different prices (2 shares heard at 101, the first recorded at 100, the
    rest at 102: the lot cost 203 for the broker's 202, and selling both at 105 booked 7.00 of
    the broker's 8.00)."""
    qty = fill.qty - rest.qty
    price = (fill.qty * fill.price - rest.qty * rest.price) / qty
    share = qty / fill.qty  # its costs as its share of the heard fill's
    return replace(
        fill,
        qty=qty,
        price=round(price, 6),
        commission=fill.commission * share,
        slippage=fill.slippage * share,
    )
