"""A start puts back the stop a desk without exits cancelled before its sell and died before
putting it back.

A desk that keeps no exits cancels the stop an ended desk left before its own sell, and puts
it back if that sell does not go out (``engine.stop_release``); which stop waits on which sell
lives in memory. A desk killed in between (``kill -9`` after the cancel, before or while the
sell went out) left the position at the broker without its stop, and the next start, keeping
no exits either, neither placed it nor said anything (a desk with exits places a stop for
every position found without one at its start, ``ProtectiveStops._protect``).

Now a start of a desk without exits reads those stops from the store
(``store.dropped_exits``) and takes each over from the dead desk by the same compare-and-set
as any ended desk's stop (two starts never both put it back). It then decides as the dead
desk would have: no sell written, or one that ended without a fill (never received,
rejected, cancelled), the stop goes back at once at its price for the shares held, said and
audited (``exit_placed_again``); a sell still working or in doubt is followed as the desk's
own (``_doubted``): the stop goes back once it ends unfilled, and meanwhile the position is
said NOT protected; a sell that filled did the stop's work, as for a sell that went out.

A mixin of ``TradingSession`` under ``ProtectiveStops``.
"""

from __future__ import annotations

from datetime import datetime

from tui_trader.brokers import BrokerError
from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.order_ids import short_key
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, Side
from tui_trader.engine.exit_words import may_still, named_exits
from tui_trader.engine.stop_release import StopRelease
from tui_trader.engine.stops_at_finish import LEFT_DOWN
from tui_trader.risk.stops import is_protective
from tui_trader.store.dropped_exits import DroppedExit, SellRow, dropped_exits, leave_dropped
from tui_trader.store.stop_rows import row_order_type, take_stop_row

TAKEN_AT_START = "its desk died between its cancel and its sell's end; put back at this start"
"""Why a start took over a stop a dead desk without exits had cancelled (its row says it)."""


class StopsAfterDeath(StopRelease):
    """At start, put back the stops a dead desk without exits cancelled and did not restore."""

    account_key: str

    def stops_after_death(self, market_time: datetime) -> list[RiskEvent]:
        """For a desk without exits on a broker whose orders outlive it: each stop a dead
        desk cancelled before its sell and did not put back goes back (or waits on that sell,
        said); the events. Nothing for a desk with exits (its start places a stop for every
        position without one) or a simulated account (a fresh one each session)."""
        session = self.audit.session
        if self.protects or session is None:
            return []
        if getattr(self.broker, "orders_end_with_session", False):
            return []
        found = dropped_exits(self.account_key, session.id)
        if not found:
            return []
        positions = self.broker.positions()
        working = self.broker.open_orders()
        events: list[RiskEvent] = []
        for dropped in found:
            symbol = dropped.symbol
            if dropped.newer:
                self._leave(dropped, "a newer exit was placed in the symbol since")
                continue
            if any(
                o.symbol == symbol and is_protective(o.client_order_id, o.order_type)
                for o in working
            ):
                self._leave(dropped, "an exit works for the position")
                continue
            if dropped.sell is not None and dropped.sell.filled_qty > 0:
                self._leave(dropped, "its sell went out and sold")  # the stop's work
                events += self._sold_part(dropped, positions.get(symbol), working)
                continue
            position = positions.get(symbol)
            try:
                stop = self.broker.get_order(dropped.row.client_order_id)
            except BrokerError as exc:
                events.append(self._unprotected(symbol, _down(dropped, f"not looked up: {exc}")))
                continue
            if stop is None or stop.status is not OrderStatus.CANCELED or stop.filled_qty > 0:
                self._leave(dropped, "the broker has no cancelled stop of that id to put back")
                continue
            if position is None or position.qty * stop.side.sign >= 0:
                self._leave(dropped, "nothing was left for it to close")  # sold since: a later
                continue  # position in the symbol is not this old stop's to protect
            with self.audit.together():
                taken = take_stop_row(dropped.row, session.id, TAKEN_AT_START, self.clock.now())
            if not taken:
                continue  # another start took it first: that one puts it back
            came = short_key(dropped.row.session.key)
            self._adopted[stop.client_order_id] = came
            released = [(stop, came)]
            sell = dropped.sell
            if sell is None:
                why = (
                    f"session {came} cancelled it before a sell and died before that sell went out"
                )
                events += self._put_back(symbol, released, why, market_time)
                continue
            request = _request(symbol, sell)
            self._doubted[sell.client_order_id] = (request, released)
            if sell.status in ("unknown", "pending_new", "new", "partially_filled"):
                events.append(
                    self._unprotected(
                        symbol,
                        _down(
                            dropped,
                            f"{named_exits(released)} was cancelled for {sell.side} "
                            f"{sell.quantity:g} {symbol} ({sell.status}), which "
                            f"{may_still(sell.side)} the shares; it goes back once that order "
                            "ends unfilled",
                        ),
                    )
                )
        return events + self._restore_exits(market_time)

    def _sold_part(
        self, dropped: DroppedExit, position: Position | None, working: list[Order]
    ) -> list[RiskEvent]:
        """A dropped stop whose sell sold (in part, or part of the position): the stop's work,
        so it is not put back (this desk keeps no exits); but the shares held that no working
        order closes are said NOT protected, once (its row is left, ``_leave``). The dead
        desk may never have said it (killed after recording the sell's partial fill): before,
        the start said nothing while the rest of the position had no stop."""
        sell = dropped.sell
        if position is None or sell is None:
            return []
        held, symbol = position.qty, dropped.symbol
        closes = [o for o in working if o.symbol == symbol and o.side.sign * held < 0]
        bare = abs(held) - sum(o.remaining_qty for o in closes)
        if held * Side(sell.side).sign >= 0 or bare <= 1e-9:
            return []  # nothing left on the stop's side, or working orders close it all
        line = _down(
            dropped,
            f"{sell.side} {sell.quantity:g} {symbol} sold {sell.filled_qty:g} ({sell.status}), "
            f"so its stop stays cancelled, and {bare:g} of the {abs(held):g} shares held have "
            "no stop: this desk keeps no exits (no --stop-loss or --take-profit)",
        )
        self.stop_notes.append(f"{symbol} is NOT protected: {line}")
        return [RiskEvent(LEFT_DOWN, bare, 0.0, f"{symbol} is NOT protected: {line}", symbol)]

    def _leave(self, dropped: DroppedExit, why: str) -> None:
        """Mark a dropped stop this start found nothing to put back for, so that no later start
        reads it again (``store.dropped_exits``): a later position in the symbol (the shares
        sold since, bought again) is not given that old stop at its old price."""
        with self.audit.together():
            leave_dropped(dropped.row, why)


def _request(symbol: str, sell: SellRow) -> OrderRequest:
    """The order a dropped stop was cancelled for, as its row says (followed until it ends)."""
    kind = row_order_type(sell.order_type)
    return OrderRequest(
        symbol, Side(sell.side), sell.quantity, sell.client_order_id, kind, sell.limit_price
    )


def _down(dropped: DroppedExit, why: str) -> str:
    """Why a dead desk's cancelled stop is not back yet, naming that desk."""
    came = short_key(dropped.row.session.key)
    return f"session {came} died after cancelling its stop {dropped.row.client_order_id}: {why}"
