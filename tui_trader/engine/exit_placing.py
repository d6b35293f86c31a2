"""Sending one protective exit for a position: a new one, or one replacing the exit it had.

``ProtectiveStops._protect`` decides which positions need an exit and for how many shares; this
places it. ``risk.exits.plan_exit`` plans the exit (a stop, a take-profit limit, or an OCO pair
of both, or a close at market when the price is already through a level); its rationale says
when it covers fewer shares than the broker's position shows (changed outside the session, or a
read lagging a fill), was resized, or replaces an ended session's exit taken over. The risk
gate checks it as a protective order. A stop or a limit is replaced in one step
(``engine.exit_replace``); an OCO pair, or an exit the replace found gone, is cancelled
(confirmed) and sent afresh. Kept apart from ``engine.protective_stops`` so that each file does
one thing.

A mixin of ``TradingSession`` under ``ProtectiveStops``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.orders import Order, OrderClass, OrderRequest, OrderStatus
from tui_trader.engine.close_claims import EXIT_RACED
from tui_trader.risk.exits import describe, plan_exit

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.engine.close_claims import CloseClaims
    from tui_trader.engine.config import SessionConfig
    from tui_trader.risk.gate import RiskManager
    from tui_trader.risk.stops import TrueRange

TAKE_PROFIT = "take_profit"
"""Risk event: a position already beyond its take-profit level was closed at market."""


class ExitPlacing:
    """Place (or replace) one position's protective exit, with the events it makes."""

    config: SessionConfig
    broker: Broker
    risk: RiskManager
    last_prices: dict[str, float]
    _ranges: dict[str, TrueRange]
    """Each symbol's average true range (for ``--stop-loss atr:N``), kept by ``ProtectiveStops``."""
    exit_refused: dict[str, str]
    """Why each symbol's last exit was not placed (``exits_left_at_finish``)."""
    _close_rows: CloseClaims | None = None
    """The account's close rows as read before the exit step's positions, where other desks
    may trade the account through this store: a new exit is claimed there before it is sent,
    and not sent where a halt's flatten close claimed the symbol since that read (the close
    ends the position; beside it, both could sell the same shares: ``engine.close_claims``)."""
    # Supplied by ``ProtectiveStops``, ``ExitReplace``, ``StopTakeover`` and ``OrderRouting``.
    _stop_id: Callable[[str], str]
    _unprotected: Callable[[str, str], RiskEvent]
    _cancelled: Callable[[Order | None], None]
    _replace_stop: Callable[[Order, OrderRequest, datetime], Order | None]
    _ended: Callable[[Order], Order | None]
    adopted_from: Callable[[str], str | None]
    _send: Callable[..., Order | None]
    _broker_doubt: Callable[[OrderRequest], RiskEvent]

    def _place_exit(
        self,
        position: Position,
        qty: float,
        market_time: datetime,
        at_start: bool,
        old: Order | None = None,
        resized: bool = False,
        capped: str = "",
        last: float | None = None,
    ) -> list[RiskEvent]:
        """Send one protective exit for ``qty`` shares of ``position``, replacing ``old`` when
        given: a stop or a take-profit limit in one step (never without it); an OCO pair by a
        confirmed cancel, then the new pair (a pair's legs cannot be resized together).
        ``capped``: fewer shares than the broker's position shows, and why (its rationale says
        so: changed outside the session, or a read lagging a fill). ``last``: the price that
        judges whether a level is already passed (default: the last bar's close). The events."""
        symbol = position.symbol
        rng = self._ranges.get(symbol)
        if last is None:
            last = self.last_prices.get(symbol, position.last_price)
        plan = plan_exit(
            self.config.stop_loss,
            self.config.take_profit_pct,
            position,
            qty,
            rng.value if rng is not None else None,
            last,
            self._stop_id(symbol),
        )
        if isinstance(plan, str):
            return [self._unprotected(symbol, plan)]
        request = plan.request
        if capped:  # changed outside, or a read lagging a fill: the desk's own shares only
            request = request.with_qty(
                qty,
                f"covers the {qty:g} shares this desk's fills account for, not the "
                f"{abs(position.qty):g} {capped}",
            )
        elif resized or old is not None:
            request = request.with_qty(qty, f"resized to the {qty:g} share position")
        came = self.adopted_from(old.client_order_id) if old is not None else None
        if came is not None and old is not None:
            request = replace(
                request,
                rationale=f"{request.rationale}; replaces {old.client_order_id}, taken over "
                f"from session {came}",
            )
        check = self.risk.check_protective(request, position.qty)
        if check.order is None:
            return list(check.events)
        pair = request.order_class is OrderClass.OCO or (
            old is not None and old.order_class is OrderClass.OCO
        )
        ack = None
        kept = ""  # a resize the broker refused: the old exit works on as it was
        if old is not None and not plan.at_market and not pair:
            ack = self._replace_stop(old, check.order, market_time)
            if ack is None:
                return [self._broker_doubt(check.order)]
            kept = f"; {describe(old)} still works" if ack.status is OrderStatus.REJECTED else ""
        if ack is None or ack.status is OrderStatus.NOT_RECEIVED:
            # not replaced (a pair, gone, or the price is through it): cancelled first; a
            # cancel not confirmed yet is decided again next cycle
            if old is not None:
                ended = self.broker.cancel(old.client_order_id, confirm=True)
                if ended is not None:
                    self._cancelled(ended)
                else:
                    ended = self._ended(old)
                if ended is None:  # still pending (it may fill), or no answer: it waits
                    return [self._cancel_unconfirmed(old, qty)]
                if ended.filled_qty > old.filled_qty + 1e-9:  # filled (part) meanwhile
                    return [self._filled_meanwhile(old, ended)]
            if ack is not None:
                request = replace(request, client_order_id=self._stop_id(symbol))
                check = self.risk.check_protective(request, position.qty)
                if check.order is None:
                    return list(check.events)
            rows = self._close_rows  # claimed as a flatten's close is (``engine.close_claims``)
            fence = rows.fence(symbol, EXIT_RACED) if rows is not None else None
            # sized from the step's own reads, other desks' fills since counted (``sold_since``)
            ack = self._send(check.order, market_time, fence=fence, sold_check=False)
        if ack is None:
            return [self._broker_doubt(check.order)]
        if ack.status is OrderStatus.REJECTED and (ack.reject_reason or "").startswith("not sent"):
            return [self._unprotected(symbol, f"its exit was {ack.reject_reason}")]
        if ack.status is OrderStatus.REJECTED:
            why = f"the broker rejected the exit: {ack.reject_reason}{kept}"
            return [self._unprotected(symbol, why)]
        self.exit_refused.pop(symbol, None)
        events = []
        if plan.profit:
            events.append(
                RiskEvent(
                    TAKE_PROFIT,
                    last,
                    request.limit_price or 0.0,
                    f"closing {qty:g} {symbol} at market",
                    symbol=symbol,
                    detail=request.rationale,
                )
            )
        if not at_start:
            return events
        pair = request.order_class is OrderClass.OCO
        kind = f"{'oco' if pair else request.order_type} {request.side} {qty:g} {symbol}"
        return [
            *events,
            RiskEvent(
                "reconciliation",
                1.0,
                0.0,
                f"placed {kind} ({request.rationale})",
                symbol=symbol,
                detail=f"position {position.qty:g} {symbol} had no protective stop at the broker"
                if old is None
                else f"position {position.qty:g} {symbol} had a protective stop for "
                f"{old.remaining_qty:g} shares",
            ),
        ]

    def _filled_meanwhile(self, old: Order, ended: Order) -> RiskEvent:
        """The event for an exit that filled (in full, or in part before its cancel took) while
        the desk cancelled it to replace it (an OCO pair's cancel still pending at Alpaca, then
        the pair won the race; a stop whose replace found it gone; any exit ``_protect``
        cancelled): the position read before is out of date, so no new exit goes out for
        it now (the new one sold shares the account no longer had: a short), and the next
        cycle protects what the broker then shows. Said NOT protected until then."""
        sold = ended.filled_qty - old.filled_qty
        why = (
            f"its exit {old.client_order_id} filled {sold:g} shares while it was being "
            "cancelled to resize it, so the position read before is out of date and no "
            "new exit goes out for it now; the next cycle protects what is held then"
        )
        return self._unprotected(old.symbol, why)

    def _cancel_unconfirmed(self, old: Order, qty: float) -> RiskEvent:
        """The event for an exit to replace whose cancel the broker has not confirmed (Alpaca's
        ``pending_cancel``: it may still fill): the new exit waits for the broker's word (beside
        it, both could sell the same shares: a short), decided again next cycle. Before, the
        wait was silent."""
        why = (
            f"the cancel of its exit {old.client_order_id} (to resize it to {qty:g} shares) is "
            "not confirmed yet and that exit may still fill, so the new exit waits for the "
            "broker's word"
        )
        return self._unprotected(old.symbol, why)
