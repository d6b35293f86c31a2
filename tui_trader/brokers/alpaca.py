"""The Alpaca broker: real orders through alpaca-py, with every doubt resolved before resending.

Each order carries the engine's deterministic ``client_order_id``. If the answer to a submission
is lost (timeout, dropped connection, 5xx, 429) the broker asks Alpaca for that client id before
anything is sent again, so a duplicate never reaches the exchange; if the doubt cannot be
settled it raises ``BrokerError`` and the engine halts. Fills come from the ``trade_updates``
stream; while it is down the broker polls, refuses new orders, and after a reconnect back-fills
what it missed from the orders endpoint. Fills are derived from each order's cumulative filled
quantity, so a repeated or replayed event can never count twice, and a view of an order older
than the one kept (a reordered event, a REST read lagging the stream) changes nothing: an order's
status never goes back. What cannot be true (``core.orders.contradiction``) is reported to the
session, which halts. An OCO exit is followed as one order (``alpaca_orders``): an event on its
stop leg, or on the parent without its legs, makes the broker look the pair up again by the
parent's client id. This module sends, cancels and tracks orders (a submission's doubt is
settled in ``brokers/alpaca_submit``); the reads (account, positions, open orders, look-ups,
the market clock, readiness) are ``AlpacaReads`` in ``brokers/alpaca_reads``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_amend import replacement_ended, resume_replace, works_on
from tui_trader.brokers.alpaca_budget import RequestBudget
from tui_trader.brokers.alpaca_calls import CallPolicy, describe, prepare
from tui_trader.brokers.alpaca_cancels import cancel_all, cancel_by_id, cancel_refused
from tui_trader.brokers.alpaca_config import AlpacaEndpoint
from tui_trader.brokers.alpaca_contradictions import Contradictions, as_sent
from tui_trader.brokers.alpaca_memory import forget_finished
from tui_trader.brokers.alpaca_numbers import UnreadableAnswer
from tui_trader.brokers.alpaca_orders import one_contract, to_domain_order
from tui_trader.brokers.alpaca_reads import AlpacaReads
from tui_trader.brokers.alpaca_stream import TradeUpdateFeed
from tui_trader.brokers.alpaca_submit import submit_once
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


class AlpacaBroker(AlpacaReads):
    """``Broker`` on an Alpaca account (paper, live, or the sandbox)."""

    outside_changes = True
    """A person (the dashboard) or another program can trade the account too."""
    replace_confirmed = False
    """A replaced order may still fill before its replacement reaches the exchange."""

    def __init__(
        self,
        endpoint: AlpacaEndpoint,
        policy: CallPolicy | None = None,
        use_stream: bool = True,
        stream_wait: float = 10.0,
        require_open_market: bool = True,
        budget: RequestBudget | None = None,
    ) -> None:
        from alpaca.trading.client import TradingClient

        self.endpoint = endpoint
        self.policy = policy or CallPolicy()
        self.name = {"paper": "alpaca-paper", "live": "alpaca-live"}.get(
            endpoint.kind, "alpaca-other"
        )
        self._stop = threading.Event()
        self.budget = budget or RequestBudget()
        """Every Trading API request of this broker passes through it (200 a minute at most)."""
        self.client = prepare(
            TradingClient(
                endpoint.key_id,
                str(endpoint.secret),
                paper=endpoint.kind != "live",
                url_override=endpoint.base_url,
            ),
            self.policy,
            self.budget,
            self._stop,
        )
        self.require_open_market = require_open_market
        self._open_cache: tuple[float, list[Order]] | None = None
        """The last REST list of open orders and when it was read (monotonic)."""
        self._tracked: dict[str, _Tracked] = {}
        self._leg_parent: dict[str, str] = {}
        """An OCO's stop leg's client id -> its parent's (the order the desk follows)."""
        self._refresh: dict[str, str] = {}
        """Orders to look up again (``_refresh_pairs``): client id -> the last event on it."""
        self._unconfirmed: set[str] = set()
        """Orders reported cancelled on Alpaca's 204 alone: a fill may still beat the cancel,
        so they are looked up like working orders until Alpaca's own word is final."""
        self._replacing: dict[str, str] = {}
        """A replace's new order (client id) -> the order it replaces, until the new one ends."""
        self._replace_failed: set[str] = set()
        """Replaced orders whose new order ended unfilled (rejected): looked up, one still
        working works on (``brokers.alpaca_amend.works_on``)."""
        self._updates: list[OrderUpdate] = []
        self.contradictions = Contradictions()
        """What Alpaca said that cannot be true (``brokers.alpaca_contradictions``)."""
        self._last: dict[str, float] = {}
        self._clock: tuple[datetime, Any] | None = None
        self._suspended = False
        self.feed: TradeUpdateFeed | None = None
        self._synced_connects = 0
        if use_stream:
            self.feed = TradeUpdateFeed(endpoint, paper=endpoint.kind != "live")
            self.feed.start(stream_wait)

    # -- orders --------------------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> Order:
        """Send once; on any doubt, ask by client id before (at most once) sending again
        (``brokers.alpaca_submit``)."""
        return submit_once(self, request)

    def cancel(self, client_order_id: str, confirm: bool = False) -> Order | None:
        """Cancel one order we track; ``None`` if it is not ours or no longer working.

        Alpaca answers 204 and cancels asynchronously; the order is reported cancelled here and
        a fill that raced the cancel still arrives through the stream or the poll. With
        ``confirm`` the order is looked up until Alpaca reports it cancelled (``None`` if it
        finished otherwise or is still pending past the request timeout).
        """
        tracked = self._tracked.get(client_order_id)
        if tracked is None or tracked.order.status.is_final:
            return None
        broker_id = tracked.order.broker_order_id
        if broker_id is None:
            return None

        if not cancel_by_id(self, broker_id, f"cancelling order {client_order_id}"):
            return None
        if confirm:
            from tui_trader.brokers.alpaca_amend import cancel_confirmed

            if not cancel_confirmed(self, client_order_id):
                return None
        else:
            self._unconfirmed.add(client_order_id)
        tracked.order = replace(
            tracked.order, status=OrderStatus.CANCELED, cancel_pending=not confirm
        )
        return tracked.order

    def replace(self, client_order_id: str, request: OrderRequest) -> Order | None:
        """``replace_order_by_id`` (see ``brokers.alpaca_amend``)."""
        from tui_trader.brokers.alpaca_amend import replace_order

        return replace_order(self, client_order_id, request)

    def cancel_all(self, keep: Callable[[Order], bool] | None = None) -> list[Order]:
        """Cancel the account's open orders but those ``keep`` is true for (every one without
        it); return our tracked ones as cancelled (``brokers.alpaca_cancels``)."""
        return cancel_all(self, keep)

    def urgent(self) -> AbstractContextManager[None]:
        """Reads inside are a halt's: they take the key's last requests (``alpaca_budget``)."""
        return self.budget.urgent()

    def suspend_trading(self) -> None:
        """Set the account's ``suspend_trade`` so no process can trade until re-armed."""
        config = self._read("reading account configuration", self.client.get_account_configurations)
        config.suspend_trade = True
        self._read(
            "suspending trading",
            self.client.set_account_configurations,
            account_configurations=config,
        )
        self._suspended = True

    # -- updates -------------------------------------------------------------------------------

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
        forget_finished(self)  # a week's finished orders: only the newest are followed
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
        listing left out (``alpaca_unlisted``); a failed look-up is tried again next time."""
        for cid, event in list(self._refresh.items()):
            try:
                found = self.get_order(cid)
            except BrokerError:
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
            resume_replace(self, order)  # or its replace: followed as this run's own

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
        revived = works_on(self, order) | cancel_refused(self, order, event)
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
        replacement_ended(self, order)

    def close(self) -> None:
        """Stop the stream and any retry wait."""
        self._stop.set()
        if self.feed is not None:
            self.feed.stop()


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


__all__ = ["AlpacaBroker", "describe"]
