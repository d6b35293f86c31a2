"""Cancelling a symbol's protective exits before an order in it, and putting them back when
that order does not go out.

Brokers refuse a sell beyond the shares not held by other working sell orders (Alpaca:
"insufficient qty available"; an OCO pair holds its shares once), and Alpaca refuses an order
that could trade against one of the account's own working orders on the other side ("potential
wash trade detected"), so an order in a protected symbol first cancels that symbol's exit, and
waits for the cancel's confirmation (``_release_stops``). The exit is this session's own, or an
ended session's, taken over first (``engine.stop_takeover``).

The order can still fail to go out once the cancel is confirmed: the broker rejects it, the
account's halt is found in its send gap (``engine.send_gap``), the request budget holds it
back. The position was then left without its exit: for a session that keeps no exits (it had
taken over an ended session's), until a session with exits took the symbol over. So each exit
cancelled before an order is remembered until the order's fate is known (``_exit_after``):
sent, it is forgotten (what the order leaves is protected by ``_protect``, or deliberately not
at all by a session without exits: ``exit_dropped``; such a session follows the order until it
fills, for the broker may still reject it: ``_accepted``); not sent or rejected, the exit is
placed again at once as it was (its stop price, its take-profit level, as a protective order:
a halt does not refuse it), for no more than is held beside the orders that may close it, said
and audited (``exit_placed_again``); if that fails, the position is said NOT protected and it
is tried again every cycle. Placing them again is ``engine.exit_put_back``'s (each claimed on
its symbol's close row, as a halt's flatten close is: ``engine.close_claims``).

An order in doubt (sent, no answer) may still arrive and sell the shares: an exit placed
beside it could sell them a second time on a broker that does not hold shares for working
orders (and at Alpaca it races the late order for them). So the desk fails closed: no exit for
those shares while the order is in doubt (said NOT protected, in plain words); once the broker
says it never received the order (or rejected it), the exit goes back; if the order arrived,
the exit stays cancelled, as for a sell that went out. An exit placed again whose own send is
in doubt is said NOT protected, not placed, and followed (``_after_put_back``): once the broker
says it never received it (or it ended unfilled), it is placed again once more.

A mixin of ``TradingSession`` under ``ProtectiveStops``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import (
    Order,
    OrderRequest,
    OrderStatus,
    Side,
)
from tui_trader.engine.exit_put_back import ExitPutBack
from tui_trader.engine.exit_words import Released, may_still, named_exits
from tui_trader.engine.live_exits import (
    KEEPER_ENDED,
    KEEPER_SILENT,
    flatten_close_hold,
    live_exit_row,
)
from tui_trader.engine.put_back_waits import PutBackWaits
from tui_trader.engine.stop_takeover import ENDED, FOREIGN, LIVE, OWN, StopTakeover
from tui_trader.risk.stops import is_protective

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.engine.claims import AccountClaims
    from tui_trader.engine.settlement import Unsettled
    from tui_trader.risk.gate import RiskManager
    from tui_trader.store.audit import AuditLog


LIVE_HINT = (
    "; to sell here, sell on the desk that keeps that stop, or stop that desk first (this "
    "desk's sell then takes its stop over, cancels it and goes out)"
)
"""What a trader whose order by hand waits beside another running desk's stop can do: that
desk alone cancels and puts back its stop (cancelled from here, it came back only at that
desk's next bar, a day on daily bars), so this desk never touches it."""


class StopRelease(ExitPutBack, PutBackWaits, StopTakeover):
    """Cancel a symbol's protective exits, each confirmed, before an order in it."""

    broker: Broker
    audit: AuditLog
    claims: AccountClaims | None
    risk: RiskManager
    iteration: int
    unsettled: Unsettled
    _cycle_orders: list[Order]
    _unsent: list[RiskEvent]
    _send: Callable[[OrderRequest, datetime], Order | None]
    _broker_doubt: Callable[[OrderRequest], RiskEvent]
    _stop_id: Callable[[str], str]
    _unprotected: Callable[[str, str], RiskEvent]

    def init_release(self) -> None:
        """Nothing cancelled yet (called by ``init_stops``)."""
        self._released: dict[str, Released] = {}
        """Symbol -> exits cancelled before an order whose fate is not known yet."""
        self._to_restore: dict[str, tuple[Released, str, int]] = {}
        """Symbol -> exits to place again (a try failed), what happened to their order, and
        the cycle of that try (tried again from the next one)."""
        self._doubted: dict[str, tuple[OrderRequest, Released]] = {}
        """Client order id -> the order in doubt exits were cancelled for, and those exits
        (by order, not symbol: a later order in the symbol replaced an earlier one's entry,
        and that entry's exit was forgotten)."""
        self._accepted: dict[str, tuple[OrderRequest, Released]] = {}
        """Client order id -> an order accepted but not filled yet that a session without
        exits cancelled an exit for (the broker may still reject it), and that exit."""
        self._put_doubt: dict[str, tuple[str, Released, str]] = {}
        """Client order id -> an exit placed again whose own send is in doubt: its symbol,
        the exits it put back, and why they were put back (``_after_put_back``). By exit, not
        symbol: a second exit put back in doubt in the symbol overwrote the first, and once
        the first was found never received, it was not placed again."""
        self._unsure: dict[str, Released] = {}
        """Symbol -> exits whose cancel before an order was not confirmed (``_unsure_ends``)."""
        self._closes_ended: set[str] = set()
        """Client ids of ended desks' flatten closes the broker said have ended (their rows
        stay open in the store): asked no more (``engine.live_exits``)."""

    @property
    def restoring(self) -> bool:
        """Whether exits cancelled before an order wait to be placed again."""
        waits = self._doubted or self._accepted or self._put_doubt or self._unsure
        return bool(self._released or self._to_restore or waits)

    def _release_stops(
        self, symbol: str, side: Side | None = None, every: bool = False, hand: bool = False
    ) -> str | None:
        """Cancel ``symbol``'s protective exits before an order in it (an exit needs the
        stop's shares; an add would be refused as a wash trade): this session's own, and an
        ended session's (taken over first; by a session that keeps no exits only before a
        sell, ``droppable``, said and audited). Why the order must wait, if a cancel is not
        confirmed (the stop may have filled, or the broker is slow): the next cycle decides
        again from the broker's positions; "" when that wait was said already. ``side``: the
        order's (a session that keeps no exits cancels one only before a sell of its shares);
        ``every``: look past the listing for another session's exits (``late_exits``; a
        halt's flatten, which waits beside any order in doubt itself). An exit of this session
        whose send is in doubt cannot be cancelled, and may still arrive: the order waits
        (beside it, both could sell the same shares) until the broker says whether it has it.
        ``hand``: an order by hand (``engine.manual_orders``), often between bars: it looks past
        the listing too (``late_exits``), for that listing may be half a minute old and not show
        an ended session's exit (the sell went out beside it, and the broker refused it). A
        sell (but a halt's flatten's, ``every``: it sizes its close counting the others') waits
        first beside another live desk's flatten close open in the store, before any exit is
        cancelled (``engine.live_exits``, ``crash30b``), and a buy beside one that covers a
        short (``holds32``)."""
        if side is not None and not every:
            waits = self._beside_close(symbol, side)
            if waits is not None:
                return waits
        if self.unsettled and not every:
            for order in self.unsettled.in_doubt():
                cid = order.client_order_id
                if order.symbol == symbol and is_protective(cid, order.order_type):
                    return (
                        f"its protective exit {cid} was sent but the broker's answer was lost; "
                        "an order beside it could trade the same shares, so it waits until "
                        "the broker says whether it has that exit"
                    )
        claims = self.claims
        took = claims is not None and claims.took_over(symbol)
        if not self.protects and symbol not in self.droppable and not took and not hand:
            if side is Side.SELL:  # no ended session's exit to cancel; a live one's may hold
                return self._sell_beside_live_exit(symbol)
            return None  # no ended session's exit to cancel before it: nothing to release
        try:
            listed = [o for o in self.broker.open_orders() if o.symbol == symbol]
            late = self.late_exits(symbol, [o.client_order_id for o in listed], every or hand)
            if late is None:
                return f"the broker did not answer a look-up of {symbol}'s protective exits"
            listed += late
            whose = self.whose(listed)
            for order in listed:
                kind = whose.get(order.client_order_id)
                if kind is None:
                    continue
                cid = order.client_order_id
                if kind == ENDED and self.ended_already(order):
                    continue  # an old listing's: replaced or ended before this desk came
                if kind in (LIVE, FOREIGN):
                    return self.hold_reason(order, kind) + (
                        LIVE_HINT if hand and kind == LIVE else ""
                    )
                if not self.protects and kind == ENDED and side is not order.side:
                    return self.hold_reason(order, kind)  # a buy beside it waits
                if not self.protects and kind == OWN and self.adopted_from(cid) is None:
                    continue
                if kind == OWN and self.protects and not self._still_keeps(symbol):
                    return f"its protective exit {cid} is kept by another session now"
                if kind == ENDED:
                    waits = self._take_over_exit(order)
                    if waits is not None:
                        return waits
                came = self.adopted_from(cid)
                try:
                    cancelled = self.broker.cancel(cid, confirm=True)
                finally:  # sent, maybe done though unconfirmed: followed (``_unsure_ends``)
                    self._cancel_unsure(symbol, order, came)
                if cancelled is None and came is not None:  # maybe ended since the listing
                    cancelled, waits = self._cancel_answered(order)
                    if waits is not None:
                        return waits
                if cancelled is None:
                    waits = f"the cancel of its protective stop {cid} is not confirmed"
                    if self.protects:
                        return waits
                    return waits if self.drops.first(symbol, cid) else ""
                self._unsure.pop(symbol, None)  # confirmed: followed as cancelled for the order
                if not self.protects:
                    cancelled = self._dropped(cancelled)
                self._cancelled(cancelled)
                self._released.setdefault(symbol, []).append((cancelled, came))
        except BrokerError as exc:
            return f"the broker did not answer the cancel of its protective stop: {exc}"
        if self.protects and side is Side.SELL and not every and not hand:  # (crash30)
            return self._sell_beside_live_exit(symbol)  # another live desk's, in no listing yet
        return None

    def _sell_beside_live_exit(self, symbol: str) -> str | None:
        """A sell beside another live desk's exit that the listing (up to 30 s old) lacks:
        its row open in the store holds the sell for the next cycle (``engine.live_exits``
        says why); ``None`` to send it. By a desk with exits too (``crash30``)."""
        session = self.audit.session
        if self.claims is None or session is None:
            return None
        found = live_exit_row(self._account(), symbol, session.id)
        if found is None:
            return None
        cid, keeper, how = found
        if how == KEEPER_ENDED:  # ended moments ago: its exit works on, in no listing yet
            return (
                f"its protective exit {cid} was left working by session {keeper}, which "
                f"ended moments ago on this account: no orders in {symbol} while it works"
            )
        if how == KEEPER_SILENT:  # its row says running: it may be stopped or hung, not ended
            return (
                f"its protective exit {cid} is kept by session {keeper}, whose heartbeat went "
                f"stale moments ago (stopped, hung or dead): no orders in {symbol} while it works"
            )
        return (
            f"its protective exit {cid} is kept by session {keeper}, which runs on this "
            f"account: no orders in {symbol} while it works"
        )

    def _beside_close(self, symbol: str, side: Side) -> str | None:
        """Why an order on ``side`` in ``symbol`` waits beside another live desk's flatten
        close on that side open in the store (a sale beside a sell, a buy beside a cover:
        ``engine.live_exits``); ``None`` to go on, and where no other desk may trade the
        account through this store."""
        session = self.audit.session
        if self.claims is None or session is None:
            return None
        look_up = self.broker.get_order  # a close of a desk ended over a minute ago: asked
        ended = self._closes_ended
        return flatten_close_hold(self._account(), symbol, session.id, str(side), look_up, ended)

    def _still_keeps(self, symbol: str) -> bool:
        """Right before this session changes ``symbol``'s exit: whether it still keeps it, its
        exit row confirmed in the store (``AccountClaims.confirm_exit``: a desk frozen past its
        heartbeat window may have lost it to another desk meanwhile)."""
        claims = self.claims
        return claims is None or not claims.key or claims.confirm_exit(symbol)

    def _cancelled(self, order: Order | None) -> None:
        """Record a cancelled order (``None``: it was no longer working)."""
        if order is not None:
            self.audit.order_update(order)
            self._cycle_orders.append(order)

    def _exit_after(
        self, order: OrderRequest, ack: Order | None, market_time: datetime
    ) -> list[RiskEvent]:
        """What becomes of the exits cancelled before ``order`` now that it was sent (``ack``:
        ``_send``'s answer; ``None``, in doubt): forgotten if it went out; placed again at once
        if it did not, or was rejected; held back while it is in doubt and may sell the same
        shares (see the module; an add in doubt sells none: placed again at once)."""
        released = self._released.pop(order.symbol, None)
        if not released:
            return []
        what = f"{order.side} {order.qty:g} {order.symbol}"
        if ack is None or ack.status is OrderStatus.UNKNOWN:
            if all(old.side is not order.side for old, _came in released):
                why = f"{what} is in doubt (sent, no answer); an exit beside it sells none of it"
                return self._put_back(order.symbol, released, why, market_time)
            if not self.protects:  # a session with exits sizes them beside it (``_protect``)
                self._doubted[order.client_order_id] = (order, released)
            return [
                self._unprotected(
                    order.symbol,
                    f"{what} is in doubt (sent, no answer), so {named_exits(released)} is not "
                    f"placed again while that order {may_still(order.side)} the same shares; it "
                    "goes back once the broker says it never received the order",
                )
            ]
        if ack.status is not OrderStatus.REJECTED and not self._unsent:
            if ack.status.is_open and not ack.filled_qty and not self.protects:
                self._accepted[order.client_order_id] = (order, released)  # may be rejected
                return []
            return self.exit_drops.over(order.symbol)  # it went out: the drops are counted
        reason = ack.reject_reason or "no reason given"
        why = reason if reason.startswith("not sent") else f"the broker rejected it: {reason}"
        why = f"{what} refused ({why})"
        return self._put_back(order.symbol, released, why, market_time, order.client_order_id)

    def _restore_exits(self, market_time: datetime) -> list[RiskEvent]:
        """Once a cycle (before ``_protect``): place again the exits cancelled before an order
        that never went out (one that waited for another cancel), those a try failed to place
        again, and those of an order no longer in doubt that the broker never received."""
        if not self.restoring:
            return []
        events = self._unsure_ends(market_time)
        for symbol, released in sorted(self._released.items()):
            why = "the order they were cancelled for did not go out"
            events += self._put_back(symbol, released, why, market_time)
        self._released = {}
        for symbol, (released, why, tried) in sorted(self._to_restore.items()):
            if tried == self.iteration:
                continue  # failed in this cycle (said): tried again in the next
            del self._to_restore[symbol]
            events += self._put_back(symbol, released, why, market_time)
        doubt = self._in_doubt_ids()
        for waiting in (self._doubted, self._accepted):
            for cid, (order, released) in sorted(waiting.items()):
                if cid not in doubt:
                    events += self._after_it_ended(waiting, order, released, market_time)
        doubt = self._in_doubt_ids()  # afresh: those put back just now, in doubt, are in it
        for cid, (symbol, released, why) in sorted(self._put_doubt.items()):
            if cid not in doubt:
                events += self._after_put_back(symbol, cid, released, why, market_time)
        return events

    def _in_doubt_ids(self) -> set[str]:
        """The client ids of the orders in doubt now."""
        return {o.client_order_id for o in self.unsettled.in_doubt()} if self.unsettled else set()
