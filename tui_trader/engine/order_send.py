"""Sending one order: the account's order slot for the day, the row before the broker, and
the broker's answer or the doubt about it.

A mixin of ``TradingSession`` under ``OrderRouting`` (which decides what to send); the fence
against a halt written between the slot and the send is ``SendFence``'s, the one against a
kill switch pressed while a pass sends its orders ``KillFence``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, unfilled
from tui_trader.engine.kill_fence import KillFence
from tui_trader.engine.send_gap import SendFence
from tui_trader.engine.sold_since import SoldSince
from tui_trader.risk.gate import ORDER_RATE

_NO_LIMIT = 2**31 - 1
"""The slot limit of an order the day's order limit does not refuse: counted, never refused."""

if TYPE_CHECKING:
    from tui_trader.core.clock import Clock
    from tui_trader.engine.settlement import Unsettled
    from tui_trader.risk.gate import RiskManager
    from tui_trader.store.audit import AuditLog


class OrderSending(SendFence, KillFence, SoldSince):
    """The slot, the row, the send; the session supplies the state it works on."""

    broker: Broker
    audit: AuditLog
    risk: RiskManager
    iteration: int
    clock: Clock
    unsettled: Unsettled
    _cycle_orders: list[Order]

    def _reserve_slot(self, request: OrderRequest, closes: bool = False) -> RiskEvent | None:
        """Take one of the account's order slots for the day before the order is sent: the
        one place an order is counted (the count is shared by every process on the account;
        the gate only decides). The refusal, if the limit is reached, or if another process
        halted the account since this session read it active (the reservation is its fence:
        ``store.batching``). Such a halt is adopted at once, so the gate refuses the cycle's
        later orders that add exposure; the cycle acts on it as it ends (``_halted_meanwhile``).
        ``closes``: a manual order that only closes what is held (``RiskManager.check_order``)
        takes a slot past the limit too."""
        limit = self.risk.limits.max_orders_per_day
        before = self.risk.state
        ok, state = self.audit.reserve_order(before, _NO_LIMIT if closes else limit)
        if not ok and state.halted and not before.halted:  # fenced off: not sent, not counted
            return self._fenced_off(before, state, request, "after this session decided the order")
        self.risk.state = state
        if ok:
            if self.audit.commit_before_send and not before.halted:  # fenced: time its send
                self.send_gap.slot_taken(request.client_order_id)
            return None
        if before.day is None:  # no trading day yet: no count of it to take a slot of
            return RiskEvent(
                ORDER_RATE,
                0.0,
                0.0,
                f"refused {request.side} {request.qty:g} {request.symbol}: the desk has not run "
                "its first cycle yet (the account's order count for the day starts there); "
                "send it again once the first cycle has run",
                symbol=request.symbol,
            )
        count = self.risk.state.orders_today
        return RiskEvent(
            ORDER_RATE,
            float(count),
            float(limit),
            f"refused {request.side} {request.qty:g} {request.symbol}: {count} orders sent "
            "today on this account (all its sessions)",
            symbol=request.symbol,
        )

    def _return_slot(self) -> None:
        """Give back the slot ``_reserve_slot`` took for an order that then waits for the
        next cycle unsent (its symbol's protective exit not cancelled yet: a sell needs the
        exit's shares). The slot comes first so that no exit is cancelled for an order the
        day's limit then refuses; kept, each cycle of the wait spent one of the account's
        orders for the day, for nothing sent."""
        self.risk.state = self.audit.release_order(self.risk.state)
        self.send_gap.clear()

    def _send(
        self,
        request: OrderRequest,
        market_time: datetime,
        rationale: Callable[[], str] | None = None,
        killable: bool = False,
        fence: Callable[[], str | None] | None = None,
        since: object = None,
        others_counted: bool = False,
        sold_check: bool = True,
    ) -> Order | None:
        """Write the order row, then send; ``None`` if the broker's answer is in doubt. An
        answer of ``unknown`` (lost, and the broker does not know the order yet) is followed as
        unsettled: its symbol blocked and the order counted as held until it settles.
        ``rationale`` builds the row's rationale (default: the request's own). An order whose
        slot was taken long ago and whose account was halted meanwhile is not sent
        (``SendFence._gap_refusal``). ``killable``: a rebalance's order or one by hand, not
        sent once the kill switch was pressed (``KillFence``): its slot given back, no row,
        its refusal in ``_unsent`` and an answer ``rejected`` saying ``not sent``. ``fence``:
        asked once the row is committed, right before the send; a reason it returns leaves the
        order unsent, its row and answer ``rejected`` with that reason (a flatten close
        another desk's went out before: ``engine.close_claims``); then a sale waits, unsent
        the same way, beside a sale's fill recorded after its positions were read (``since``:
        the marker read before them; default the cycle's; ``others_counted``: other desks'
        fills since it counted in the sizing already; ``sold_check`` ``False``: an exit the
        exit step sized from its own reads: ``engine.sold_since``)."""
        if killable and (stopped := self.kill_before_send(request)) is not None:
            return stopped
        timed = self.send_gap.client_order_id is not None  # a fenced slot (an Alpaca order)
        if timed and (refused := self._gap_refusal(request, written=False)) is not None:
            return refused
        self.audit.order_pending(request, self.iteration, market_time, rationale)
        if timed and (refused := self._gap_refusal(request, written=True)) is not None:
            return refused
        why = fence() if fence is not None else None
        if why is None and sold_check:
            why = self._sold_since(request, since, others_counted)
        if why is not None:
            unsent = Order.from_request(request, OrderStatus.REJECTED, why)
            self._record_ack(unsent)
            return unsent
        self._sent(request.client_order_id)
        try:
            ack = self.broker.submit(request)
        except BrokerError as exc:
            self._in_doubt(request, exc)
            return None
        self._record_ack(ack)
        if ack.status is OrderStatus.UNKNOWN:  # answer lost, the broker does not know it yet
            now = self.clock.now()
            self.unsettled.add(ack, now, now=now)
        return ack

    def _record_ack(self, ack: Order) -> None:
        """Write the broker's answer into the order's row; one carrying fills ``unfilled``
        (``core.orders``): its state comes with the fills, in the broker's next update."""
        self.audit.order_update(unfilled(ack) if ack.filled_qty > 0 else ack)
        self._cycle_orders.append(ack)

    def _in_doubt(self, request: OrderRequest, exc: BrokerError) -> None:
        """Record an order whose fate is unknown (a send's or replace's answer and look-up both
        failed) and follow it as unsettled: fills recorded later, its symbol blocked till then."""
        unknown = Order.from_request(request, OrderStatus.UNKNOWN, str(exc))
        self.audit.order_update(unknown)
        self._cycle_orders.append(unknown)
        now = self.clock.now()
        self.unsettled.add(unknown, now, now=now)
