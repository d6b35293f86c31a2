"""Protective exits held by the broker: every position the session holds has a working exit.

With ``--stop-loss`` the session places a GTC stop order for each position after its entry
fills; with ``--take-profit`` a GTC limit at the take-profit level; with both, one OCO pair of
the two (``risk/exits.py`` plans which, at what prices, and why). It keeps the exit in step at
the end of every cycle (halted or not) and at start-up: an exit of the wrong size is replaced at
the new size and entry (adds, partial exits; a stop or a limit by one replace, an OCO pair by a
confirmed cancel and a new pair), an exit whose position is gone is cancelled, and a position
found without one (after a crash) gets one, audited as a reconciliation. The exit lives at the
broker, so it protects the position while no desk runs, and the broker takes the profit too.
Why not Alpaca's bracket/OTO on entry: the desk rebalances in steps (adds, partial exits), and a
bracket's legs are fixed to its entry order's quantity; one exit per position, resized, covers
every way a position changes, and every broker.

Brokers refuse a sell beyond the shares not held by other working sell orders (Alpaca:
"insufficient qty available"; an OCO pair holds its shares once), and Alpaca refuses an order
that could trade against one of the account's own working orders on the other side ("potential
wash trade detected": a market buy against a sell stop or a sell limit), so any order in a
protected symbol, an exit or an add, first cancels that symbol's exit (``_release_stops``); the
end-of-cycle step places it again for what is left, once no add is working (an exit beside a
working buy would be refused as a wash trade too). A price already through the stop or the
take-profit level is closed at market instead (the order would fill at once, or be refused).
The cancel before an order is ``engine.stop_release``'s, and so is placing the exit again at
once when that order does not go out (rejected, not sent; never beside an order in doubt, which
``_protect`` counts as working). An exit of its own whose send is in doubt counts as working
for its symbol until it settles (``engine.exits_in_doubt``): no second exit beside it.

Another session's exit at the broker is told apart by its row in this store
(``engine.stop_takeover``): an ended session's is taken over with its symbol, a live
session's or another store's is left alone (no second exit beside it).

Another desk's sale in the symbol that the broker's listing does not show yet (it may be half a
minute old) is read from the store right before an exit changes (``engine.sales_beside``): its
shares are left out of the exit, and so are those of another desk's fills closing the position
recorded since the positions were read (a stop sized before the sale emptied the position would
open a short).

Another desk's buy that the listing still shows working, though its row says it ended and the
broker agrees, no longer holds the exit back (``engine.listed_adds``).

A symbol whose position changed outside the session (``engine.outside_changes``) keeps an exit
only for the shares the desk's own fills account for, never more than it holds: the exit never
sells shares bought by hand, and is never larger than the position. So does a symbol where the
desk's own order works and the exit step's read shows more than its fills make (a read lagging
that order's fills, though the cycle's check read them as they were: ``crash30``).

A mixin of ``TradingSession``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.domain import Bar, Position, RiskEvent
from tui_trader.core.orders import Order, OrderRequest, Side
from tui_trader.engine.close_claims import read_close_rows
from tui_trader.engine.exit_placing import ExitPlacing
from tui_trader.engine.exit_replace import ExitReplace
from tui_trader.engine.exits_in_doubt import ExitsInDoubt
from tui_trader.engine.hand_exits import HandExits
from tui_trader.engine.listed_adds import ended_adds
from tui_trader.engine.sales_beside import sales_beside
from tui_trader.engine.stop_takeover import ENDED, FOREIGN, LIVE
from tui_trader.engine.stops_after_death import StopsAfterDeath
from tui_trader.engine.stops_at_finish import StopsAtFinish
from tui_trader.risk.exits import describe, fits
from tui_trader.risk.stops import PROTECTIVE_LEG, TrueRange, is_protective
from tui_trader.store.other_sales import newest_fill_id

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.engine.claims import AccountClaims
    from tui_trader.engine.config import SessionConfig
    from tui_trader.engine.outside_changes import OutsideChanges
    from tui_trader.engine.settlement import Unsettled
    from tui_trader.risk.gate import RiskManager
    from tui_trader.store.audit import AuditLog

PROTECTIVE_STOP = "protective_stop"
"""Risk event: a protective stop could not be placed (the position is not protected)."""


class ProtectiveStops(
    ExitsInDoubt, ExitReplace, StopsAfterDeath, StopsAtFinish, HandExits, ExitPlacing
):
    """Place, resize, cancel and re-place the broker-held stops of a session's positions."""

    config: SessionConfig
    broker: Broker
    audit: AuditLog
    risk: RiskManager
    last_prices: dict[str, float]
    claims: AccountClaims | None
    """Which session of a shared account keeps each symbol's exit (``engine.claims``)."""
    iteration: int
    _cycle_orders: list[Order]
    _order_id: Callable[[str, str], str]
    _send: Callable[[OrderRequest, datetime], Order | None]
    _reserve_slot: Callable[[OrderRequest], RiskEvent | None]
    _broker_doubt: Callable[[OrderRequest], RiskEvent]
    outside: OutsideChanges
    unsettled: Unsettled
    stop_events: list[RiskEvent]
    """Events about exits not reported yet (``engine.stop_takeover``: ``take_stop_events``)."""
    take_stop_events: Callable[[], list[RiskEvent]]

    def init_stops(self) -> None:
        """Empty ranges and stop counter (called by the session's constructor)."""
        self._ranges: dict[str, TrueRange] = {}
        self._stop_count = 0
        self._adds_gone: set[str] = set()
        """Other desks' adds a listing showed that the broker said ended (``listed_adds``)."""
        self.init_takeover()
        self.init_release()
        self.init_doubt()
        self.init_exits_left()
        self.init_hand_exits()

    @property
    def protects(self) -> bool:
        """Whether this session keeps protective stops or a take-profit."""
        cfg = self.config
        return cfg.stop_loss is not None or cfg.take_profit_pct is not None

    def _measure(self, bar: Bar) -> None:
        """Feed one bar to its symbol's average true range (for ``--stop-loss atr:N``)."""
        rng = self._ranges.get(bar.symbol)
        if rng is None:
            rng = self._ranges[bar.symbol] = TrueRange()
        rng.add(bar)

    def _cancel_all_of(self, stops: list[Order], events: list[RiskEvent]) -> bool:
        """Cancel these stops, each confirmed (what follows may sell their shares); False if
        one is not confirmed, or filled (part) before its cancel took: the positions read
        before are out of date then (an exit sized from them could sell shares no longer
        held), said in ``events``; the next cycle decides from the broker's positions."""
        fresh = True
        for order in stops:
            cancelled = self.broker.cancel(order.client_order_id, confirm=True)
            if cancelled is None:
                return False
            self._cancelled(cancelled)
            if cancelled.filled_qty > order.filled_qty + 1e-9:
                events.append(self._filled_meanwhile(order, cancelled))
                fresh = False
        return fresh

    def _protect(
        self, market_time: datetime, at_start: bool = False, only: set[str] | None = None
    ) -> list[RiskEvent]:
        """Bring every position's protective exit in step with it (``only``: these symbols',
        between bars once a hand order ended: ``engine.hand_exits``); the events (an exit that
        could not be placed, a take profit at market; at start-up, each exit placed again).
        First the exits cancelled before an order that did not go out (``_restore_exits``).
        The broker silent part way (a ``BrokerError``): the events of what was done before
        are handed on (``take_stop_events``: the failing cycle writes them); before, they were
        lost with this step's list, a take profit sent at market with no word of why."""
        events: list[RiskEvent] = []
        try:
            self._protect_each(events, market_time, at_start, only)
        except BrokerError:
            self.stop_events[:0] = events
            raise
        return events

    def _protect_each(
        self, events: list[RiskEvent], market_time: datetime, at_start: bool, only: set[str] | None
    ) -> None:
        """``_protect``'s work, its events added to ``events`` as they come."""
        events += self._restore_exits(market_time)
        if not self.protects:
            return
        cfg = self.config
        session = self.audit.session
        # Another desk's sale in a symbol may fill after the positions are read: the newest
        # fill recorded before they are tells a fill since apart (``engine.sales_beside``).
        since = newest_fill_id() if self.claims is not None and session is not None else None
        # and a halt's flatten close claimed since, by the close rows read before the
        # positions: an exit sent is claimed there first (``engine.close_claims``)
        self._close_rows = read_close_rows(self.audit, self.claims is not None)
        # The open orders before the positions: an own sale filling between the two reads
        # then leaves the exit too small for a cycle, never sized for shares already sold
        # (read the other way, a listing without the sale beside a position still showing
        # its shares put a stop on the position the sale emptied: ``campaign32``).
        working = self.broker.open_orders()
        positions = self.broker.positions()
        stops: dict[str, list[Order]] = {}
        closing: dict[str, float] = {}
        adds: list[Order] = []
        whose = self.whose(working)
        others: dict[str, Order] = {}  # a live session's exit, or no session's of this store
        # An order in doubt may still arrive and fill: counted as working, so that no exit is
        # placed for shares it may sell (both could sell them: ``engine.stop_release``).
        orders: list[Order] = working
        listed = {o.client_order_id for o in working}
        doubted = self.exits_in_doubt(listed)  # an exit in doubt counts as working (said once)
        if self.unsettled:  # (none in a replay: nothing built there each cycle)
            orders = working + [
                o
                for o in self.unsettled.in_doubt()
                if o.client_order_id not in listed
                and not is_protective(o.client_order_id, o.order_type)
                and _closes(o, positions.get(o.symbol))  # an add in doubt sells nothing
            ]
        for order in orders:
            kind = whose.get(order.client_order_id)
            if kind is not None:
                if kind == LIVE and self.ended_already(order):
                    continue  # cancelled by the live desk that took it over: gone, not its exit
                if kind in (LIVE, FOREIGN):
                    others[order.symbol] = order
                else:
                    stops.setdefault(order.symbol, []).append(order)
                continue
            held = positions.get(order.symbol)
            if held is not None and held.qty * order.side.sign > 0:
                adds.append(order)
            else:
                closing[order.symbol] = closing.get(order.symbol, 0.0) + (
                    order.remaining_qty * order.side.sign
                )
        adding = {o.symbol for o in adds}
        if adds and session is not None:  # another desk's add the listing shows may be over
            ended = ended_adds(self.broker, session.account_key, session.id, adds, self._adds_gone)
            adding = {o.symbol for o in adds if o.client_order_id not in ended}
        events += self.take_stop_events()
        self.leave_foreign(others, whose)
        kept: list[str] = []
        claims = self.claims
        if claims is not None and not claims.key:  # at start, before the first cycle's read
            claims.begin(self.audit.session.key)
        unconfirmed = self.cancels_pending()  # a sell whose cancel is unconfirmed may fill
        busy = self.broker.working_symbols(ignore=_is_exit)  # the desk's own orders working
        for symbol in sorted(set(positions) | set(stops)):
            if only is not None and symbol not in only:
                continue
            if symbol in unconfirmed:  # back once the broker confirms (``engine.hand_exits``)
                why = (
                    "the cancel of its order is not confirmed yet (that order may still "
                    "fill); its exit goes back as soon as the broker confirms it"
                )
                events.append(self._unprotected(symbol, why))
                continue
            if symbol in others or symbol in doubted:
                continue  # another session's exit, or one in doubt: no second beside it
            if claims is not None and not claims.may_protect(symbol):
                continue  # the session that trades it keeps its exit (``engine.claims``)
            late = self.late_exits(symbol, whose)
            if late is None or any(self.whose(late).get(o.client_order_id) != ENDED for o in late):
                continue  # not looked up, or another session's: decided again next cycle
            if late:
                stops[symbol] = [*stops.get(symbol, []), *late]
                whose = {**whose, **self.whose(late)}
            ended = any(whose.get(o.client_order_id) == ENDED for o in stops.get(symbol, []))
            if ended and not self._still_keeps(symbol):
                continue  # taken over while this desk was frozen: the other's now
            taken = self._taken_over(stops.get(symbol, []), whose, events)
            if taken is None:
                continue  # another session took the ended session's exit first, or it ended
            stops[symbol] = taken  # (one found cancelled at the broker since the listing: gone)
            position = positions.get(symbol)
            held = position.qty if position is not None else 0.0
            pending = closing.get(symbol, 0.0)
            base, capped = abs(held), ""
            own = self.outside.own(symbol)  # held back or left alone: the desk's fills only
            why_own = self.outside.why_not_held
            if own is None and symbol in busy:  # this read may lag where the check's did not
                own, why_own = self.outside.behind_read(symbol, held), _lagging_read
            if own is not None:  # (a read lagging a fill is sized from the fills too)
                mine = abs(own) if own * held > 0 else 0.0
                if self.outside.judging(symbol):  # seen once: no exit taken down for it yet
                    mine = max(mine, _covered(stops.get(symbol, []), held))
                if base > mine + 1e-9:
                    base, capped = mine, why_own(symbol)
            # What working orders already close is not protected twice (the broker refuses it).
            want = base - (min(abs(pending), base) if held * pending < 0 else 0.0)
            if at_start and want < base - 1e-9:  # an earlier run's sell in doubt: said now
                events += self._doubt_at_start(symbol, held, orders, listed)
            have = stops.get(symbol, [])
            side = Side.SELL if held > 0 else Side.BUY
            one = (
                len(have) == 1
                and have[0].side is side
                and fits(have[0], cfg.stop_loss, cfg.take_profit_pct)
            )
            if one and abs(have[0].remaining_qty - want) < 1e-9:
                kept.append(describe(have[0]))
                continue
            if symbol in adding:
                continue  # an add still working: its fill sizes the exit (a later cycle)
            if not self._still_keeps(symbol):
                continue  # taken over while this desk was frozen: its stop is the other's
            if since is not None and session is not None and want > 1e-9:
                beside = sales_beside(session.account_key, session.id, symbol, held, listed, since)
                full = max(want - beside.working, 0.0)  # another desk's sale the listing lacks
                want = max(full - beside.filled, 0.0)  # its fills since the read: maybe not in it
                if one and want - 1e-9 <= have[0].remaining_qty <= full + 1e-9:
                    kept.append(describe(have[0]))  # maybe right: the next look tells
                    continue
            # Between bars the last bar's close may be a day old: the broker's price judges
            # whether a level is already passed (a buy by hand at today's price, judged by
            # yesterday's close, sold the whole position at market).
            now = position.last_price if only is not None and position is not None else None
            if one and position is not None and want > 1e-9 and float(want).is_integer():
                events += self._place_exit(
                    position, want, market_time, at_start, have[0], capped=capped, last=now
                )
                continue
            if not self._cancel_all_of(have, events):
                continue  # a cancel not confirmed yet (or a fill meanwhile): next cycle
            if position is None or want <= 1e-9:
                continue
            events += self._place_exit(
                position, want, market_time, at_start, None, bool(have), capped, now
            )
        if only is None:  # every position checked and in step: no look between bars waits
            self.hand_waits_end()
        if at_start and kept:
            detail = "protective stops working at the broker: " + "; ".join(kept)
            events.append(RiskEvent("reconciliation", float(len(kept)), 0.0, "kept", detail=detail))

    def _doubt_at_start(
        self, symbol: str, held: float, orders: list[Order], listed: set[str]
    ) -> list[RiskEvent]:
        """At start, a position no exit covers in full beside an earlier run's order in doubt
        that may sell it (a desk killed as it sent a sell, its stop cancelled): said NOT
        protected (before, nothing was said for the settle window)."""
        doubt = [o for o in orders if o.symbol == symbol and o.client_order_id not in listed]
        if not doubt:
            return []
        what = ", ".join(f"{o.side} {o.remaining_qty:g} {symbol}" for o in doubt)
        why = (
            f"{what} of an earlier run is in doubt (sent, no answer), so no exit goes beside "
            f"the {abs(held):g} shares it may sell; one is placed once the broker says it never "
            "received that order"
        )
        return [self._unprotected(symbol, why)]

    def _stop_id(self, symbol: str) -> str:
        """A new protective exit's client order id (``...-SYMBOL-psN``)."""
        self._stop_count += 1
        return self._order_id(symbol, f"{PROTECTIVE_LEG}{self._stop_count}")

    def _unprotected(self, symbol: str, why: str) -> RiskEvent:
        """The event for a position left without its stop (tried again next cycle); its
        why kept for the session's end (``exits_left``)."""
        self.exit_refused[symbol] = why
        return RiskEvent(
            PROTECTIVE_STOP,
            0.0,
            0.0,
            f"{symbol} is NOT protected: {why}; trying again next cycle",
            symbol=symbol,
        )


def _is_exit(order: Order) -> bool:
    """Whether an order is a protective exit (not an order that moves the position)."""
    return is_protective(order.client_order_id, order.order_type)


def _lagging_read(symbol: str) -> str:
    """Why an exit covers the desk's fills where the exit step's read showed more."""
    return "the broker's position read shows (a read lagging a fill of an order still working)"


def _closes(order: Order, position: Position | None) -> bool:
    """Whether ``order`` would close (part of) ``position``, were it to fill."""
    return position is not None and position.qty * order.side.sign < 0


def _covered(exits: list[Order], held: float) -> float:
    """The shares of a ``held`` position that ``exits`` (closing it) cover, at most all held.

    A difference seen once and not judged yet keeps these covered: a desk that took over an
    ended desk's stop saw that desk's shares once (not its own fills) and, halted, never
    looked again; sized from its own fills (none) it cancelled the stop and placed nothing,
    the position left at the broker without one, unsaid."""
    closing = sum(o.remaining_qty for o in exits if o.side.sign * held < 0)
    return min(closing, abs(held))
