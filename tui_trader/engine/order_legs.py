"""One rebalance's orders: each leg gated, claimed, recorded and sent, and what came of it.

``OrderRouting._rebalance`` decides, per symbol, how many shares the strategies' target moves;
this sends that move. A move that crosses zero goes out as two legs, a closing one the gate and
buying power cannot refuse and an opening one checked on its own; each leg passes the risk
gate, takes the account's claim on its symbol when another session shares the account
(``engine.claims``), takes a slot of the day's orders, cancels the symbol's protective exits
first (``engine.stop_release``) and is written before the broker sees it (``_send``). Kept
apart from ``engine.order_routing`` so that each file does one thing.

A mixin of ``TradingSession`` under ``OrderRouting``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from tui_trader.core.domain import RiskEvent, Signal
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, Side
from tui_trader.engine.order_send import OrderSending
from tui_trader.risk.gate import ORDER_RATE
from tui_trader.risk.holdings import NOTHING, Holding

_BUY, _SELL = Side.BUY, Side.SELL
_UNKNOWN, _REJECTED = OrderStatus.UNKNOWN, OrderStatus.REJECTED
"""Named once: an enum's member costs a metaclass look-up each time it is named (3.11), and
these are named for every order sent."""

if TYPE_CHECKING:
    from tui_trader.engine.claims import AccountClaims
    from tui_trader.engine.rate_refusals import RateRefusals


class Move(NamedTuple):
    """One symbol's rebalance as ``_rebalance`` decided it: the same for each of its legs.

    A named tuple, not a frozen dataclass: ``_rebalance`` builds one for every symbol it
    routes (41,579 in the benchmark's 100 symbols x 1,500 bars, most of them refused by the
    day's order limit), and a frozen dataclass's ``__init__`` sets each of its six fields
    through ``object.__setattr__``: about three times the cost of a tuple's ``__new__``.
    Read-only all the same."""

    symbol: str
    target: Signal
    """The allocator's target (its fraction and reason go into the order row's rationale)."""
    desired: float
    """The shares the target makes."""
    price: float
    """The last price, for the risk gate's measures."""
    equity: float
    market_time: datetime


