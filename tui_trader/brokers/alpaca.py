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
parent's client id. This module sends and cancels orders (a submission's doubt is settled in
``brokers/alpaca_submit``); following them (each view merged, the fills it brings) is
``OrderFollowing`` in ``brokers/alpaca_follow``; the reads (account, positions, open orders,
look-ups, the market clock, readiness) are ``AlpacaReads`` in ``brokers/alpaca_reads``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any

from tui_trader.brokers.alpaca_budget import RequestBudget
from tui_trader.brokers.alpaca_calls import CallPolicy, describe, prepare
from tui_trader.brokers.alpaca_cancels import cancel_all, cancel_by_id
from tui_trader.brokers.alpaca_config import AlpacaEndpoint
from tui_trader.brokers.alpaca_contradictions import Contradictions
from tui_trader.brokers.alpaca_follow import OrderFollowing, _Tracked
from tui_trader.brokers.alpaca_reads import AlpacaReads
from tui_trader.brokers.alpaca_stream import TradeUpdateFeed
from tui_trader.brokers.alpaca_submit import submit_once
from tui_trader.core.orders import (
    Order,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
)


class AlpacaBroker(OrderFollowing, AlpacaReads):
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

    def close(self) -> None:
        """Stop the stream and any retry wait."""
        self._stop.set()
        if self.feed is not None:
            self.feed.stop()


__all__ = ["AlpacaBroker", "describe"]
