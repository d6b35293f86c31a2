"""The gap between an order's slot and its sending: an order held up in it is not sent into a
halt written meanwhile.

A session whose rows commit one by one (Alpaca) takes each order's slot of the account's daily
count with one ``UPDATE`` that fails while the account is halted (``store.risk_store``: the
fence). Then the order's row is written (a durable commit) and the HTTP request goes out. A
process stopped between the slot and the send (SIGSTOP or Ctrl+Z, a laptop's suspend, a paused
VM, a long stall) could wake after another process halted the account (``fleet halt``, another
desk's kill switch) and still send that one order.

So the slot's commit is timed on the boot clock (``CLOCK_BOOTTIME``: it runs on while a process
is stopped and while the machine is suspended, so a process that was frozen sees the time it
lost), and the send looks twice, before the order's row is written and right before the
request: once more than ``SEND_GAP`` has passed, the session writes its heartbeat (a session
another start recorded dead meanwhile, its orders taken over, stops there: ``RowEnded``) and
reads the account's row again. Halted, the order is not sent: a ``halted_order_refused`` event
says so (and, where its row was written already, the row ends ``rejected`` with the reason in
plain words), and the halt is adopted and acted on in the cycle, as for a fenced slot. Its slot
stays counted. On the normal path (a gap of a few milliseconds) this costs a few clock readings
and no statement.

What remains, and cannot be closed from this side: a process stopped after that last look and
before its request leaves (a few Python statements and the HTTP client's own code), or a pause
shorter than ``SEND_GAP`` with a halt written inside it, still sends its order into the halt;
so does a guest whose boot clock stops while its VM is paused. Only the broker can refuse
every order of a halted account: a session run with ``--suspend-on-halt`` sets Alpaca's
``suspend_trade`` when it takes the halt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import Order, OrderRequest, OrderStatus
from tui_trader.risk.gate import HALTED_ORDER
from tui_trader.risk.state import RiskState
from tui_trader.store.risk_store import read_risk_state

if TYPE_CHECKING:
    from tui_trader.risk.gate import RiskManager
    from tui_trader.store.audit import AuditLog

SEND_GAP = 0.05
"""Seconds between an order's slot and its sending past which the account's halt is read
again (the normal gap, a durable commit and a little code, is a few milliseconds)."""
_BOOT_CLOCK = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def since_boot() -> float:
    """Seconds on the boot clock (the monotonic clock where there is none)."""
    return time.clock_gettime(_BOOT_CLOCK)


class SendGap:
    """When the slot of the order about to be sent was taken, on the boot clock."""

    __slots__ = ("_at", "_clock", "client_order_id")

    def __init__(self, clock: Callable[[], float] = since_boot) -> None:
        self._clock = clock
        self.client_order_id: str | None = None
        """The order whose slot was noted (``None``: none; the send then looks at nothing)."""
        self._at = 0.0

    def slot_taken(self, client_order_id: str) -> None:
        """A fenced slot was just taken for this order."""
        self.client_order_id = client_order_id
        self._at = self._clock()

    def overdue(self, client_order_id: str) -> float | None:
        """Seconds since this order's slot was taken, if more than ``SEND_GAP`` (its halt is
        to be read again); ``None`` otherwise, or if no slot was noted for it."""
        if client_order_id != self.client_order_id:
            return None
        gap = self._clock() - self._at
        return gap if gap > SEND_GAP else None

    def clear(self) -> None:
        """The order was sent or refused: no slot noted any more."""
        self.client_order_id = None


def gap_words(gap: float) -> str:
    """How the refusal names the gap."""
    return (
        f"during the {gap:.1f} s between the order's slot and its sending (this process was "
        "stopped, suspended or stalled)"
    )


class SendFence:
    """The fence of an order decided while the account was active: at its slot
    (``_fenced_off``, from ``OrderRouting._reserve_slot``) and in its send gap
    (``_gap_refusal``). A mixin of ``TradingSession``."""

    risk: RiskManager
    audit: AuditLog
    account_key: str
    send_gap: SendGap
    _unsent: list[RiskEvent]
    """The refusal of an order found halted in its send gap, for ``_send``'s caller."""
    _cycle_orders: list[Order]
    _fenced = False
    """An order's slot found the account halted by another process (``_reserve_slot``): the
    halt is adopted, to be acted on as the cycle ends (``_halted_meanwhile``)."""

    def _fenced_off(
        self, before: RiskState, row: RiskState, request: OrderRequest, when: str
    ) -> RiskEvent:
        """Adopt the halt another process wrote (``row``) at once, so the gate refuses the
        cycle's later orders that add exposure (the cycle acts on it as it ends:
        ``_halted_meanwhile``); the refusal of ``request`` that it fenced off."""
        self._fenced = True
        self.risk.state = replace(
            before,
            state=row.state,
            halt_reason=row.halt_reason,
            halt_detail=row.halt_detail,
            halt_id=row.halt_id,
        )
        return RiskEvent(
            HALTED_ORDER,
            0.0,
            0.0,
            f"refused {request.side} {request.qty:g} {request.symbol}: the account was "
            f"halted by another process ({row.halt_reason}) {when}; not sent",
            symbol=request.symbol,
            detail=row.halt_detail,
        )

    def _gap_refusal(self, request: OrderRequest, written: bool) -> Order | None:
        """The order refused if its slot was taken more than ``SEND_GAP`` ago and another
        process halted the account meanwhile (its event waits in ``_unsent`` for the caller;
        ``written``: its row is written, and ends ``rejected``); ``None``: go on. Raises
        ``RowEnded`` if this session was recorded dead meanwhile. Right before the request
        (``written``) the slot is forgotten either way."""
        gap = self.send_gap.overdue(request.client_order_id)
        if written:
            self.send_gap.clear()
        if gap is None or self.risk.state.halted:
            return None
        self.audit.beat(force=True)  # recorded dead while stopped: stop before sending
        row = read_risk_state(self.audit.db, self.account_key)
        if row is None or not row.halted:
            if not written:  # just looked: the row's write is timed from now
                self.send_gap.slot_taken(request.client_order_id)
            return None
        self.send_gap.clear()
        when = gap_words(gap)
        self._unsent.append(self._fenced_off(self.risk.state, row, request, when))
        refused = Order.from_request(
            request,
            OrderStatus.REJECTED,
            f"not sent: the account was halted by another process ({row.halt_reason}) {when}",
        )
        if written:
            self.audit.order_update(refused)
            self._cycle_orders.append(refused)
        return refused