class OrderLegs(OrderSending):
    """Gate, record and send one rebalance's orders; the session supplies its state."""

    rate_refusals: RateRefusals
    claims: AccountClaims | None
    """Which session of the account trades each symbol (``engine.claims``)."""
    # Supplied by ``OrderRouting`` and the session's other mixins.
    _order_id: Callable[[str, str], str]
    _refusal: Callable[[RiskEvent, list[RiskEvent]], None]
    _broker_doubt: Callable[[OrderRequest], RiskEvent]
    """Halt because an order's fate is unknown (``SessionHalts``)."""
    _release_stops: Callable[[str, Side | None], str | None]
    """Cancel a symbol's protective stops before an order that closes shares."""
    _released: dict[str, list[tuple[Order, str | None]]]
    _exit_after: Callable[[OrderRequest, Order | None, datetime], list[RiskEvent]]
    """Place again the exits cancelled before an order that did not go out
    (``engine.stop_release``)."""

    def _route(
        self,
        move: Move,
        delta: float,
        held: Holding,
        events: list[RiskEvent],
        notes: list[str],
    ) -> bool | None:
        """Gate, record and send one rebalance: True if sent, False if refused (by the risk
        gate or the broker), ``None`` if its fate is in doubt (trading then halts).

        A rebalance that crosses zero (long to short or back) goes out as two orders: a closing
        leg (``-c``) that only shrinks exposure, so neither the risk gate nor buying power can
        refuse it, and an opening leg (``-o``) checked on its own. One order for both would be
        refused whole at zero buying power and leave the position open.
        """
        if held.committed * move.desired < 0 and abs(delta) > abs(held.committed) + 1e-12:
            closing = -held.committed
            closed = self._route_leg(move, closing, held, "c", events, notes)
            if not closed or self.unsettled.blocking(move.symbol):
                return closed
            opened = self._route_leg(move, move.desired, NOTHING, "o", events, notes)
            return True if opened is not None else None
        return self._route_leg(move, delta, held, "r", events, notes)

    def _route_leg(
        self,
        move: Move,
        delta: float,
        held: Holding,
        leg: str,
        events: list[RiskEvent],
        notes: list[str],
    ) -> bool | None:
        """Gate, record and send one order of a rebalance (see ``_route``): ``delta`` shares,
        against ``held``, as its ``leg`` (``c`` closing, ``o`` opening, ``r`` the whole move)."""
        symbol, market_time = move.symbol, move.market_time
        risk = self.risk
        state = risk.state
        sign = 1 if delta > 0 else -1
        committed = held.facing(sign)  # orders in doubt counted where stricter (``holdings``)
        if (
            state.orders_today >= risk.limits.max_orders_per_day
            and risk.refusal_kind(sign, abs(delta), committed, held.sellable) == ORDER_RATE
            and self.rate_refusals.count_again(symbol, state.day, float(state.orders_today))
        ):  # refused again by the day's order limit: only counted (``_refusal`` does the same)
            return False
        side = _BUY if delta > 0 else _SELL
        # positional (symbol, side, qty, client order id): keywords cost half again, per order
        request = OrderRequest(symbol, side, abs(delta), self._order_id(symbol, leg))
        check = risk.check_order(request, move.price, move.equity, committed, held.sellable)
        if check.order is None:
            for event in check.events:
                self._refusal(event, events)
            return False
        claims = self.claims
        if claims is not None:  # another session of the account may trade the symbol
            hold = claims.take(symbol, f"{side} {check.order.qty:g} {symbol}")
            if hold is not None:  # not sent (no slot taken): its words are not kept
                if hold:
                    notes.append(hold)
                return False
        refused = self._reserve_slot(check.order)
        if refused is not None:
            self._refusal(refused, events)
            return False
        order = check.order
        if claims is not None and self._claim_lost(claims, order, notes):
            return False
        note = order.rationale

        def rationale() -> str:
            """The order row's rationale, the gate's note (if any) after it. Built only for
            an order that passed (at the daily order limit most are refused), and by the
            audit log when it writes the row: in a local cycle, when the cycle ends, so that
            the allocator's reason is not worked out between the gate and the broker."""
            why = f"target {move.target.target:+.2f} -> {move.desired:g} sh; {move.target.reason}"
            if leg != "r":
                why += "; closing leg" if leg == "c" else "; opening leg"
            return f"{why}; {note}" if note else why

        waits = self._release_stops(symbol, side)
        if waits is not None:  # "": a wait said already
            self._return_slot()  # not sent: its slot is not one of the day's orders
            if waits:
                notes.append(f"{side} {order.qty:g} {symbol} waits for the next cycle: {waits}")
            return False
        if (  # the stops' release took long, or the process stalled: the claim once more
            claims is not None
            and self.send_gap.overdue(order.client_order_id) is not None
            and self._claim_lost(claims, order, notes)
        ):
            return False
        ack = self._send(order, market_time, rationale, killable=True)  # (``KillFence``)
        events += () if self._unsent else check.events  # only with an order that went out
        if self._released:  # exits cancelled before it: placed again unless it went out
            events += self._exit_after(order, ack, market_time)
        if ack is None:
            events.append(self._broker_doubt(order))
            return None
        if self._unsent:  # not sent: halted meanwhile (``SendFence._gap_refusal``)
            events += self._unsent
            self._unsent.clear()
            return False
        if ack.status is _UNKNOWN:  # followed as unsettled (``_send``)
            notes.append(
                f"order {order.client_order_id}: the answer was lost and the broker does not "
                f"know it yet; no new orders for {symbol} until it is settled"
            )
            return True
        if ack.status is _REJECTED:
            why, what = ack.reject_reason or "", f"{side} {order.qty:g} {symbol}"
            said = (
                f"{what} {why}" if why.startswith("not sent") else f"broker rejected {what}: {why}"
            )
            notes.append(said)
            return False
        return True

    def _claim_lost(self, claims: AccountClaims, order: OrderRequest, notes: list[str]) -> bool:
        """Whether an order under a claim is not sent because the store says the claim is no
        longer this session's, or this session did not run for longer than its heartbeat window
        since it read the account (``AccountClaims.confirm``); its slot given back, its line
        noted. Asked after the order's slot, before its row and its send."""
        symbol = order.symbol
        lost = claims.confirm(symbol, f"{order.side} {order.qty:g} {symbol}")
        if lost is None:
            return False
        self._return_slot()  # not sent: its slot is not one of the day's orders
        if lost:
            notes.append(lost)
        return True
