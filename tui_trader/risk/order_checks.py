"""The risk gate's pre-trade checks: pass, shrink or refuse one order before the broker sees it.

A mixin of ``RiskManager`` (``risk.gate``), which holds the limits and the state they read. The
checks, in order: halted (only orders that shrink a position without turning it over pass,
whichever working orders fill for a manual one), no
short selling (a sell of more than is held is refused, not cut to the position limit and then
rejected by the broker; shares a working buy has not delivered yet are not held), the day's order
limit (a manual order that only closes what is held passes it), the position size limit (an
order is cut to fit, or refused if there is no room). A protective order (``check_protective``)
only closes a position: it passes every control. The checks only decide: an order is counted
where its slot of the day is taken (``engine.order_send``). Pure: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tui_trader.core.domain import RiskEvent, TradingState
from tui_trader.core.orders import OrderRequest
from tui_trader.core.prices import exact_text
from tui_trader.risk.limits import RiskLimits
from tui_trader.risk.state import RiskState

POSITION_SIZE = "position_size_limit"
ORDER_RATE = "order_rate_limit"
NO_SHORT = "short_sale_refused"
"""A sell of more than is held while short selling is off: refused before the broker sees it."""
HALTED_ORDER = "halted_order_refused"
_HALTED = TradingState.HALTED
"""Named once: an enum's member costs a metaclass look-up each time it is named (3.11), and
``halted`` is read for every order."""


def _adds_risk(before: float, after: float) -> bool:
    """Whether a position going from ``before`` to ``after`` shares (signed) takes new risk: it
    grows, or it crosses zero (long 10 sold 15 is short 5: smaller, but a new short position),
    which a halted desk must not do whatever the size."""
    return abs(after) > abs(before) + 1e-12 or before * after < -1e-12


def _turned(before: float, after: float) -> str:
    """The refusal's words when a smaller order would have passed: it turned the position."""
    if before * after >= -1e-12:
        return ""
    was, now = exact_text(abs(before)), exact_text(abs(after))
    side, other = ("long", "short") if before > 0 else ("short", "long")
    return f"; it would turn {was} {side} into {now} {other} (at most {was} closes it)"


def _beside_working(closable: float) -> str:
    """The refusal's words for a halted desk's manual order that turns the position over (or
    opens one) unless working orders fill."""
    if closable <= 1e-9:
        return "; the working orders may not fill: it could open a position"
    most = exact_text(closable)
    return f"; the working orders may not fill: at most {most} only shrinks the position"


@dataclass(frozen=True, slots=True)
class OrderCheck:
    """The verdict on one order: the order to send (maybe smaller) or ``None``, and why."""

    order: OrderRequest | None
    events: tuple[RiskEvent, ...] = ()


