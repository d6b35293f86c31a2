"""Placing again the exits cancelled before an order that did not go out (``engine.stop_release``
says when), each claimed on its symbol's close row first.

The exit goes back as it was, for no more than is held now beside the orders that may close it.
Its position is read right before, and another desk's halt flatten may close the position after
that read: a stop put back beside that close, sized from the earlier reading, could sell the
same shares (a short). The desk's own order often fails to go out because of that very halt (it
was found in the order's send gap), so the two meet. So the account's close rows are read
before the positions, and each exit put back is claimed on its symbol's close row as a
flatten's close and an exit placed by ``_protect`` are (``engine.close_claims``): of an exit
and a close read from one version, one goes out. One not sent says why and is tried again
at the next cycle, from a fresh reading (before, ``review30c``: placed on the flat account).

A close claimed before that read but absent from it (Alpaca's positions may lag its fill, its
listing of open orders may be half a minute old) is found in the store, as the exit step finds
it (``engine.sales_beside``: other desks' working closes the listing lacks, their fills since):
its shares are left out; an exit that leaves nothing to place then waits for the next cycle's
fresh reading (before: a stop for the whole position on the account the close had emptied).

A mixin of ``TradingSession`` under ``StopRelease``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, TimeInForce
from tui_trader.engine.close_claims import EXIT_RACED, read_close_rows
from tui_trader.engine.exit_words import Released, named_exits
from tui_trader.engine.sales_beside import sales_beside
from tui_trader.risk.exits import at_market, passed_level, take_profit_of
from tui_trader.store.other_sales import newest_fill_id

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.engine.claims import AccountClaims
    from tui_trader.engine.settlement import Unsettled
    from tui_trader.risk.gate import RiskManager
    from tui_trader.store.audit import AuditLog

PLACED_AGAIN = "exit_placed_again"
"""Risk event: an exit cancelled before an order that did not go out was placed again."""
AT_MARKET = "exit_closed_at_market"
"""Risk event: an exit to put back whose level the price had passed since closed at market."""
_BESIDE = (
    "another desk's order closes those shares (its row in the store; the broker's reads may "
    "lag it); tried again next cycle"
)
"""Why an exit was not placed again: the store shows another desk's close of its shares."""


