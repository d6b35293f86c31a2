"""A desk that stops never leaves a position without the stop it took down, unsaid.

Exits cancelled before an order wait in memory until that order's fate is known
(``engine.stop_release``): a put-back that failed (tried again each cycle), a sell in doubt or
accepted but not filled, a put-back whose own send is in doubt. A desk stopped then (ctrl+s,
Ctrl+C, a signal, the end of data, a failure) used to end with that memory, and the position
stayed without its stop at the broker, nothing said. Now ``finish`` settles what can be settled
(each order looked up once): where the order cannot sell the shares (never sent, rejected,
never received, ended unfilled) the stop goes back; where it may still sell them (working, or
still in doubt) the stop stays down, since both could sell the same shares, and that is said.
Every position left so is said in the session's end lines, recorded as a risk event and told
to the alerts. When the store itself failed, nothing is sent (a stop without its row would
break the audit trail): ``stops_down`` says which positions may be without their stop. A desk
that keeps its own exits then brings every position's exit in step once more, as its next
cycle would (``_exits_at_finish``): a stop cancelled before its last cycle's buy, that buy
filled since, goes back sized to the position (before, the desk ended with no next cycle and
the position stayed without a stop at the broker until a desk started again, overnight
maybe); and it names each position no exit at the broker covers still
(``engine.exits_left_at_finish``), in the same lines.

A mixin of ``TradingSession`` under ``ProtectiveStops``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from tui_trader.brokers import BrokerError
from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import OrderRequest, OrderStatus
from tui_trader.engine.exit_words import Released, named_exits, unfilled_end
from tui_trader.engine.exits_left_at_finish import ExitsLeftAtFinish
from tui_trader.engine.stop_release import StopRelease

LEFT_DOWN = "stop_left_down"
"""Risk event: a stopping desk left a position without the exit it cancelled."""
STOPPING = "this desk is stopping"
NEXT_CYCLE = "; trying again next cycle"
"""How ``_unprotected`` ends a put-back that failed; a stopping desk has no next cycle."""


class StopsAtFinish(ExitsLeftAtFinish, StopRelease):
    """Settle, at the session's end, the exits waiting to be placed again."""

    _protect: Callable[[datetime], list[RiskEvent]]
    take_stop_events: Callable[[], list[RiskEvent]]

    stops_left: tuple[str, ...] = ()
    """What the session's end said of positions left without their exit (end lines)."""

    def put_back_at_finish(self, market_time: datetime) -> list[RiskEvent]:
        """Settle every exit waiting to go back (``finish``): placed again where its order
        cannot sell the shares, left down (and said) where it may. Sets ``stops_left``; the
        events: each exit placed again, each position left without one."""
        self.stops_left = ()
        events: list[RiskEvent] = []
        why_left: dict[str, str] = {}
        if self.restoring:
            events = self._settle_waiting(why_left, market_time)
        silent = ""
        if self.protects:
            more, silent = self._exits_at_finish(market_time)
            events += more
        left = self.stops_down(why_left)
        said = {line.split(":", 1)[0] for line in left}
        self.stops_left = tuple(left + self.exits_left(said, STOPPING, silent=silent))
        for line in self.stops_left:
            symbol = line.split(":", 1)[0]  # (no symbol: the broker did not answer)
            named = None if " " in symbol else symbol
            events.append(RiskEvent(LEFT_DOWN, 0.0, 0.0, line, symbol=named))
        return events

    def _exits_at_finish(self, market_time: datetime) -> tuple[list[RiskEvent], str]:
        """A desk that keeps exits brings each position's exit in step once more, as its next
        cycle would (``_protect``, the same sizing: none beside a sell working or in doubt, nor
        beside an add still working). Its last cycle's buy, sent once the exit was cancelled
        for it (an add beside it would be refused as a wash trade), may have filled since: the
        exit then went back with no next cycle, and the position stayed without one at the
        broker until a desk started again. The events, and why the broker could not be read
        ("" if it answered): silent part way, the events of what was done before, and
        ``exits_left`` does not wait out the same silence a second time."""
        silent = ""
        try:
            events = self._protect(market_time)
        except BrokerError as exc:
            events, silent = self.take_stop_events(), str(exc)
        return [_no_next_cycle(e) for e in events], silent

    def _settle_waiting(self, why_left: dict[str, str], market_time: datetime) -> list[RiskEvent]:
        """``put_back_at_finish``'s put-backs: each exit waiting in memory placed again, or
        left down with why (``why_left``). The events."""
        events: list[RiskEvent] = []
        failed_before = sorted(self._to_restore.items())  # each tried once more, not twice
        self._to_restore = {}
        events += self._unsure_ends(market_time)  # an exit whose cancel was not confirmed
        for symbol, released in sorted(self._released.items()):
            why = "the order they were cancelled for did not go out"
            events += self._put_back(symbol, released, why, market_time)
        self._released = {}
        for symbol, (released, why, _tried) in failed_before:
            events += self._put_back(symbol, released, why, market_time)
        doubt = self._in_doubt_ids()
        for waiting in (self._doubted, self._accepted):
            for _cid, (order, released) in sorted(waiting.items()):
                events += self._settle_order(waiting, order, released, doubt, why_left, market_time)
        doubt = self._in_doubt_ids()  # afresh: those put back just now, in doubt, are in it
        for cid, (symbol, released, why) in sorted(self._put_doubt.items()):
            try:
                unknown = cid in doubt and self.broker.get_order(cid) is None
            except BrokerError as exc:
                why_left[symbol] = f"the broker did not answer a look-up of it: {exc}"
                continue
            if not unknown:  # the broker has it, or the doubt settled: decided as each cycle
                events += self._after_put_back(symbol, cid, released, why, market_time)
        return [_no_next_cycle(e) for e in events]  # a put-back that failed: not retried

    def _settle_order(
        self,
        waiting: dict[str, tuple[OrderRequest, Released]],
        order: OrderRequest,
        released: Released,
        doubt: set[str],
        why_left: dict[str, str],
        market_time: datetime,
    ) -> list[RiskEvent]:
        """Look ``order`` (its exits cancelled for it) up once: ended without a fill (or
        never received, its doubt over), its exits go back; filled, it did their work (other
        sells still working: they wait on those, said); working, or unknown while still in
        doubt, they stay down (``stops_down`` says it)."""
        cid, symbol = order.client_order_id, order.symbol
        try:
            found = self.broker.get_order(cid)
            sold = found is not None and found.filled_qty > 0 and not found.status.is_open
            if sold and self._wait_on_others(order, released):
                del waiting[cid]
                return []  # said by ``stops_down``: waiting on another sell
        except BrokerError as exc:
            why_left[symbol] = f"the broker did not answer a look-up of that order: {exc}"
            return []
        if found is None and cid in doubt:
            return []  # it may still arrive and sell the shares
        if found is not None and (found.status.is_open or found.status is OrderStatus.UNKNOWN):
            return []  # it may still sell them
        del waiting[cid]
        if found is not None and found.filled_qty > 0:
            return []  # it sold: as for a sell that went out
        return self._put_back(symbol, released, unfilled_end(order, found), market_time, cid)

    def stops_down(self, why_left: dict[str, str] | None = None, could_not: str = "") -> list[str]:
        """One line per position whose exit is still down, from what waits in memory (no
        broker, no store): why it stays down, ending "this desk is stopping". ``could_not``:
        why nothing could be put back at all (the store failed): each line then says the
        position MAY be without its stop, and why."""
        why_left = why_left or {}
        waits: dict[str, list[str]] = {}
        for symbol, released in self._released.items():
            waits.setdefault(symbol, []).append(
                f"{named_exits(released)} was cancelled before an order in {symbol}"
            )
        for symbol, (released, why, _tried) in self._to_restore.items():
            waits.setdefault(symbol, []).append(
                f"{named_exits(released)} could not be placed again ({why})"
            )
        doubt = {o.client_order_id for o in self.unsettled.in_doubt()} if self.unsettled else set()
        for waiting in (self._doubted, self._accepted):
            for order, released in waiting.values():
                symbol = order.symbol
                what = f"{order.side} {order.qty:g} {symbol}"
                state = (
                    "still in doubt (sent, no answer): the position has no stop until the "
                    "broker says whether it has that order"
                    if order.client_order_id in doubt
                    else "still working at the broker: the position has no stop until that "
                    f"{order.side} ends"
                )
                waits.setdefault(symbol, []).append(
                    f"{named_exits(released)} was cancelled for {what}, {state}"
                )
        for symbol, released, _why in self._put_doubt.values():
            waits.setdefault(symbol, []).append(
                f"{named_exits(released)} was sent again but the broker's answer was lost: the "
                "position has no stop unless the broker has it"
            )
        lines = []
        for symbol, said in sorted(waits.items()):
            text = "; ".join(said)
            if could_not:
                lines.append(f"{symbol} may be without its stop: {text}; {could_not}")
                continue
            left = f" ({why_left[symbol]})" if symbol in why_left else ""
            lines.append(f"{symbol}: {text}{left}; {STOPPING}")
        return lines


def _no_next_cycle(event: RiskEvent) -> RiskEvent:
    """``event`` as a stopping desk says it: a failed put-back is not tried next cycle."""
    if not event.action_taken.endswith(NEXT_CYCLE):
        return event
    return replace(
        event, action_taken=event.action_taken.removesuffix(NEXT_CYCLE) + f"; {STOPPING}"
    )