class OrderChecks:
    """The pre-trade half of ``RiskManager``: the attributes below are the manager's."""

    limits: RiskLimits
    state: RiskState
    fractional: bool
    allow_short: bool
    capital: float | None

    def check_order(
        self,
        req: OrderRequest,
        price: float,
        equity: float,
        committed_qty: float,
        sellable_qty: float,
        closable_qty: float | None = None,
    ) -> OrderCheck:
        """Pass, shrink or refuse one order; it only decides. An order passed is counted
        where its slot of the day is taken (``OrderSending._reserve_slot``), once it is sure
        to go out: an order held or fenced off after the gate has nothing to give back.

        ``committed_qty`` is the signed quantity already held plus what open orders will add,
        so that a burst of orders cannot together break the position limit. ``sellable_qty``
        is what is held minus what working sells will take: with short selling off a sell may
        take no more, and a working buy (not a share yet) never lets a sell through
        (``risk.holdings`` works both out). ``closable_qty`` (a manual order's
        ``Holding.closable``): an order of at most that many shares only shrinks the position,
        so the day's order limit does not refuse it (a trader at the limit can still get out
        by hand); it is counted all the same, the day's count going past the limit. Halted, a
        manual order of more is refused: measured against ``committed_qty`` alone, a sell of
        120 beside 100 held and a buy of 50 working (150 to 30) passed, and once the buy was
        cancelled, as the halt asks, the halted account was short 20.
        """
        state = self.state
        sign = req.side.sign
        signed = req.qty * sign
        after = committed_qty + signed
        grows = abs(after) > abs(committed_qty) + 1e-12
        refused = self.refusal_kind(sign, req.qty, committed_qty, sellable_qty)
        closable = 0.0 if closable_qty is None else closable_qty
        beside = ""  # halted: what turns the position over if the working orders do not fill
        if state.state is _HALTED and closable_qty is not None and req.qty > closable + 1e-9:
            if refused != HALTED_ORDER:
                beside = _beside_working(closable)
            refused = HALTED_ORDER
        if refused == ORDER_RATE and req.qty <= closable + 1e-9:
            refused = None  # it only closes what is held: past the limit, and counted
        if refused == HALTED_ORDER:
            return OrderCheck(
                None,
                (
                    RiskEvent(
                        HALTED_ORDER,
                        abs(after) * price,
                        0.0,
                        f"refused {req.side} {exact_text(req.qty)} {req.symbol}: trading is halted "
                        f"({state.halt_reason}){_turned(committed_qty, after) or beside}",
                        symbol=req.symbol,
                    ),
                ),
            )
        if refused == NO_SHORT:
            held = f"only {exact_text(sellable_qty)}" if sellable_qty > 1e-9 else "none"
            return OrderCheck(
                None,
                (
                    RiskEvent(
                        NO_SHORT,
                        0.0,
                        0.0,
                        f"refused {req.side} {exact_text(req.qty)} {req.symbol}: {held} held "
                        "and short selling is off",
                        symbol=req.symbol,
                    ),
                ),
            )
        limits = self.limits
        if refused == ORDER_RATE:
            return OrderCheck(
                None,
                (
                    RiskEvent(
                        ORDER_RATE,
                        float(state.orders_today),
                        float(limits.max_orders_per_day),
                        f"refused {req.side} {exact_text(req.qty)} {req.symbol}: "
                        f"{state.orders_today} orders sent today",
                        symbol=req.symbol,
                    ),
                ),
            )
        events: tuple[RiskEvent, ...] = ()
        base = max(equity, 0.0)
        capital = self.capital
        if capital is not None and capital < base:
            base = capital
        limit_value = limits.max_position_pct / 100.0 * base
        if grows and abs(after) * price > limit_value + 1e-9:
            room = limit_value / price - sign * committed_qty
            allowed = self._round_down(max(room, 0.0))
            pct = 100.0 * abs(after) * price / base if base > 0 else math.inf
            if allowed <= 0:
                return OrderCheck(
                    None,
                    (
                        RiskEvent(
                            POSITION_SIZE,
                            pct,
                            self.limits.max_position_pct,
                            f"refused {req.side} {exact_text(req.qty)} {req.symbol}: no room "
                            "under the position limit",
                            symbol=req.symbol,
                        ),
                    ),
                )
            note = (
                f"reduced from {exact_text(req.qty)} to {exact_text(allowed)} by the position limit"
            )
            events = (
                RiskEvent(
                    POSITION_SIZE,
                    pct,
                    self.limits.max_position_pct,
                    f"{note} ({req.side} {req.symbol})",
                    symbol=req.symbol,
                ),
            )
            req = req.with_qty(allowed, note)
        return OrderCheck(req, events)

    def refusal_kind(self, sign: int, qty: float, committed: float, sellable: float) -> str | None:
        """``check_order``'s first refusal that holds whatever the price, for ``qty`` shares in
        direction ``sign`` (+1 a buy): halted and growing or turning the position over (a sell
        past the shares held opens a short), no short selling, the day's orders
        all sent; ``None`` if none. The rebalance asks it before building an order."""
        s = self.state
        if s.state is _HALTED and _adds_risk(committed, committed + qty * sign):
            return HALTED_ORDER
        if not self.allow_short and sign < 0 and sellable - qty < -1e-9:
            return NO_SHORT
        return ORDER_RATE if s.orders_today >= self.limits.max_orders_per_day else None

    def check_protective(self, req: OrderRequest, held_qty: float) -> OrderCheck:
        """Pass a protective order (a stop, or the exit it stands for) that only closes part or
        all of the ``held_qty`` position; refuse anything else.

        A protective order can only shrink exposure, so neither a halt, nor the position limit,
        nor the day's order limit refuses it (refusing it would leave the position naked at the
        broker), and it is not counted against the day's orders.
        """
        signed = req.qty * req.side.sign
        if held_qty * signed < 0 and abs(signed) <= abs(held_qty) + 1e-9:
            return OrderCheck(req)
        event = RiskEvent(
            HALTED_ORDER if self.state.halted else POSITION_SIZE,
            abs(held_qty + signed),
            abs(held_qty),
            f"refused protective {req.side} {exact_text(req.qty)} {req.symbol}: it does not "
            f"close the {exact_text(held_qty)} share position",
            symbol=req.symbol,
        )
        return OrderCheck(None, (event,))

    def _round_down(self, qty: float) -> float:
        """Whole shares, or fractional to nine decimals (Alpaca's precision)."""
        if self.fractional:
            return math.floor(qty * 1e9) / 1e9
        return float(math.floor(qty + 1e-9))
