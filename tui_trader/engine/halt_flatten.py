"""A halt's flatten: the closing orders it sends for the desk's positions, and who else closes.

A mixin of ``TradingSession`` beside ``engine.halts`` (whose ``_on_halt`` calls it once the
halt's cancels are done). A flatten closes only the desk's shares (``OutsideChanges``), waits
where an earlier close may still fill (closed twice, a long would turn short), leaves
another desk's flatten closes working (both only shrink what is held), and sizes each close on
the account read just before the closes go out, never past what is held less the sells working
or in doubt (``Holding.closable``): another desk that took this one's kill request over while it
was stalled, or flattens on the same halt, may have closed the shares already. Right before
each close the other live desks' closes are read from the store too (``_closed_beside``): one
that went out and filled after this desk's reading is in no listing. Two desks whose store
reads both come before either close's row is committed (the same milliseconds) send one close
between them: each close is claimed in the store before it goes out (``engine.close_claims``).

Its closes need the shares the protective exits hold, so the exits are cancelled first, by
``engine.stop_release`` as before any order (``_release_for_flatten``): each is remembered, and
where the close does not go out (refused, rejected, not sent) it is placed again at once as it
was, said and audited; beside a close in doubt it is not (both could sell the shares: said NOT
protected until the doubt settles). Before, a desk that keeps no exits, holding a position
under an ended desk's stop, lost that stop for good when its close was refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.order_ids import flatten_closer_key
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, Side
from tui_trader.engine.close_claims import CloseClaims, read_close_rows
from tui_trader.engine.exits_beside import exits_beside
from tui_trader.engine.sales_beside import sales_beside
from tui_trader.risk.gate import RiskManager
from tui_trader.risk.holdings import NOTHING, Holding, holdings, lagging_fills
from tui_trader.risk.stops import is_protective
from tui_trader.store.other_sales import FillsMark, newest_fill_id

if TYPE_CHECKING:
    from tui_trader.engine.claims import AccountClaims
    from tui_trader.engine.config import SessionConfig
    from tui_trader.engine.outside_changes import OutsideChanges
    from tui_trader.engine.settlement import Unsettled
    from tui_trader.engine.stop_release import Released
    from tui_trader.store.audit import AuditLog


class HaltFlatten:
    """Closing the desk's positions on a halt; the session supplies its state and order path."""

    broker: Broker
    audit: AuditLog
    risk: RiskManager
    config: SessionConfig
    iteration: int
    outside: OutsideChanges
    unsettled: Unsettled
    claims: AccountClaims | None
    """Set where other desks may trade the account through this store: their closes are read
    there before each of this desk's (``_closed_beside``)."""
    _close_claims: CloseClaims | None = None
    """Where other desks may flatten the account too: the close rows read before this pass's
    positions, each close claimed there before it goes out (``engine.close_claims``)."""
    _flat_legs: dict[str, tuple[int, int]]
    """By symbol: the cycle of its last flatten close and how many went out in that cycle
    (``_flat_id``)."""
    _order_id: Callable[[str, str], str]
    _send: Callable[[OrderRequest, datetime], Order | None]
    protects: bool
    _released: dict[str, Released]
    """Exits cancelled before an order whose fate is not known yet (``engine.stop_release``)."""
    _release_stops: Callable[[str, Side | None, bool], str | None]
    late_exits: Callable[[str, list[str], bool], list[Order] | None]
    _exits_not_kept: Callable[[list[Order] | None], dict[str, str]]
    _exit_after: Callable[[OrderRequest, Order | None, datetime], list[RiskEvent]]
    _put_back: Callable[[str, Released, str, datetime], list[RiskEvent]]
    take_stop_events: Callable[[], list[RiskEvent]]

    def _release_for_flatten(self) -> None:
        """Cancel the protective exits before the flatten's closes, each confirmed (a close
        needs their shares), as before any order (``StopRelease._release_stops``: an ended
        session's exit taken over first; by a desk that keeps no exits, dropped and said), so
        that each is remembered and goes back where its close does not go out
        (``_flatten``). Each cancel is recorded there, and counted in the halt's words. An
        exit another live session keeps, or no session of this store placed, is left to the
        halt's cancel of the other orders, as before."""
        listed = list(self.broker.open_orders())
        seen = [o.client_order_id for o in listed]
        for symbol in self.config.symbols:  # (a listing may be half a minute old)
            listed += self.late_exits(symbol, seen, True) or []
        exits = {o.symbol: o.side for o in listed if is_protective(o.client_order_id, o.order_type)}
        if exits and not self.protects:
            self._exits_not_kept(listed)  # the ended sessions' exits a sell may cancel first
        for symbol, side in sorted(exits.items()):
            self._release_stops(symbol, side, True)

    def _read_close_rows(self) -> None:
        """Read the account's close rows for this pass's closes, before the halt's cancels: an
        exit another desk puts back after them (it found its stop cancelled) moves its row on,
        and this pass's close there is then not sent (``engine.close_claims``)."""
        shared = self.claims is not None and self.audit.session is not None
        self._close_claims = read_close_rows(self.audit, shared)

    def _others_close(self, order: Order) -> bool:
        """Whether an order is another desk's flatten close: it only shrinks what is held, so
        a flatten leaves it working (cancelled, two desks that both flatten took each other's
        closes off at every pass)."""
        closer = flatten_closer(order)
        return closer is not None and closer != self.audit.session.key

    def _others_closing(self) -> set[str]:
        """The symbols where another desk's flatten close works (a first pass waits there)."""
        return {o.symbol for o in self.broker.open_orders() if self._others_close(o)}

    def _busy_again(self) -> set[str]:
        """The symbols a flatten acted on again waits in: where an order of the desk may still
        fill (an earlier close, a cancel the broker has not confirmed). The orders of a symbol
        held back by an unconfirmed cancel are looked up first (``Broker.look_up_orders``): on
        a trade stream gone silent the cancel's end is never heard, and a fresh listing (half a
        minute apart while the stream is up) was the only other news of it, so the position
        stayed open that long, "an order there may still fill", while the broker had nothing
        working. Not answered: the symbol waits (the cancel may still be pending)."""
        unconfirmed = self.broker.working_symbols(ignore=lambda o: not o.cancel_pending)
        for symbol in sorted(unconfirmed):
            try:
                self.broker.look_up_orders(symbol)
            except BrokerError:
                break  # asked again at the next pass
        return self.broker.working_symbols()

    def _flatten(
        self, market_time: datetime, busy: set[str]
    ) -> tuple[int, list[str], list[str], list[RiskEvent]]:
        """Send closing orders for the desk's positions, as the broker lists them now, each at
        most what the account holds less the sells working or in doubt (``_closable_book``:
        another desk may have closed the same shares since the halt began); they pass the
        gate as protective
        orders do: they only shrink exposure; not counted against the day's orders); how
        many went out, the shares it leaves open, as ``"5 IWM"``, and the
        positions whose closing order was refused, with why (the broker rejected it, or it
        was not sent): said in the halt's words, where "flattening N position(s)" counted
        them as closing. The desk's are the shares its
        own fills account for in the symbols it trades (``OutsideChanges.desks_share``): a
        holding of the user's on the account, or shares bought by hand beside the desk's,
        are not the desk's to sell, as its rebalancing and its exits never trade them.
        ``busy``: symbols where an order of the desk may still fill (a flatten acted on again:
        its earlier close may be working), left for a later try: closed twice, a long would
        turn short. The events: the exits cancelled before a close that did not go out, placed
        again (``_exit_after``), or said NOT protected beside a close in doubt."""
        count = 0
        events: list[RiskEvent] = []
        spared = []
        unclosed = []
        # Read now the cancels are done: a cancelled order's fills (one that filled in part
        # before its cancel, or that a lagging read did not show while it worked) are held
        # shares too (closed from the cycle's read, they were left open); and another desk's
        # close may have gone out since the halt began.
        positions, book, working, since = self._closable_book()
        listed = {o.client_order_id for o in working}
        # A close in doubt may still arrive: sent again now, both could fill and a long turn
        # short. Its symbol waits like a close still working, tried each cycle.
        busy = busy | {
            o.symbol
            for o in self.unsettled.in_doubt()
            if o.symbol in positions and positions[o.symbol].qty * o.side.sign < 0
        }
        for symbol in sorted(positions):
            position = positions[symbol]
            traded = symbol in self.config.symbols
            qty = self.outside.desks_share(symbol, position.qty) if traded else 0.0
            if abs(position.qty - qty) > 1e-9:
                spared.append(f"{position.qty - qty:g} {symbol}")
            if qty == 0:
                continue
            if symbol in busy:  # an earlier close (or a cancel unconfirmed) may still fill
                unclosed.append(f"{qty:g} {symbol} (an order there may still fill)")
                continue
            sign = -1 if qty > 0 else 1  # the close's direction
            closable = book.get(symbol, NOTHING).closable(sign, position.qty)
            closable -= self._closed_beside(symbol, position.qty, listed, since)
            closable -= lagging_fills(working, symbol, sign)
            if closable <= 1e-9:  # another desk's close took them since this pass read
                unclosed.append(
                    f"{qty:g} {symbol} (orders working or in doubt there already close "
                    "what the account holds)"
                )
                continue
            qty = -sign * min(abs(qty), closable)
            request = OrderRequest(
                symbol=symbol,
                side=Side.SELL if qty > 0 else Side.BUY,
                qty=abs(qty),
                client_order_id=self._flat_id(symbol),
                rationale=f"flatten on halt ({self.risk.state.halt_reason})",
            )
            # A close only shrinks what is held (working orders were cancelled), as a
            # protective exit does: no limit refuses it, the day's order limit included, and it
            # is not counted against the day (the limit stops a runaway desk from sending
            # more; it kept the kill switch from closing what the desk held).
            check = self.risk.check_protective(request, position.qty)
            if check.order is None:
                why = check.events[0].detail if check.events else ""
                unclosed.append(f"{qty:g} {symbol} (not sent{': ' + why if why else ''})")
                continue
            fence = self._close_claims.fence(symbol) if self._close_claims else None
            counted = since is not None  # others' fills since: ``_closed_beside``
            ack = self._send(
                check.order, market_time, fence=fence, since=since, others_counted=counted
            )
            if self._released.get(symbol):  # its exits: back unless the close went out
                events += self._exit_after(check.order, ack, market_time)
            if ack is None:  # followed as unsettled: the next pass waits for it, then closes
                unclosed.append(
                    f"{qty:g} {symbol} (its close is in doubt: the broker's answer was lost)"
                )
            elif not_sent(ack):  # not the broker's word
                unclosed.append(f"{qty:g} {symbol} ({ack.reject_reason})")
            elif ack.status is OrderStatus.REJECTED:
                unclosed.append(f"{qty:g} {symbol} (the broker rejected it: {ack.reject_reason})")
            else:
                count += 1
        for symbol, released in sorted(self._released.items()):  # no close went out there
            why = f"the halt's flatten sent no close in {symbol}"
            events += self._put_back(symbol, released, why, market_time)
        self._released = {}
        self._close_claims = None  # read afresh before the next pass's cancels
        # the exits taken over or dropped before the closes (``exit_dropped``), first: left
        # for a later order's cycle, a halted desk (which sends none) never recorded them
        return count, spared, unclosed, self.take_stop_events() + events

    def _closable_book(
        self,
    ) -> tuple[dict[str, Position], dict[str, Holding], list[Order], FillsMark | None]:
        """The positions, and what a close may take of each, read from the broker just
        before the closes go out: held, less the sells already working or in doubt
        (``Holding.closable``, the view a hand close takes). Another desk closing the same
        shares (one that took this desk's kill request and symbol over while it was stalled
        past its heartbeat window, or a second desk flattening on the account's halt) may
        have sent its close after the halt read the account: closed from that read, two
        market sells of one position opened a short on an account that allows shorting.
        Also the orders listed (read before the positions: a sale filling between the reads is
        counted, not missed), and what the store had recorded, read just before the
        positions (``None`` where no other desk trades the account through this store), for
        ``_closed_beside``."""
        shared = self.claims is not None and self.audit.session is not None
        # the close rows first (read before the halt's cancels: ``_read_close_rows``), then
        # the store, then the broker (``engine.close_claims``)
        if self._close_claims is None:
            self._read_close_rows()
        since = newest_fill_id() if shared else None
        # the open orders before the positions: a sale filling between the two reads is then
        # in both (listed working, its fill maybe held: a close too small for one pass), never
        # in neither (read after it: held in full, no sale listed: a close that sold it twice)
        working = self.broker.open_orders()
        positions = self.broker.positions()
        return positions, holdings(positions, working, self.unsettled.in_doubt()), working, since

    def _closed_beside(
        self, symbol: str, held: float, listed: set[str], since: FillsMark | None
    ) -> float:
        """The shares of ``held`` that other live desks' orders close and that the broker's
        reads may lack, read from the store right before this desk's close in ``symbol``
        (``engine.sales_beside``, as before an exit changes): their working closes absent from
        the listing (on Alpaca up to 30 s old while the stream is up), and their closing fills
        recorded since the positions were read. Another desk flattening on the same halt sends
        its close, and it fills, while this one is between its reading and its close: the
        reading still holds the shares, no listing shows the close (a filled order is not
        open), and the second market sell of the whole position reached a flat account: a
        short (-20 SPY on the sandbox). Every order's row is in the store before it goes out.
        Left out, a close may come out smaller than what is held (the reading held those fills
        already): what stays open is said and closed at the flatten's next pass. Other live
        desks' exits the listing lacks are asked of the broker too (``engine.exits_beside``)."""
        session = self.audit.session
        if since is None or session is None:
            return 0.0
        beside = sales_beside(session.account_key, session.id, symbol, held, listed, since)
        exits = exits_beside(self.broker, session.account_key, session.id, symbol, held)
        return beside.working + beside.filled + exits

    def _flat_id(self, symbol: str) -> str:
        """A flatten close's client order id: ``flat``, then ``flat2``, ``flat3``... for a close
        sent again in the same cycle (a halt acted on again between bars, after a close the
        broker refused or never received). One id for both, and the second close's row broke
        the store's unique key: the exception ended the session mid-flatten."""
        cycle, count = self._flat_legs.get(symbol, (-1, 0))
        count = count + 1 if cycle == self.iteration else 1
        self._flat_legs[symbol] = (self.iteration, count)
        return self._order_id(symbol, "flat" if count == 1 else f"flat{count}")


def flatten_closer(order: Order) -> str | None:
    """The key of the session whose flatten close ``order`` is, ``None`` if it is none."""
    return flatten_closer_key(order.client_order_id)


def not_sent(order: Order) -> bool:
    """Whether a close ``rejected`` was never sent (its claim refused: ``engine.close_claims``,
    or a fence of the send), not refused by the broker: never counted as a close sent."""
    return order.status is OrderStatus.REJECTED and (order.reject_reason or "").startswith(
        "not sent"
    )
