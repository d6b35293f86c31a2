"""Following the orders whose fate decides whether exits cancelled for them go back: an order
no longer in doubt, or accepted but not filled yet, and an exit placed again whose own send was
in doubt.

Each is looked up once a cycle (``StopRelease._restore_exits``) until its fate is known: ended
without a fill, its exits go back (``StopRelease._put_back``); filled, it did their work (a sell
went out); while it works, asked again next cycle. See ``engine.stop_release``.

A mixin of ``TradingSession`` under ``StopRelease``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import OrderRequest, OrderStatus
from tui_trader.engine.exit_words import Released, unfilled_end

if TYPE_CHECKING:
    from tui_trader.brokers import Broker


class PutBackWaits:
    """Look up the orders exits wait on; put the exits back once an order ended unfilled."""

    broker: Broker
    protects: bool
    _adopted: dict[str, str]
    """Client order id -> the session an exit was taken over from (``StopTakeover``)."""
    _put_doubt: dict[str, tuple[str, Released, str]]
    """Symbol -> an exit placed again whose own send is in doubt (``StopRelease``)."""
    _put_back: Callable[..., list[RiskEvent]]
    """Place exits again beside what may close the shares (``StopRelease``)."""

    def _after_put_back(
        self, symbol: str, cid: str, released: Released, why: str, market_time: datetime
    ) -> list[RiskEvent]:
        """Look up ``cid``, an exit placed again whose send was in doubt, now that the doubt
        has settled: working, it protects the position (an ended session's again, for a
        session without exits); filled, it did its work; never received, or ended without a
        fill, the exits go back once more (else the position stayed without one for good:
        a session without exits places none of its own). Asked again next cycle if the
        broker does not answer."""
        try:
            found = self.broker.get_order(cid)
        except BrokerError:
            return []
        del self._put_doubt[symbol]
        if found is not None and found.status.is_open:
            came = released[0][1]
            if came is not None and not self.protects:
                self._adopted[cid] = came
            return []
        if found is not None and found.filled_qty > 0:
            return []
        never = found is None or found.status is OrderStatus.NOT_RECEIVED
        how = "never reached the broker" if never or found is None else f"ended {found.status}"
        return self._put_back(
            symbol, released, f"{why}; the exit sent again then {how}", market_time
        )

    def _after_it_ended(
        self,
        waiting: dict[str, tuple[OrderRequest, Released]],
        symbol: str,
        order: OrderRequest,
        released: Released,
        market_time: datetime,
    ) -> list[RiskEvent]:
        """Look ``order`` up (no longer in doubt, or accepted): once it has ended without a
        fill (never received, rejected after it was accepted, cancelled), its exits go back;
        once it filled, it went out; while it works, asked again next cycle."""
        try:
            found = self.broker.get_order(order.client_order_id)
        except BrokerError:
            return []  # asked again next cycle
        if found is not None and found.status.is_open:
            return []  # it works: decided when it ends
        del waiting[symbol]
        if found is not None and found.filled_qty > 0:
            return []  # it sold: as for a sell that went out
        why = unfilled_end(order, found)
        return self._put_back(symbol, released, why, market_time, order.client_order_id)