class ExitPutBack:
    """Place exits cancelled before an order that did not go out again, claimed first."""

    broker: Broker
    audit: AuditLog
    claims: AccountClaims | None
    risk: RiskManager
    iteration: int
    protects: bool
    unsettled: Unsettled
    stop_notes: list[str]
    _adopted: dict[str, str]
    _to_restore: dict[str, tuple[Released, str, int]]
    _put_doubt: dict[str, tuple[str, Released, str]]
    _send: Callable[..., Order | None]
    _broker_doubt: Callable[[OrderRequest], RiskEvent]
    _stop_id: Callable[[str], str]
    _unprotected: Callable[[str, str], RiskEvent]
    _follow: Callable[..., bool]

    def _put_back(
        self, symbol: str, released: Released, why: str, market_time: datetime, ended: str = ""
    ) -> list[RiskEvent]:
        """Place ``released`` again as they were, each for no more than is held now beside
        the orders that may close it (working, or in doubt: one placed since may sell the
        shares), as protective orders (a halt does not refuse them); ``why``: what happened
        to the order they were cancelled for; ``ended``: that order's client id (over, though
        a listing may show it yet). The events: each placed again, or NOT protected (kept
        for the next cycle's try). What other orders may close waits on them (``_follow``)."""
        session = self.audit.session
        shared = self.claims is not None and session is not None
        since = newest_fill_id() if shared else None  # (``engine.sales_beside``)
        # the close rows before the positions: a flatten's close claimed since holds it back
        rows = read_close_rows(self.audit, self.claims is not None)
        try:  # the open orders before the positions: a sale filling between the two reads
            # is then counted (listed working, maybe held too: an exit too small for a
            # cycle), never missed (gone from the listing, still held: an exit too large)
            working = self.broker.open_orders()
            position = self.broker.positions().get(symbol)
        except BrokerError as exc:
            self._to_restore[symbol] = (released, why, self.iteration)
            return [self._unprotected(symbol, f"{why}; the broker did not answer: {exc}")]
        held = position.qty if position is not None else 0.0
        doubt = self.unsettled.in_doubt() if self.unsettled else []
        orders = {o.client_order_id: o for o in [*doubt, *working] if o.symbol == symbol}
        orders.pop(ended, None)
        closing = sum(o.remaining_qty for o in orders.values() if o.side.sign * held < 0)
        beside = 0.0  # other desks' closes the reads lack, as the exit step counts them
        if since is not None and session is not None and held:
            listed = {o.client_order_id for o in working}
            found = sales_beside(session.account_key, session.id, symbol, held, listed, since)
            beside = found.working + found.filled
            closing += beside
        events: list[RiskEvent] = []
        failed: Released = []
        for old, came in released:
            left = old.qty - old.filled_qty  # what it still covered when it was cancelled
            qty = min(left, abs(held) - closing)
            if held * old.side.sign >= 0:
                continue  # nothing left for it to close
            followed = False
            if qty < left - 1e-9 and not self.protects:  # the rest: once those orders end
                doubts = {o.client_order_id for o in doubt}
                followed = self._follow(symbol, orders, (old, came), doubts)
            if qty <= 1e-9 and beside > 1e-9 and not followed:  # a sale only the store shows
                failed.append((old, came))
                wait = f"{named_exits([(old, came)])} not placed again yet: {_BESIDE}"
                events.append(self._unprotected(symbol, f"{why}; {wait}"))
                continue
            if qty <= 1e-9:
                continue  # orders close what is left (followed)
            closing += qty
            named = named_exits([(old, came)])
            request = OrderRequest(
                symbol,
                old.side,
                qty,
                self._stop_id(symbol),
                old.order_type,
                old.limit_price,
                TimeInForce.GTC,
                f"{named[4:]} placed again: {why}; replaces {old.client_order_id}",
                old.stop_price,
                order_class=old.order_class,
            )
            last = position.last_price if position is not None else 0.0  # the broker's now
            passed = passed_level(old.side, old.stop_price, take_profit_of(old), last)
            if last <= 0:
                passed = None  # a price unknown judges nothing
            if passed is not None:  # it would fill at once, or be refused (Alpaca)
                back = f"{named[4:]} to put back: {why}; replaces {old.client_order_id}"
                request = at_market(replace(request, rationale=back), last, passed)
            check = self.risk.check_protective(request, held)
            if check.order is None:
                events += check.events
                continue
            fence = rows.fence(symbol, EXIT_RACED) if rows is not None else None
            counted = since is not None  # others' fills since: ``beside`` above
            ack = self._send(
                check.order, market_time, fence=fence, since=since, others_counted=counted
            )
            if ack is None or ack.status is OrderStatus.UNKNOWN:  # followed till it settles
                self._put_doubt[check.order.client_order_id] = (symbol, [(old, came)], why)
                events.append(
                    self._broker_doubt(check.order)
                    if ack is None
                    else self._unprotected(
                        symbol,
                        f"{why}; {named} was sent again but the broker's answer was lost; it "
                        "is placed again if the broker never received it",
                    )
                )
                continue
            if ack.status is OrderStatus.REJECTED:
                failed.append((old, came))
                events.append(
                    self._unprotected(
                        symbol, f"{why}; {named} could not be placed again: {ack.reject_reason}"
                    )
                )
                continue
            price = old.stop_price if old.stop_price is not None else old.limit_price
            if passed is not None:  # through its level: closed at market, not placed
                line = (
                    f"{why}: {named} NOT placed again: the price {last:g} is already through "
                    f"its {passed}, so {old.side} {qty:g} {symbol} at market instead, as it "
                    "would have filled"
                )
                self.stop_notes.append(line)
                events.append(RiskEvent(AT_MARKET, last, price or 0.0, line, symbol=symbol))
                continue
            if came is not None and not self.protects:  # cancelled again before a sell
                self._adopted[ack.client_order_id] = came
            size = "" if qty == left else f" for {qty:g} shares"
            line = f"{why}: {named} placed again{size}"
            self.stop_notes.append(line)
            events.append(RiskEvent(PLACED_AGAIN, qty, price or 0.0, line, symbol=symbol))
        if failed:
            self._to_restore[symbol] = (failed, why, self.iteration)
        return events
