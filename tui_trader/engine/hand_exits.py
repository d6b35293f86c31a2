"""Exits brought back in step between bars once an order by hand has ended, not a bar later.

An order by hand in a protected symbol cancels the symbol's exit first, so that the sell and
the exit do not both hold the same shares (``engine.stop_release``). On a desk that keeps exits
the exit for what is left was then placed again only by the next cycle's ``_protect``: on
1-minute bars up to a minute without a stop, on daily bars up to a day (a position sold in part
at 10:00 stayed unprotected until the next day's bar).

So each order by hand that went out (accepted, working or filled) is followed
(``follow_hand``) and looked up between bars (``hands_ended``: on every wake, and by the runner
every ``HAND_LOOK_S`` while one is followed), one order a look, the one asked longest ago (a
new one first): at Alpaca one request a look however many orders by hand work (before, one
each: six limit sells working by hand spent Alpaca's whole 180 a minute, and the desk's own
cycles went throttled). Still working: asked again; nothing changes yet. The orders a halt
cancelled whose cancel the broker only accepted (Alpaca's 204) are asked apart, all of them in
one read a look (``Broker.look_up_many``): each exit goes back as soon as the broker confirms
its order's end, never beside a sell still ``pending_cancel``.
Ended (filled, cancelled, expired, rejected after it was accepted, or gone): its symbol's exit
is brought in step at once by the cycle's own ``_protect`` for that symbol alone
(``exits_after_hand``), the one money path: a stop sized for what is held beside the orders
still working, at the price the session's rule gives, never two and never larger than the
position; nothing filled, the stop for the whole position, as it was. The broker's news (the
fill) is recorded first, looked up at the broker if its stream news has not come (a fill
the stream lost or delayed left the exit to the next bar). A position read that does not show
the desk's fills yet is looked at again at each look, ``HAND_WAIT_LOOKS`` times at most, and the
exit placed once it does (before, it waited for the next bar: up to a day on daily bars). An
order in doubt is not followed here: its symbol stays without an exit until the doubt settles,
as before (``engine.stop_release``). A look-up the broker does not answer is asked again at the
next look, and so is an ended order's symbol whose exit the broker's silence kept from being
put in step (before, the look that failed forgot it: the exit waited for the next bar), said
once while the silence lasts (``hand_silence``); the cycle's ``_protect`` runs at every bar
regardless.
A desk started again while an order by hand of its store's earlier run works follows it
too (``follow_hands_at_start``): before, only the desk that sent it did, and after a restart
its shares waited for the next bar's cycle without a stop once it ended.
Claims of a shared account and a halt are ``_protect``'s own rules (a halted desk keeps its
exits: they pass the halt as protective orders).

A mixin of ``TradingSession`` under ``ProtectiveStops``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.domain import RiskEvent
from tui_trader.core.order_ids import key_tag, read_order_id
from tui_trader.core.orders import Order, OrderRequest, OrderStatus
from tui_trader.risk.stops import is_protective

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.engine.outside_changes import OutsideChanges

HAND_LOOK_S = 2.0
"""Seconds between look-ups of the orders by hand followed between bars (``session.runner``):
at Alpaca one request a look (one order asked), 30 a minute of the key's 180."""

HAND_WAIT_LOOKS = 15
"""Looks (``HAND_LOOK_S`` apart: about 30 s) that a symbol whose position read does not show
the desk's fills yet is read again for, one position read each; then it is left to the next
bar's cycle (shares changed outside are the cycle's check to judge, not a look's)."""

_NOT_OUT = (OrderStatus.REJECTED, OrderStatus.UNKNOWN, OrderStatus.NOT_RECEIVED)
"""An order's answers that say it did not go out (its exits were put back already) or is in
doubt (its exits wait for the doubt to settle)."""


