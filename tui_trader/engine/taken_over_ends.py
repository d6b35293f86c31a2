"""A protective exit taken over from an ended desk is looked up once at the broker: the listing
it was taken from may be half a minute old, and the exit may have ended since.

A desk reads the orders other desks placed at most every half minute while its stream runs
(``brokers.alpaca_reads``). An ended desk's stop whose row still says working (the desk was
killed after its cancel reached Alpaca, before the row said so) was taken over from such a
listing (``engine.stop_takeover``) and followed as working: a desk with exits placed no stop
for the position (it had one, it thought), and a sell's cancel of it answered "nothing to
cancel", read as a cancel not confirmed: the sell and the position's new stop waited until a
later listing or look-up, 16-38 s with the position unprotected in the ``crash29`` campaign
(and for good while the stream stayed up, in the sandbox). Now the exit is looked up once, when
it is taken over and when a cancel of it is not confirmed, and merged into what the broker
follows:

- still working: taken over (or its cancel not confirmed) as before;
- ended unfilled and NOT replaced (cancelled, expired): it is gone; the position gets its new
  stop (or the sell goes out) at once, said in the desk's words;
- replaced (``Order.replaced_by``): its replacement, which the old listing does not show,
  protects the position; nothing is sent beside it (a sell or a second stop would sell the
  shares twice), said, and the next listing (read afresh: ``look_up_many``) shows the
  replacement, which is taken over like any ended desk's exit;
- filled (in whole or part) since the listing: the position it protected is sold; nothing is
  sold beside it and no stop is sized from the positions read before; the next cycle reads
  them again.

A mixin of ``TradingSession`` under ``StopTakeover``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import Order

if TYPE_CHECKING:
    from tui_trader.brokers import Broker

ENDED = "ended"
"""Whose an exit is: an ended session's (``engine.stop_takeover.ENDED``)."""


class TakenOverEnds:
    """Look a taken-over exit up once; tell cancelled, replaced and filled apart."""

    broker: Broker
    stop_notes: list[str]
    take_over: Callable[[Order, str], RiskEvent | None]
    adopted_from: Callable[[str], str | None]

    def _taken_over(
        self, have: list[Order], whose: dict[str, str], events: list[RiskEvent]
    ) -> list[Order] | None:
        """Take over the ended sessions' exits among ``have`` (this session keeps the symbol's
        exit now: ``engine.stop_takeover``), each event into ``events``, each looked up once
        (see the module); the exits that still work, or ``None`` if the symbol is decided
        again next cycle (another session took one first, the broker did not answer, or one
        was replaced or filled since the listing)."""
        working: list[Order] = []
        for order in have:
            if whose.get(order.client_order_id) != ENDED:
                working.append(order)
                continue
            event = self.take_over(order, "this desk keeps the symbol's exit now")
            if event is None:
                return None
            events.append(event)
            try:
                found = self._ended_since(order)
            except BrokerError:
                return None
            if found is None:
                working.append(order)
                continue
            waits = self._not_gone(order, found)
            if waits is not None:
                self.stop_notes.append(f"{order.symbol}: {waits}")
                return None
            self.stop_notes.append(self._gone_words(found, "a new exit is placed for it now"))
        return working

    def _cancel_answered(self, order: Order) -> tuple[Order | None, str | None]:
        """After a cancel of ``order``, a taken-over exit, that was not confirmed ("nothing
        to cancel", or no word in time): the exit as cancelled if a look-up finds it ended
        unfilled and not replaced (the order it was cancelled for goes out at once, said);
        else ``None`` and why the order waits (replaced, or filled since the listing), or
        ``(None, None)``: still working, or not known (the cancel not confirmed, as before)."""
        try:
            found = self._ended_since(order)
        except BrokerError:
            return None, None
        if found is None:
            return None, None
        waits = self._not_gone(order, found)
        if waits is not None:
            return None, waits
        self.stop_notes.append(self._gone_words(found, "nothing to cancel, the order goes out now"))
        return found, None

    def _ended_since(self, order: Order) -> Order | None:
        """The broker's view of ``order`` if it has ended there (merged into what the broker
        follows: the row is written with the next updates), ``None`` while it works or if the
        broker does not have it. ``BrokerError`` if the broker does not answer."""
        cid = order.client_order_id
        found = self.broker.look_up_many([cid]).get(cid)
        if found is None:  # not on the listing's page: asked alone, then merged
            found = self.broker.get_order(cid)
            if found is not None and found.status.is_final:
                self.broker.look_up_orders(order.symbol)
        if found is None or not found.status.is_final:
            return None
        return found

    def _not_gone(self, order: Order, found: Order) -> str | None:
        """Why nothing goes out beside ``found``, ``order`` ended at the broker: replaced (its
        replacement protects) or filled since the listing (the position it protected is
        sold); ``None`` if it ended unfilled, not replaced."""
        cid = order.client_order_id
        came = self.adopted_from(cid) or "another"
        if found.was_replaced:
            by = f" ({found.replaced_by})" if found.replaced_by else ""
            return (
                f"the protective exit {cid} that session {came} left was replaced at the "
                f"broker by another order{by}, which this desk's listing did not show yet: that "
                f"order protects the position, so nothing goes out beside it in {order.symbol} "
                "this cycle; the next cycle takes it over"
            )
        if found.filled_qty > order.filled_qty + 1e-9:
            return (
                f"the protective exit {cid} that session {came} left filled "
                f"{found.filled_qty:g} shares at the broker before this desk came to it: the "
                f"position it protected is sold; nothing goes out in {order.symbol} this "
                "cycle, the next reads the positions again"
            )
        return None

    def _gone_words(self, found: Order, then: str) -> str:
        """The line for an exit taken over that had ended unfilled at the broker already."""
        cid = found.client_order_id
        came = self.adopted_from(cid) or "another"
        return (
            f"{found.symbol}: the protective exit {cid} that session {came} left was already "
            f"{found.status} at the broker (its row still said working): {then}"
        )
