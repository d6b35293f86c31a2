"""A sale waits a cycle when a sale's fill in its symbol was recorded after the positions it
was sized from were read.

A desk sizes its sales from the broker's positions read at the start of its cycle (a hand
order, a halt's flatten, an exit put back: from a read of their own). Between that read and the
sale's send the desk can record a fill that read may not hold: a protective exit it took over
from an ended desk (its stop filled a moment after that desk stopped, the listing still showing
it working), its own exit, a fill the stream brought while the cycle ran (the check of the
positions against the desk's fills drains it), an ended desk's late fill. Sized from the read
before it, the sale sold those shares a second time: the ``campaign32`` run pg6012 (PostgreSQL,
``position_lag=0.4``) took an exit over, recorded its stop's fill of 20 SPY and half a second
later sold the 20 SPY its cycle's read still showed: short 20 SPY for 11 s. The desk's own
orders were left out of ``risk.holdings.less_sales_filled`` because its positions are
corrected from its own fills; a fill recorded after the read is not in them yet, and a
taken-over exit's fills are recorded as the desk's own.

So ``_send`` (the one place every order goes out: the strategies', by hand, a flatten's close,
an exit put back) asks the store, for a sale of a broker-backed desk, whether any fill on the
sell side of its symbol was recorded after the marker read just before those positions
(``AuditLog.fills_marker``): every session's, but the orders this desk sent since that marker
(sized knowing them: a closing leg before its opening one); only the desk's own where the
sizing took the other desks' fills since its read out already (a flatten's close, an exit put
back: ``engine.sales_beside``). If one was, the sale is not sent: its row and answer say ``not
sent`` and why, in plain words, and the next cycle sizes it again from a read that holds the
fill. Whether the positions held the fill already cannot be told from here: the desk fails
closed, and waits one cycle.

A protective exit placed by the exit step is not held so: it reads the open orders and then
the positions itself, right before, and counts other desks' fills since
(``engine.protective_stops``); held back, a desk beside another selling every cycle never got
its stop.
A local account's marker is ``None`` (its cycle is one statement): nothing is asked there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.orders import OrderRequest, Side
from tui_trader.store.other_sales import closed_since

if TYPE_CHECKING:
    from tui_trader.store.audit import AuditLog


class SoldSince:
    """The wait of a sale beside a fill recorded after its positions were read. A mixin of
    ``TradingSession`` (under ``OrderSending``)."""

    audit: AuditLog
    last_marker: object
    sent_since_marker: frozenset[str] = frozenset()
    """Client ids of the orders this session sent since ``last_marker`` was read (a few a
    cycle: replaced, not changed in place, so the class's empty one is never shared)."""

    def marked(self, marker: object) -> object:
        """``marker`` (``fills_marker``, read just before the positions) as the session's
        ``last_marker``, the orders sent since it forgotten; returns it."""
        self.last_marker = marker
        self.sent_since_marker = frozenset()
        return marker

    def _sent(self, client_order_id: str) -> None:
        """An order of this session went out (its fills are counted in its sizing)."""
        self.sent_since_marker = self.sent_since_marker | {client_order_id}

    def _sold_since(
        self, request: OrderRequest, since: object = None, others_counted: bool = False
    ) -> str | None:
        """Why the sale ``request`` is not sent (see the module): ``None`` to send it, a buy
        always. ``since``: the marker read before the positions it was sized from (default
        the cycle's, ``last_marker``); ``others_counted``: the sizing took other desks' fills
        since then out already (``engine.sales_beside``): only this desk's own count here."""
        if request.side is not Side.SELL:
            return None
        marker = self.last_marker if since is None else since
        session = self.audit.session
        if marker is None or session is None:
            return None
        mark = marker if isinstance(marker, int) else str(marker)
        sold = closed_since(
            session.account_key,
            request.symbol,
            session.id if others_counted else None,
            mark,
            str(Side.SELL),
            sorted(self.sent_since_marker),
            own=others_counted,
        )
        if sold <= 1e-9:
            return None
        symbol = request.symbol
        return (
            f"not sent: a sale of {sold:g} {symbol} filled and was recorded after this desk read "
            f"its positions (an exit taken over or its own, a fill heard while the cycle ran), "
            f"so the {symbol} position it was sized from may not hold it; it is sized again "
            "next cycle from a fresh read"
        )
