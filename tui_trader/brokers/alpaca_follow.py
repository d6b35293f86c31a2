"""Following the Alpaca orders of a broker: each view of an order (a stream event, a poll, a
look-up) merged into what is known of it, and the fills it brings.

A mixin of ``AlpacaBroker`` (``brokers.alpaca``, which sends and cancels; kept apart so that
module stays one thing). Fills are derived from each order's cumulative filled quantity, so a
repeated or replayed event can never count twice, and a view of an order older than the one
kept (a reordered event, a REST read lagging the stream) changes nothing: an order's status
never goes back. What cannot be true is noted (``brokers.alpaca_contradictions``). An OCO exit
is followed as one order: an event on its stop leg, or on the parent without its legs, makes
the broker look the pair up again by the parent's client id. While the stream is down the
orders are polled, and after a reconnect what was missed is back-filled.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_amend import replacement_ended, resume_replace, works_on
from tui_trader.brokers.alpaca_cancels import cancel_refused
from tui_trader.brokers.alpaca_contradictions import Contradictions, as_sent
from tui_trader.brokers.alpaca_memory import forget_finished
from tui_trader.brokers.alpaca_numbers import UnreadableAnswer
from tui_trader.brokers.alpaca_orders import one_contract, to_domain_order
from tui_trader.brokers.alpaca_stream import TradeUpdateFeed
from tui_trader.core.domain import Bar
from tui_trader.core.order_views import contradiction, is_stale
from tui_trader.core.orders import (
    Order,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    fill_increment,
)

if TYPE_CHECKING:
    from tui_trader.brokers.alpaca import AlpacaBroker

_FILL_EVENTS = frozenset({"fill", "partial_fill"})
"""The stream events whose timestamp is an execution's time (another event's, a cancel's say,
is not: a fill it brings, missed before, takes the order's own times)."""
_ENDED = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED})
"""Ends after which Alpaca sends no update: a later view with more filled is late news."""


@dataclass(slots=True)
class _Tracked:
    """What the broker last knew of one of our orders, to turn cumulative fills into fills."""

    order: Order
    reference_price: float | None
    filled_qty: float = 0.0
    filled_notional: float = 0.0


