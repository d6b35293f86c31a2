"""The kill switch between an order's decision and its sending: pressed while a pass sends its
orders one after another, it stops the ones not sent yet.

A press of ctrl+k (from the desk's thread: ``SessionHalts.request_kill``) or a monitor's kill
request (a ``halt_requests`` row another process writes: ``store.kill_requests``) becomes a halt
at the session's next pass: its cycle's halt step, or between bars once woken. The orders one
pass sends in a row, a rebalance and the orders queued by hand (the ticket, a close, flatten),
look for one before each: once there, each rebalance order not sent yet is refused, and each
order by hand that could add exposure, said and audited (``halted_order_refused``: ``... not
sent: the kill switch was pressed by ...``), and the next pass, woken, halts. An order by hand
that only shrinks a position whichever working orders fill (``Holding.closable``: a close, a
sell of no more than is held beside the working sells) still goes, as the halt lets it
(``ManualOrders`` passes ``killable`` for any other). An order refused this way whose
protective exit was cancelled first puts it back (``engine.stop_release``: its answer says
``not sent``). A halt's own orders (a flatten's closes) and protective exits are not stopped:
a halt sends them.

Where a press is looked for: in memory (``_kill``), free, before each order. A monitor's
request is read from the store right before each order only where rows commit one by one (a
broker across the network, Alpaca): there an order's slot and its row are statements already,
its request takes milliseconds and the request budget can hold it back for seconds, so a
request written meanwhile is one read away (about 20 microseconds on SQLite, beside an order's
~10 ms round trip to the sandbox). A local desk does not read (its order path gains about 0.15
microseconds): its cycle (and its pass between bars) holds the SQLite store's write lock from
its start to its end, so no request can be written while it sends (the monitor's write waits
for the cycle's commit); on PostgreSQL, where a cycle holds no such lock, its orders still reach
the in-process broker in microseconds. Either way the request is read at its next pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import Order, OrderStatus
from tui_trader.core.prices import exact_text
from tui_trader.risk.gate import HALTED_ORDER
from tui_trader.store.kill_requests import pending_kill

if TYPE_CHECKING:
    from tui_trader.core.orders import OrderRequest
    from tui_trader.engine.kill_switch import _KillRequest
    from tui_trader.store.audit import AuditLog


class KillFence:
    """Stop an order of a pass once the kill switch was pressed: a mixin of
    ``TradingSession`` under ``OrderSending`` (whose ``_send`` asks it)."""

    audit: AuditLog
    wake: threading.Event
    _kill: _KillRequest | None
    _kills_taken: list[int]
    _unsent: list[RiskEvent]
    """The refusal of an order not sent, for ``_send``'s caller (``SendFence``'s too)."""
    _return_slot: Callable[[], None]
    """Give back the day's order slot taken for an order then not sent (``OrderSending``)."""
    _kill_seen: str | None = None
    """Who asked for a kill the store holds, found right before an order (``kill_before_send``)
    and not taken yet: the pass's other orders are refused; the next pass takes it
    (``KillSwitch._take_kill_requests`` forgets it then)."""

    def kill_pending(self) -> str | None:
        """Who pressed the kill switch, if a press (or a request found in the store) waits
        to be taken: no order of the pass may go out. Memory only."""
        kill = self._kill
        return kill.who if kill is not None else self._kill_seen

    def kill_before_send(self, request: OrderRequest) -> Order | None:
        """Right before ``request`` (a rebalance's order or one by hand) is sent: if the kill
        switch was pressed, its answer ``rejected`` (``not sent: ...``, so that an exit
        cancelled for it goes back), its refusal in ``_unsent`` and its slot given back; else
        ``None``. Where rows commit one by one, a monitor's request is read from the store
        too (see the module); found, the desk is woken to halt at once."""
        who = self.kill_pending()
        if who is None and self.audit.commit_before_send and self.audit.session is not None:
            session = self.audit.session
            found = pending_kill(self.audit.db, session.id, session.account_key, self._kills_taken)
            if found is not None:
                who = self._kill_seen = found.requested_by
                self.wake.set()
        if who is None:
            return None
        self._return_slot()  # not sent: not one of the day's orders
        what = f"{request.side} {exact_text(request.qty)} {request.symbol}"
        self._unsent.append(kill_refusal(what, who, request.symbol))
        return Order.from_request(request, OrderStatus.REJECTED, f"not sent: {_pressed(who)}")


def kill_refusal(what: str, who: str, symbol: str | None) -> RiskEvent:
    """An order (``what``: side, size and symbol, as the desk says it) not sent because the
    kill switch was pressed before it went out."""
    said = f"{what} not sent: {_pressed(who)}"
    return RiskEvent(HALTED_ORDER, 0.0, 0.0, said, symbol=symbol, detail=said)


def _pressed(who: str) -> str:
    """Why such an order was not sent."""
    return f"the kill switch was pressed by {who} before it went out"
