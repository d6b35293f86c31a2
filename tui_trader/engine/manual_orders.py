"""Orders a person places by hand: the ticket, a cancel, closing one position, flattening all.

The desk only asks (any thread, like the kill switch); the session's own thread acts on the
requests at its next step (between bars when woken, or inside the next cycle), through the same
risk gate and the same audit trail as the strategies' orders: the order row is written before the
broker sees the order, with a rationale that starts with ``manual``, and whatever the gate refuses
is a risk event. Any doubt about a manual order's fate halts trading like any other order's.

A mixin of ``TradingSession``. The strategies keep trading, but not against a manual order while
it works: their orders in its symbol wait until it ends (``engine.hand_holds``); then a position
changed by hand is rebalanced to their target unless halted (closing orders still pass).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError, unseen
from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, Side
from tui_trader.core.prices import exact_text
from tui_trader.engine.cash_reads import equity_past_limits
from tui_trader.engine.close_claims import HAND_RACED, read_close_rows
from tui_trader.engine.kill_fence import kill_refusal
from tui_trader.engine.manual_book import (
    as_fills_make,
    left_note,
    past_limit,
    sold_beside,
    with_unconfirmed,
)
from tui_trader.engine.manual_close import ManualClose
from tui_trader.engine.manual_ticket import ManualOrder
from tui_trader.engine.others_working import counted_working
from tui_trader.risk.holdings import NOTHING, holdings, less_sales_filled
from tui_trader.risk.stops import is_protective

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.core.clock import Clock
    from tui_trader.engine.claims import AccountClaims
    from tui_trader.engine.config import SessionConfig
    from tui_trader.engine.outside_changes import OutsideChanges
    from tui_trader.engine.settlement import Unsettled
    from tui_trader.risk.gate import RiskManager
    from tui_trader.store.audit import AuditLog

MANUAL_REFUSED = "manual_order_refused"
"""A manual request the session could not act on (no price, unknown order, broker waiting)."""


@dataclass(frozen=True, slots=True)
class _Cancel:
    """Cancel one working order."""

    client_order_id: str


@dataclass(frozen=True, slots=True)
class _Close:
    """Close one position at market (``symbol``), or every position (``None``)."""

    symbol: str | None


ManualRequest = ManualOrder | _Cancel | _Close


class ManualOrders(ManualClose):
    """Queue (any thread) and act on (the session's thread) manual requests."""

    config: SessionConfig
    broker: Broker
    audit: AuditLog
    risk: RiskManager
    clock: Clock
    iteration: int
    last_prices: dict[str, float]
    unsettled: Unsettled
    """Orders in doubt: counted as held by the gate until they settle (``risk.holdings``)."""
    claims: AccountClaims | None
    """Present where other desks may share the account and store (``engine.others_working``)."""
    wake: threading.Event
    _cycle_orders: list[Order]
    _manual_lock: threading.Lock
    _manual: list[ManualRequest]
    """Requests waiting for the session's thread (guarded by ``_manual_lock``)."""
    _manual_count: int
    """Manual orders sent so far: the last part of their client order ids."""
    _hand_cancels: dict[str, Order]
    """Orders cancelled by hand on the broker's 204 alone, by client id (``manual_book``)."""
    outside: OutsideChanges
    # Supplied by ``OrderRouting`` and the session: sending with the audit row first, the halt
    # on a doubtful order, share rounding and deterministic client order ids.
    _send: Callable[..., Order | None]
    kill_pending: Callable[[], str | None]
    _broker_doubt: Callable[[OrderRequest], RiskEvent]
    _reserve_slot: Callable[[OrderRequest, bool], RiskEvent | None]
    _return_slot: Callable[[], None]
    _unsent: list[RiskEvent]
    _round_qty: Callable[[float], float]
    _order_id: Callable[[str, str], str]
    _release_stops: Callable[[str, Side | None, bool, bool], str | None]
    _beside_close: Callable[[str, Side], str | None]
    released_first: Callable[[list[Order]], set[str]]
    _exits_not_kept: Callable[[list[Order] | None], dict[str, str]]
    droppable: dict[str, Side]
    """Symbols where an order on this side cancels an ended session's exit first."""
    take_stop_events: Callable[[], list[RiskEvent]]
    follow_hand: Callable[[OrderRequest, Order | None], None]

    # -- any thread ----------------------------------------------------------------------------

    def _queue(self, request: ManualRequest) -> None:
        """Queue a request and wake a session waiting between bars."""
        with self._manual_lock:
            self._manual.append(request)
        self.wake.set()

    def request_manual_order(self, order: ManualOrder) -> None:
        """Ask the session to place ``order`` (any thread); raises ``ValueError`` if unusable."""
        problem = order.problem()
        if problem:
            raise ValueError(problem)
        self._queue(order)

    def request_cancel(self, client_order_id: str) -> None:
        """Ask the session to cancel one working order (any thread)."""
        self._queue(_Cancel(client_order_id))

    def request_close(self, symbol: str | None = None) -> None:
        """Ask the session to close ``symbol``'s position, or every position (any thread).

        Closing everything first cancels every working order, so that none re-opens exposure.
        """
        self._queue(_Close(symbol))

    def manual_pending(self) -> bool:
        """Whether requests wait for the session's thread (read without the lock: appending
        is atomic, and a request queued just after this is taken next cycle either way)."""
        return bool(self._manual)

    # -- the session's thread ------------------------------------------------------------------

    def _take_manual_requests(self, market_time: datetime) -> tuple[list[RiskEvent], list[str]]:
        """Act on every queued request, oldest first; the risk events and notes they produced."""
        with self._manual_lock:
            requests, self._manual = self._manual, []
        events: list[RiskEvent] = []
        notes: list[str] = []
        for request in requests:
            # While halted the gate refuses what grows exposure and lets what shrinks it pass.
            try:  # (the question too: on Alpaca it may read the market's clock)
                # A cancel only takes an order away: it is never held back, so it does not
                # ask (unanswered, the question refused it and the order kept working).
                cancel = isinstance(request, _Cancel)
                waiting = None if cancel else self.broker.trading_ready()
                if waiting:
                    events.append(self._refused(f"{_describe(request)} not sent: {waiting}"))
                    continue
                if isinstance(request, ManualOrder):
                    sure = self._place(request, market_time, events, notes)
                elif isinstance(request, _Cancel):
                    sure = self._cancel(request.client_order_id, events)
                else:
                    sure = self._close(request.symbol, market_time, events, notes)
            except BrokerError as exc:  # a read before a send (a send's own error is a doubt):
                events.append(self._refused(_unanswered(request, exc)))  # said, the rest too
                sure = False
            if not sure:
                rest = len(requests) - requests.index(request) - 1
                if rest:
                    events.append(self._refused(f"{rest} later manual request(s) dropped"))
                break  # an order's fate is in doubt (trading halted): nothing more goes out
        return events, notes

    def _refused(self, detail: str, symbol: str | None = None) -> RiskEvent:
        """A manual request the session did not act on, as a risk event (recorded)."""
        return RiskEvent(MANUAL_REFUSED, 0.0, 0.0, detail, symbol=symbol, detail=detail)

    def _place(
        self, ticket: ManualOrder, market_time: datetime, events: list[RiskEvent], notes: list[str]
    ) -> bool:
        """Size the ticket, pass it through the risk gate, record it and send it; False if the
        order's fate is in doubt."""
        price = self.last_prices.get(ticket.symbol)
        if ticket.symbol not in self.config.symbols or not price:
            events.append(
                self._refused(
                    f"manual {ticket.side} {ticket.symbol} refused: not a symbol of this session "
                    "(or no price yet)",
                    ticket.symbol,
                )
            )
            return True
        if ticket.qty is not None:
            qty = self._round_qty(ticket.qty)
            size = f"{exact_text(ticket.qty)} sh"
        else:
            assert ticket.notional is not None
            qty = self._round_qty(ticket.notional / (ticket.limit_price or price))
            size = f"${ticket.notional:,.2f} notional"
        if qty <= 0:
            events.append(
                self._refused(
                    f"manual {ticket.side} {ticket.symbol} refused: {size} is less than one "
                    "share at the last price",
                    ticket.symbol,
                )
            )
            return True
        request = OrderRequest(
            symbol=ticket.symbol,
            side=ticket.side,
            qty=qty,
            client_order_id=self._manual_id(ticket.symbol),
            order_type=ticket.order_type,
            limit_price=ticket.limit_price,
            time_in_force=ticket.time_in_force,
            stop_price=ticket.stop_price,
        )
        what = f"{ticket.order_type}" + (
            f" stop {exact_text(ticket.stop_price)}" if ticket.stop_price is not None else ""
        )
        what += f" @ {exact_text(ticket.limit_price)}" if ticket.limit_price is not None else ""
        return self._gate_and_send(
            request, f"manual ticket: {size} {what}", market_time, events, notes
        )

    def _gate_and_send(
        self,
        request: OrderRequest,
        rationale: str,
        market_time: datetime,
        events: list[RiskEvent],
        notes: list[str],
        close_key: str | None = None,
    ) -> bool:
        """The strategies' gate and audit path for one manual order; False if its fate is in
        doubt (trading is then halted). A close (``close_key``: the key that asked for it) is
        cut to what can never flip the position (``engine.manual_book``). Once the kill switch
        was pressed, or while this machine's clock is off (``store.clock_watch``), only one that
        shrinks a position whichever working orders fill goes out (a close, a sell of no more
        than is held beside the working sells: ``Holding.closable``), as the halt lets it
        (``engine.kill_fence``); any other is refused here (a kill again before the send)."""
        rows = read_close_rows(self.audit, self.claims is not None)  # before the store's reads
        working = self.broker.open_orders()
        what = f"manual {request.side} {exact_text(request.qty)} {request.symbol}"
        if unseen(working):  # the gate counts working orders: not on a partial view
            events.append(self._refused(f"{what} not sent: {unseen(working)}", request.symbol))
            return True
        pending, session = self._unconfirmed(request.symbol), self.audit.session
        working = with_unconfirmed(working, pending)
        look_up = self.broker.get_order  # other desks' orders, before the positions' read
        counted = counted_working(working, self.claims, session, look_up, request.symbol)
        positions = self._as_fills_make(self.broker.positions())
        book = holdings(positions, counted, self.unsettled.in_doubt())
        key = session.key if session else None
        free = less_sales_filled(book, counted, key, self.released_first(counted))
        holding = free.get(request.symbol, NOTHING)  # others' sales' fills left out too
        committed = holding.facing(request.side.sign)  # orders in doubt counted if stricter
        price = self.last_prices.get(request.symbol, 0.0)
        if request.side is Side.BUY:  # a buy may fill up to its limit (or about its stop)
            price = max(price, request.limit_price or 0.0, request.stop_price or 0.0)
        else:  # a sell fills at its limit or above: a short it opens is worth that much
            price = max(price, request.limit_price or 0.0)
        equity, past = equity_past_limits(self.broker, self.risk)  # the day's cash moved too
        grows = abs(committed + request.qty * request.side.sign) > abs(committed)
        position = positions.get(request.symbol)
        held = position.qty if position else 0.0
        closable = holding.closable(request.side.sign, held)
        # whichever working orders fill (a close beside unconfirmed cancels is cut so below);
        # by ``grows``, 150 sold of 100 held beside a working sell of 10 went out after ctrl+k
        shrinks = (close_key is not None and bool(pending)) or request.qty <= closable + 1e-9
        who = self.kill_pending()
        if who is not None and not shrinks:  # before the stops' release: no exit cancelled
            events.append(kill_refusal(what, who, request.symbol))
            return True
        hold = None if shrinks or close_key is not None else self.audit.clock_hold()
        if hold:  # this machine's clock is off (``store.clock_watch``): what shrinks still goes
            events.append(self._refused(f"{what} not sent: {hold}", request.symbol))
            return True
        if past and grows:  # equity fell past a limit since the last check (between bars)
            detail = f"{what} not sent: the account is past its {past}; the next cycle halts"
            events.append(self._refused(detail, request.symbol))
            return True
        left_alone = self._exits_not_kept(None).get(request.symbol)  # before the gate counts it
        if left_alone and self.droppable.get(request.symbol) is not request.side:
            events.append(
                self._refused(f"manual {request.side} {request.symbol} not sent: {left_alone}")
            )
            return True
        said = None
        if close_key is not None and pending:  # beside unconfirmed cancels: it never flips
            said = left_note(request.symbol, held, min(request.qty, closable), pending, close_key)
            if closable <= 1e-9:
                events.append(self._refused(f"close {request.symbol}: {said}", request.symbol))
                return True
            request = replace(request, qty=min(request.qty, closable))
        if (sold := sold_beside(request, book.get(request.symbol, NOTHING), holding)) is not None:
            close = self._beside_close(request.symbol, request.side)  # the closer words first
            what = f"manual {request.side} {request.symbol} not sent: {close}" if close else sold
            events.append(self._refused(what, request.symbol))  # others' sales filled in part
            return True
        check = self.risk.check_order(request, price, equity, committed, holding.sellable, closable)
        if check.order is None:
            events.extend(check.events)
            return True
        closes = check.order.qty <= closable + 1e-9  # passes the day's order limit, counted
        refused = self._reserve_slot(check.order, closes)  # the account's shared count
        if refused is not None:
            events.append(refused)
            return True
        note = check.order.rationale
        order = OrderRequest(
            symbol=check.order.symbol,
            side=check.order.side,
            qty=check.order.qty,
            client_order_id=check.order.client_order_id,
            order_type=check.order.order_type,
            limit_price=check.order.limit_price,
            time_in_force=check.order.time_in_force,
            rationale=f"{rationale}; {note}" if note else rationale,
            stop_price=check.order.stop_price,
        )
        waits = self._release_stops(order.symbol, order.side, False, True)  # past the listing
        events += self.take_stop_events()  # an ended session's exit taken over or cancelled
        if waits is not None:
            self._return_slot()  # not sent: its slot is not one of the day's orders
            why = waits or "the cancel of its protective exit is not confirmed yet"
            events.append(self._refused(f"manual {order.side} {order.symbol} not sent: {why}"))
            return True
        count = self.risk.state.orders_today  # with this order's slot
        sells = rows is not None and order.side.sign * held < 0  # a close claimed since: unsent
        fence = rows.check(order.symbol, HAND_RACED) if rows is not None and sells else None
        ack = self._send(order, market_time, killable=not shrinks, fence=fence)
        events += () if self._unsent else check.events  # only with an order that went out
        events += self._exit_after(order, ack, market_time)  # exits back if it did not go out
        self.follow_hand(order, ack)  # its exit in step as soon as it ends (``hand_exits``)
        if ack is None:
            events.append(self._broker_doubt(order))
            return False
        if self._unsent:  # not sent: halted in its send gap (``SendFence._gap_refusal``)
            events += self._unsent
            self._unsent.clear()
            return True
        if ack.status is OrderStatus.REJECTED and (ack.reject_reason or "").startswith("not sent"):
            self._return_slot()  # another desk's close claimed the symbol first: none went out
            events.append(self._refused(f"manual {order.side} {order.symbol} {ack.reject_reason}"))
            return True
        if closes and count > self.risk.limits.max_orders_per_day:
            events.append(past_limit(order, count - 1, self.risk.limits.max_orders_per_day))
        if ack.status is OrderStatus.REJECTED:
            notes.append(
                f"broker rejected manual {order.side} {exact_text(order.qty)} {order.symbol}: "
                f"{ack.reject_reason}"
            )
        elif said is not None and order.qty == request.qty:
            notes.append(said)
        return True

    def _unconfirmed(self, symbol: str) -> list[Order]:
        """The orders in ``symbol`` cancelled by hand whose end is not confirmed yet (those of
        a symbol with no order that may still fill are forgotten: they have ended)."""
        busy = self.broker.working_symbols()
        kept = {cid: o for cid, o in self._hand_cancels.items() if o.symbol in busy}
        self._hand_cancels = kept
        return [order for order in kept.values() if order.symbol == symbol]

    def _as_fills_make(self, positions: dict[str, Position]) -> dict[str, Position]:
        """The positions read, with each symbol whose read lags a fill of the session's order
        still working taken at what its fills make (``engine.manual_book``)."""
        working = self.broker.working_symbols(
            ignore=lambda order: is_protective(order.client_order_id, order.order_type)
        )  # a protective exit's fill reaches the session like any other (``outside_watch``)
        return as_fills_make(positions, working, self.outside.fills_make)

    def _manual_id(self, symbol: str) -> str:
        """A client order id of its own for every manual order (several may share a cycle)."""
        self._manual_count += 1
        return self._order_id(symbol, f"m{self._manual_count}")


def _describe(request: ManualRequest) -> str:
    """A request in a few words, for a refusal."""
    if isinstance(request, ManualOrder):
        return f"manual {request.side} {request.symbol}"
    if isinstance(request, _Close):
        return f"close {request.symbol}" if request.symbol else "flatten all"
    return f"cancel {request.client_order_id}"


def _unanswered(request: ManualRequest, exc: BrokerError) -> str:
    """A request the broker's silence stopped (before, it and the later ones vanished unsaid)."""
    done = "not sent" if isinstance(request, ManualOrder) else "stopped (the rest not sent)"
    return f"{_describe(request)} {done}: the broker did not answer ({exc})"