class OrderFollowing:
    """The following of a broker's orders (see the module); ``AlpacaBroker`` supplies the
    state (set in its ``__init__``) and the look-up (``AlpacaReads.get_order``)."""

    feed: TradeUpdateFeed | None
    contradictions: Contradictions
    _tracked: dict[str, _Tracked]
    _leg_parent: dict[str, str]
    _refresh: dict[str, str]
    _unconfirmed: set[str]
    _updates: list[OrderUpdate]
    _last: dict[str, float]
    _open_cache: tuple[float, list[Order]] | None
    _synced_connects: int
    get_order: Callable[[str], Order | None]

    def _broker(self) -> AlpacaBroker:
        """This object as the broker the helper modules take."""
        return self  # type: ignore[return-value]

    def on_bars(self, bars: dict[str, Bar]) -> None:
        """Remember the closes: the reference prices for slippage."""
        for symbol, bar in bars.items():
            self._last[symbol] = bar.close

    def drain_updates(self) -> list[OrderUpdate]:
        """Stream events; polling while the stream is down; a back-fill after a reconnect."""
        if self.feed is not None:
            while True:
                try:
                    event, raw, when = self.feed.events.get_nowait()
                except queue.Empty:
                    break
                if not one_contract(raw) and str(raw.client_order_id) not in self._tracked:
                    continue  # another's multi-leg order (``alpaca_orders.one_contract``)
                try:
                    order = to_domain_order(raw)
                except UnreadableAnswer as exc:  # its news is read from REST: a back-fill
                    self._synced_connects = -1
                    raise UnreadableAnswer(f"a trade update: {exc}") from exc
                self._apply_event(order, event, when)
            self._refresh_pairs()
            if not self.feed.connected or self.feed.connects != self._synced_connects:
                connects = self.feed.connects
                self._poll_open()
                if self.feed.connected:
                    self._synced_connects = connects
        else:
            self._poll_open()
        self._refresh_pairs()  # and the old orders of replaces rejected meanwhile
        forget_finished(self._broker())  # a week's finished orders: only the newest are followed
        updates, self._updates = self._updates, []
        return [u for u in updates if u.fill is not None or not self._overtaken(u.order)]

    def _overtaken(self, view: Order) -> bool:
        """Whether a queued view of an order (no fill with it) is older than the order as
        followed now: moved on since by ``cancel`` or ``cancel_all``, whose callers recorded
        it. Drained after that, a submit's ``ack`` (``pending_new``) wrote a stop placed again
        and cancelled before a sell back to working, and the stream's own ``canceled`` then
        changed nothing, so the row stayed ``pending_new`` while the broker had it cancelled."""
        tracked = self._tracked.get(view.client_order_id)
        return tracked is not None and is_stale(view, tracked.order)

    def _apply_event(self, order: Order, event: str, when: datetime | None = None) -> None:
        """A stream event (``when``: its timestamp): merged at once, or (an OCO leg, a parent
        without its leg) its pair looked up again."""
        parent = self._leg_parent.get(order.client_order_id)
        if parent is None and not (order.order_class is OrderClass.OCO and not order.leg_ids):
            self._apply(order, event, when if event in _FILL_EVENTS else None)
            return
        cid = parent or order.client_order_id
        if cid in self._tracked:
            self._refresh[cid] = event

    def _refresh_pairs(self) -> None:
        """Look up the OCO pairs an event touched, the old orders of rejected replaces, ours a
        listing left out (``alpaca_unlisted``); a failed look-up is tried again next time,
        after the others: it goes to the back of the queue, and the rest wait for the next
        call (one failure a call: the broker may not be answering at all). Left at the front,
        one look-up that kept failing (an order Alpaca answers with an error, or with a number
        no order has) held every one behind it for good: on a silent stream, an order of ours
        cancelled by hand stayed ``new``, its symbol working."""
        for cid, event in list(self._refresh.items()):
            try:
                found = self.get_order(cid)
            except BrokerError:
                del self._refresh[cid]
                self._refresh[cid] = event  # (a dict keeps the order things were put in)
                return
            del self._refresh[cid]
            if found is not None:
                self._apply(found, event)

    def _poll_open(self) -> None:
        """Fetch the state of every order we track that is not final yet (at Alpaca's word:
        a cancel it only accepted is not)."""
        for cid, tracked in list(self._tracked.items()):
            if tracked.order.status.is_final and cid not in self._unconfirmed:
                continue
            found = self.get_order(cid)
            if found is not None:
                self._apply(found, "poll")

    def take_contradictions(self) -> list[str]:
        """What the broker said that cannot be true, since the last call (each once)."""
        return self.contradictions.take()

    def working_symbols(self, ignore: Callable[[Order], bool] | None = None) -> set[str]:
        """Symbols with an order we follow that is not final (unsettled ones, and cancels
        Alpaca has not confirmed, included), but those ``ignore`` leaves out."""
        return {
            t.order.symbol
            for cid, t in self._tracked.items()
            if (not t.order.status.is_final or cid in self._unconfirmed)
            and (ignore is None or not ignore(t.order))
        }

    def look_up_orders(self, symbol: str) -> None:
        """Look up each order we follow in ``symbol`` that is not final yet (an OCO pair by
        its parent); what changed comes with the next ``drain_updates``."""
        for cid, tracked in list(self._tracked.items()):
            if tracked.order.symbol != symbol:
                continue
            if tracked.order.status.is_final and cid not in self._unconfirmed:
                continue
            found = self.get_order(cid)
            if found is not None:
                self._apply(found, "poll")

    def adopt(self, order: Order) -> None:
        """Track an order from before this process (reconciliation), with fills already known;
        one already tracked stays as followed (a stop taken over after reconciliation adopted
        it: the listing's view of it may be older than what the stream has said since), unless
        this says it ended and the record does not (an order whose answer was lost, settled
        ``not_received``: left open, it was looked up every poll and its symbol counted as
        working for good, so a halt's flatten never closed it)."""
        known = self._tracked.get(order.client_order_id)
        if known is not None and (known.order.status.is_final or not order.status.is_final):
            return
        tracked = _Tracked(order, None, order.filled_qty)
        for leg in order.leg_ids:
            self._leg_parent[leg] = order.client_order_id
        tracked.filled_notional = order.filled_qty * (order.filled_avg_price or 0.0)
        self._tracked[order.client_order_id] = tracked
        if order.cancel_pending:  # an earlier run's cancel Alpaca has not confirmed yet
            self._unconfirmed.add(order.client_order_id)
            resume_replace(self._broker(), order)  # or its replace: followed as this run's own

    def _track(self, order: Order, request: OrderRequest) -> Order:
        """Start tracking a submitted order (and note a fill that came with the answer)."""
        if order.client_order_id not in self._tracked:
            self._tracked[order.client_order_id] = _Tracked(
                replace(order, filled_qty=0.0), self._last.get(request.symbol)
            )
        self._apply(order, "ack")
        return self._tracked[order.client_order_id].order

    def _apply(self, order: Order, event: str, when: datetime | None = None) -> None:
        """Merge a newer view of an order; emit a fill for any new cumulative quantity, at the
        broker's time for it (``when``: a fill event's timestamp, else the order's own times:
        ``core.orders.fill_time``). A replaced one (stream too) drops the open listing."""
        if order.was_replaced:  # its replacement is newer than the listing: read afresh
            self._open_cache = None
        tracked = self._tracked.get(order.client_order_id)
        if tracked is None:
            self.contradictions.unknown_order(order)  # not ours, or a contradiction
            return
        for leg in order.leg_ids:
            self._leg_parent[leg] = order.client_order_id
        # a replace Alpaca rejected, or a cancel it refused: the order works on (both asked)
        broker = self._broker()
        revived = works_on(broker, order) | cancel_refused(broker, order, event)
        pending = order.client_order_id in self._unconfirmed
        if pending and not order.status.is_final:  # Alpaca's pending_cancel: still cancelled
            order = replace(order, status=OrderStatus.CANCELED, cancel_pending=True)
        known = tracked.order
        self.contradictions.note(order.client_order_id, contradiction(order, known))
        order = as_sent(order, known)  # in the symbol and on the side sent, whatever it says
        if is_stale(order, known):  # the broker showing the order as it was: nothing changes
            if event == "ack":
                self._updates.append(OrderUpdate(known, None, event))
            return
        order = _still_ended(order, known)
        fill = fill_increment(
            order,
            tracked.filled_qty,
            tracked.filled_notional,
            datetime.now(UTC),
            tracked.reference_price,
            when,
        )
        if fill is not None:
            tracked.filled_qty = order.filled_qty
            tracked.filled_notional = order.filled_qty * (order.filled_avg_price or 0.0)
        confirmed = pending and not order.cancel_pending
        changed = order.status != tracked.order.status or fill is not None or confirmed or revived
        if confirmed:  # Alpaca's own word: nothing more can happen to it, the row turns final
            self._unconfirmed.discard(order.client_order_id)
        tracked.order = order
        if changed or event == "ack":
            self._updates.append(OrderUpdate(order, fill, event))
        replacement_ended(self._broker(), order)


def _still_ended(view: Order, known: Order) -> Order:
    """``view`` (not stale: more filled than ``known``) merged without reopening an order
    Alpaca ended.

    Alpaca sends no update after ``canceled`` or ``expired``: a ``partial_fill`` arriving
    later (the stream reorders, a REST read lags it) is late news of shares that traded before
    the end. The fill is real and is recorded; the order stays ended, as of the later of the
    two stamps. Taken as it came, the order went back to ``partially_filled``: its symbol
    counted as working and its row said working while Alpaca had it cancelled. A view that is
    itself final (a late ``fill`` of the rest: every share traded) is Alpaca's last word, and
    an end the desk only guessed (no broker id yet: a refusal, never received) is no end.
    """
    if view.status.is_final or known.status not in _ENDED or known.broker_order_id is None:
        return view
    stamps = [t for t in (view.updated_at, known.updated_at) if t is not None]
    return replace(view, status=known.status, updated_at=max(stamps, default=None))
