"""Following the orders whose fate decides whether exits cancelled for them go back: an order
no longer in doubt, or accepted but not filled yet, and an exit placed again whose own send was
in doubt.

Each is looked up once a cycle (``StopRelease._restore_exits``) until its fate is known: ended
without a fill, its exits go back (``StopRelease._put_back``); filled, it did their work (a sell
went out); while it works, asked again next cycle. An exit a put-back did not place again in
full, since other orders (a later sell) may close the shares, waits on the largest of them the
same way (``_follow``), for a session without exits, which places none of its own. See
``engine.stop_release``.

A mixin of ``TradingSession`` under ``StopRelease``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import Order, OrderRequest, OrderStatus
from tui_trader.engine.exit_words import Released, unfilled_end
from tui_trader.risk.stops import is_protective

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.engine.exit_drops import ExitDrops
    from tui_trader.engine.settlement import Unsettled


class PutBackWaits:
    """Look up the orders exits wait on; put the exits back once an order ended unfilled."""

    broker: Broker
    protects: bool
    unsettled: Unsettled
    exit_drops: ExitDrops
    """Exits dropped again since said (``engine.exit_drops``): a sell that went out ends them."""
    _adopted: dict[str, str]
    """Client order id -> the session an exit was taken over from (``StopTakeover``)."""
    _doubted: dict[str, tuple[OrderRequest, Released]]
    """Client order id -> an order in doubt exits wait on, and those exits (``StopRelease``)."""
    _accepted: dict[str, tuple[OrderRequest, Released]]
    """Client order id -> an order working, not filled yet, exits wait on (``StopRelease``)."""
    _unsure: dict[str, Released]
    """Symbol -> exits whose cancel before an order was not confirmed (``StopRelease``)."""
    _put_doubt: dict[str, tuple[str, Released, str]]
    """Client order id -> an exit placed again whose own send is in doubt, its symbol
    (``StopRelease``)."""
    _put_back: Callable[..., list[RiskEvent]]
    """Place exits again beside what may close the shares (``StopRelease``)."""

    def _after_put_back(
        self, symbol: str, cid: str, released: Released, why: str, market_time: datetime
    ) -> list[RiskEvent]:
        """Look up ``cid``, an exit placed again whose send was in doubt, now that the doubt
        has settled: working, it protects the position (an ended session's again, for a
        session without exits); filled, it did its work; never received, or ended without a
        fill, the exits go back once more (else the position stayed without one for good:
        a session without exits places none of its own). Asked again next cycle if the
        broker does not answer."""
        try:
            found = self.broker.get_order(cid)
        except BrokerError:
            return []
        del self._put_doubt[cid]
        if found is not None and found.status.is_open:
            came = released[0][1]
            if came is not None and not self.protects:
                self._adopted[cid] = came
            return []
        if found is not None and found.filled_qty > 0:
            return []
        never = found is None or found.status is OrderStatus.NOT_RECEIVED
        how = "never reached the broker" if never or found is None else f"ended {found.status}"
        return self._put_back(
            symbol, released, f"{why}; the exit sent again then {how}", market_time
        )

    def _after_it_ended(
        self,
        waiting: dict[str, tuple[OrderRequest, Released]],
        order: OrderRequest,
        released: Released,
        market_time: datetime,
    ) -> list[RiskEvent]:
        """Look ``order`` up (no longer in doubt, or accepted): once it has ended without a
        fill (never received, rejected after it was accepted, cancelled), its exits go back;
        once it filled, it went out (unless other sells still work: ``_wait_on_others``);
        while it works, asked again next cycle."""
        try:
            found = self.broker.get_order(order.client_order_id)
            sold = found is not None and found.filled_qty > 0 and not found.status.is_open
            if sold and self._wait_on_others(order, released):
                del waiting[order.client_order_id]
                return []  # they may yet end unfilled: the exits wait on them
        except BrokerError:
            return []  # asked again next cycle
        if found is not None and found.status.is_open:
            return []  # it works: decided when it ends
        del waiting[order.client_order_id]
        if sold:
            return self.exit_drops.over(order.symbol)  # it sold: as for a sell that went out
        why = unfilled_end(order, found)
        return self._put_back(order.symbol, released, why, market_time, order.client_order_id)

    def _wait_on_others(self, order: OrderRequest, released: Released) -> bool:
        """Whether ``released``, exits waiting on ``order``, which filled, now wait on other
        orders still working (or in doubt) that may close the same shares (``_follow``): one
        of those may yet end unfilled, and the position would then have no exit, for a session
        without exits places none. Before, the exits were forgotten once the order they
        followed filled. ``BrokerError`` if the broker's orders cannot be read."""
        doubt = self.unsettled.in_doubt() if self.unsettled else []
        working = self.broker.open_orders()
        orders = {o.client_order_id: o for o in [*doubt, *working] if o.symbol == order.symbol}
        orders.pop(order.client_order_id, None)
        ids = {o.client_order_id for o in doubt}
        return any([self._follow(order.symbol, orders, gone, ids) for gone in released])

    def _follow(
        self, symbol: str, orders: dict[str, Order], gone: tuple[Order, str | None], doubt: set[str]
    ) -> bool:
        """Follow ``gone``, an exit ``StopRelease._put_back`` did not place again in full
        beside ``orders`` that may close its shares, as an exit waiting on the largest of them
        (none but exits: it is protected): it goes back, for what that order did not close,
        once that order ends unfilled (``_after_it_ended``). Forgotten, as it was, a session
        without exits lost it for good: a sell by hand priced again (the first cancelled, a
        second sent before the put-back, then cancelled too) left the position without a
        stop, and nothing said so. Whether an order was found to wait on."""
        side = gone[0].side
        closers = [
            o
            for o in orders.values()
            if o.side is side and not is_protective(o.client_order_id, o.order_type)
        ]
        if not closers:
            return False
        order = max(closers, key=lambda o: (o.remaining_qty, o.client_order_id))
        cid = order.client_order_id
        waiting = self._doubted if cid in doubt else self._accepted
        request, released = waiting.get(cid, (_as_request(order), []))
        waiting[cid] = (request, [*released, gone])
        return True

    def _cancel_unsure(self, symbol: str, order: Order, came: str | None) -> None:
        """Remember ``order``, an exit whose cancel before an order in ``symbol`` was sent, in
        case it is not confirmed (its answer lost, or still pending at the deadline): the
        order then waits, yet the broker may have cancelled the exit. A session without exits
        places none of its own, so it looks the exit up (``_unsure_ends``); before, the
        position was left without it for good, with nothing said."""
        if not self.protects:
            self._unsure[symbol] = [(order, came)]

    def _unsure_ends(self, market_time: datetime) -> list[RiskEvent]:
        """Look up each exit whose cancel was not confirmed: still working (its cancel did
        not take, or is still on its way), asked again next cycle; filled, it did its work;
        replaced (``Order.replaced_by``: an ended desk's resize its row did not say), its
        replacement protects the position and is taken over like any ended desk's exit, so
        nothing is put back beside it (read as cancelled, it was: two stops, one position);
        cancelled (or ended otherwise), placed again for what is held beside what may close
        the shares (``StopRelease._put_back``). Asked again if the broker does not answer."""
        events: list[RiskEvent] = []
        for symbol, exits in sorted(self._unsure.items()):
            old = exits[0][0]
            try:
                found = self.broker.get_order(old.client_order_id)
            except BrokerError:
                continue
            if found is not None and found.status.is_open:
                continue
            del self._unsure[symbol]
            if found is not None and found.status is OrderStatus.FILLED:
                continue  # it did its work (cut short in part: what is left goes back)
            if found is not None and found.was_replaced:
                continue  # its replacement protects (taken over from the listing): none beside
            how = f"ended {found.status}" if found is not None else "is gone"
            why = f"the cancel of {old.client_order_id} was not confirmed and it {how}"
            events += self._put_back(symbol, exits, why, market_time, old.client_order_id)
        return events


def _as_request(order: Order) -> OrderRequest:
    """``order`` as the request it was (followed like an order this session sent)."""
    return OrderRequest(
        order.symbol,
        order.side,
        order.qty,
        order.client_order_id,
        order.order_type,
        order.limit_price,
        order.time_in_force,
        stop_price=order.stop_price,
    )