class HandExits:
    """Follow the orders by hand of a desk that keeps exits; bring their symbols' exits in step
    as soon as each has ended."""

    broker: Broker
    protects: bool
    _cycle_orders: list[Order]
    _unsent: list[RiskEvent]
    _protect: Callable[..., list[RiskEvent]]
    _apply_updates: Callable[..., int]
    outside: OutsideChanges
    _hand_waits: dict[str, int]
    _hand_due: set[str]

    def init_hand_exits(self) -> None:
        """Nothing followed yet (called by ``init_stops``)."""
        self._hands: dict[str, str] = {}
        """Client order id -> symbol of an order by hand that went out and may not have
        ended yet, the next to be asked first."""
        self._hand_due = set()
        """Symbols of ended orders by hand whose exits are not in step yet: the broker did
        not answer the look that found them ended (asked again at the next look)."""
        self._hand_waits = {}
        """Symbol -> looks left, of an ended hand order's symbol whose position read did not
        show the desk's fills (``exits_after_hand``); forgotten by the bar's cycle."""
        self._hands_pending: set[str] = set()
        """Client ids of followed orders by hand whose cancel the broker only accepted
        (Alpaca's 204: ``cancel_pending``; a fill may still beat it): all looked up in one
        read a look (``_cancels_confirmed``) until the broker says each has ended."""
        self._hands_unseen: set[str] = set()
        """Client ids of followed orders whose cancel was pending and which that one read
        did not show (a page of the newest 500: a busy account): asked alone, a look each,
        and their exits still held back (``cancels_pending``) until the broker says each
        has ended (not shown is not ended)."""
        self._hand_silence_said: set[str] = set()
        """Symbols whose exit the broker's silence holds up, said already (``hand_silence``):
        forgotten once the broker answers for them, or by the bar's cycle."""

    @property
    def follows_hand(self) -> bool:
        """Whether an order by hand is followed (the runner looks it up every
        ``HAND_LOOK_S`` between bars), an ended one's exit is still due, or a position read
        is waited for."""
        return bool(self._hands or self._hand_due or self._hand_waits)

    def hand_waits_end(self) -> None:
        """The bar's cycle protects every position, having checked it first: no symbol waits
        for a look between bars any more."""
        self._hand_waits.clear()
        self._hand_due.clear()
        self._hand_silence_said.clear()

    def follow_hand(self, order: OrderRequest, ack: Order | None) -> None:
        """Follow ``order``, an order by hand just sent (``ack``: its answer), if it went
        out on a desk that keeps exits; not one in doubt, refused, or held in its send gap."""
        if not self.protects or ack is None or ack.status in _NOT_OUT or self._unsent:
            return
        self._hands = {order.client_order_id: order.symbol, **self._hands}  # asked first

    def follow_hands_at_start(
        self, working: list[Order], tag: str | None, symbols: set[str]
    ) -> None:
        """Follow the orders by hand in ``working`` (the broker's open orders at start) that an
        earlier run of this store sent (its ``tag``) in ``symbols``, the desk's: the start put
        their symbols' exits beside them; once one ends, its exit is put in step between bars
        as for this run's own."""
        for order in working:
            parts = read_order_id(order.client_order_id)
            if (
                parts is not None
                and parts.leg.startswith("m")
                and tag is not None
                and key_tag(parts.session_key) == tag
                and order.symbol in symbols
                and order.status.is_open
            ):
                self._hands.setdefault(order.client_order_id, order.symbol)

    def hands_ended(self) -> set[str]:
        """The symbols whose exits are due: the followed order asked now (the one asked
        longest ago; forgotten once ended, else asked again after the others), those ended
        whose exits the broker's silence kept from being put in step (``_hand_due``), and a
        waiting symbol (``_hand_waits``) whose position read now shows the desk's fills.
        The orders whose cancel is pending are looked up apart, all in one read
        (``_cancels_confirmed``), and not asked alone while that read shows them."""
        self._cancels_confirmed()
        alone = [(c, s) for c, s in self._hands.items() if c not in self._hands_pending]
        for cid, symbol in alone[:1]:  # one request a look
            del self._hands[cid]
            try:
                found = self.broker.get_order(cid)
            except BrokerError:  # not answered: asked again, after the others
                self._hands[cid] = symbol
                continue
            if found is not None and found.status.is_open:
                self._hands[cid] = symbol  # still working: asked again, after the others
            else:
                self._hand_due.add(symbol)
        return set(self._hand_due) | self._caught_up()

    def hands_cancelled(self, orders: list[Order]) -> None:
        """Take ``orders`` (a halt's cancels, as the broker answered them) before the halting
        pass's ``hands_ended``: a followed order by hand among them that has ended is
        forgotten and its symbol due, with no look-up. Before, a halt that cancelled orders by
        hand in three symbols put one stop back in its pass (the one order asked) and the
        others one a look, 2 s apart. One whose cancel is not confirmed yet (Alpaca's 204:
        ``cancel_pending``; it may still fill) waits for the broker's word, but all of them
        are asked in one read, in that pass and at each look (``_cancels_confirmed``):
        before, one a look, so at Alpaca the last of N positions had its stop back about
        2·N s after the halt."""
        for order in orders:
            cid = order.client_order_id
            if order.status.is_open:
                continue
            if order.cancel_pending:
                if cid in self._hands or self._follows_cancel(order):
                    self._hands.setdefault(cid, order.symbol)
                    self._hands_pending.add(cid)
            elif cid in self._hands:
                del self._hands[cid]
                self._hand_due.add(order.symbol)

    def _follows_cancel(self, order: Order) -> bool:
        """Whether ``order``, one of the desk's own not sent by hand (a rebalance's sell)
        whose cancel the halt only had accepted, is followed as an order by hand is: it may
        still fill, yet the broker's list of open orders leaves it out, so the exit step
        sent a stop beside it (at Alpaca rejected "insufficient qty available"; had it gone
        out, the stop and the sell could both sell the same shares). Not a protective exit:
        its own symbol's stop is what is being put back."""
        return self.protects and not is_protective(order.client_order_id, order.order_type)

    def cancels_pending(self) -> set[str]:
        """The symbols of followed orders (by hand, or the desk's own a halt cancelled:
        ``_follows_cancel``) whose cancel the broker has not confirmed:
        no exit goes beside them (``_protect``) until it does (the order may still fill, and
        Alpaca refuses a stop for the shares it holds: a halt's cycle sent a stop for each
        position, each rejected "insufficient qty available" and said NOT protected)."""
        unconfirmed = self._hands_pending | self._hands_unseen
        return {self._hands[c] for c in unconfirmed if c in self._hands}

    def _cancels_confirmed(self) -> None:
        """Look up, in one read (``Broker.look_up_many``), every followed order by hand whose
        cancel the broker only accepted: each the broker says has ended (cancelled, or
        filled before the cancel) is forgotten and its symbol due; one still
        ``pending_cancel`` waits for the next look (a stop beside a sell that may still fill
        could sell the same shares twice, and Alpaca refuses it); one the read did not show
        is asked alone, a look each, as any followed order, its exit still held back until
        that says it ended (before, the next bar's cycle sent a stop beside it: rejected).
        Unanswered: asked again at the next look."""
        waiting = sorted(c for c in self._hands_pending if c in self._hands)
        self._hands_pending = set(waiting)
        self._hands_unseen &= self._hands.keys()  # (ended: asked alone and forgotten)
        if not waiting:
            return
        try:
            found = self.broker.look_up_many(waiting)
        except BrokerError:
            return
        for cid in waiting:
            order = found.get(cid)
            if order is not None and order.status.is_open:
                continue  # its cancel still pending: asked again at the next look
            self._hands_pending.discard(cid)
            if order is not None:
                self._hand_due.add(self._hands.pop(cid))
            else:  # not shown: its cancel may still be pending, its exit still held back
                self._hands_unseen.add(cid)

    def _caught_up(self) -> set[str]:
        """The waiting symbols whose position read shows the desk's fills now (one read for
        all); each look counts down, and a symbol out of looks is left to the bar's cycle
        (said when it began to wait). Unanswered: asked again at the next look."""
        waits = self._hand_waits
        if not waits:
            return set()
        try:
            positions = self.broker.positions()
        except BrokerError:
            return set()
        agreed: set[str] = set()
        for symbol, left in sorted(waits.items()):
            position = positions.get(symbol)
            if self._read_agrees(symbol, position.qty if position is not None else 0.0):
                agreed.add(symbol)  # (``exits_after_hand`` forgets it once it reads so too)
            elif left <= 1:
                del waits[symbol]
            else:
                waits[symbol] = left - 1
        return agreed

    def _read_agrees(self, symbol: str, held: float) -> bool:
        """Whether a position read of ``held`` shows what the desk's fills make of
        ``symbol`` (nothing known of it: it does)."""
        made = self.outside.fills_make(symbol)
        return made is None or abs(made - held) <= 1e-9

    def exits_after_hand(
        self, symbols: set[str], market_time: datetime
    ) -> tuple[list[RiskEvent], list[str]]:
        """Bring ``symbols``' exits in step now that their orders by hand have ended: the
        broker's news recorded first (the fill), then the cycle's ``_protect`` for those
        symbols alone. The events, and a note for each exit placed (said now, not a bar
        later). A symbol whose position read disagrees with the desk's fills (a read lagging
        the fill: an exit sized from it could be larger than the position) waits for a read
        that agrees (``_hand_waits``), at the latest for the next cycle, and is said. A broker
        that does not answer is said too: ``symbols`` stay due, tried again at the next look
        (and by the next cycle). Before, its error reached the wake, whose report and records
        then lost the orders by hand it had just acted on."""
        if not symbols:
            return [], []
        try:
            return self._exits_in_step(symbols, market_time)
        except BrokerError as exc:  # (still due: ``_exits_in_step`` forgets them once done)
            return [], self.hand_silence(symbols, exc)

    def hand_silence(self, symbols: set[str], exc: BrokerError) -> list[str]:
        """The note that the broker's silence keeps ``symbols``' exits from being put in step
        (their orders by hand ended), for those still due and not said since it began: said at
        every look (every ``HAND_LOOK_S``), the same line filled the log 30 times a minute of
        an outage; a pass whose first read failed (``BetweenBars``) said nothing at all."""
        held_up = symbols & self._hand_due.union(self._hand_waits)
        new = sorted(held_up - self._hand_silence_said)
        self._hand_silence_said |= held_up
        if not new:
            return []
        return [
            f"{', '.join(new)}: the broker did not answer as the order by hand ended ({exc}); "
            f"its protective exit is looked at again in {HAND_LOOK_S:g} s"
        ]

    def _exits_in_step(
        self, symbols: set[str], market_time: datetime
    ) -> tuple[list[RiskEvent], list[str]]:
        """``exits_after_hand``'s work, the broker's silence aside."""
        for symbol in sorted(symbols):  # news the stream has not brought: asked for (at
            self.broker.look_up_orders(symbol)  # Alpaca only orders not known ended yet)
        self._apply_updates(self.broker.drain_updates())
        positions = self.broker.positions()
        notes: list[str] = []
        due: set[str] = set()
        waits = self._hand_waits
        for symbol in sorted(symbols):
            position = positions.get(symbol)
            held = position.qty if position is not None else 0.0
            if self._read_agrees(symbol, held):
                waits.pop(symbol, None)
                due.add(symbol)
            elif symbol not in waits:  # a read lagging the fill, or shares changed outside
                waits[symbol] = HAND_WAIT_LOOKS  # (the cycle's check judges which)
                notes.append(
                    f"{symbol}: the broker's position ({held:g}) does not show this desk's "
                    f"fills ({self.outside.fills_make(symbol):g}) yet; its protective exit "
                    "waits for a read that does (looked again between bars), at the latest "
                    "for the next cycle, which checks the position first"
                )
        before = len(self._cycle_orders)
        events = self._protect(market_time, only=due) if due else []
        self._hand_due -= symbols  # in step (a failure above keeps them due: looked again)
        self._hand_silence_said -= symbols  # the broker answered: a new silence is said
        notes += [
            f"{o.symbol}: protective exit placed for {o.qty:g} shares as soon as the order by "
            "hand ended, not at the next bar"
            for o in self._cycle_orders[before:]
            if is_protective(o.client_order_id, o.order_type) and o.status.is_open
        ]
        return events, notes
