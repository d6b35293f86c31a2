"""A stop the broker's listing still shows but that has ended there is replaced by a fresh one
in the same cycle, not left for later.

Alpaca's listing and its stream can lag a stop's end (a replace race it lost, a rejection on
its way). A cycle that decides then asks to resize that stop; the replace finds nothing working
("not sent: the stop to replace is not working"), and the confirmed cancel before a fresh stop
finds nothing to cancel either. The desk took that as "a cancel not confirmed yet" and left the
position without a stop for the cycle, saying nothing (seen on the sandbox under load: the
strategies bought 10 more meanwhile, and the stop came back a cycle later). Now it asks the
broker what became of the old stop: ended, a fresh stop goes out at once.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.integration.test_protective_stops import _session, _step, _stops
from tui_trader.brokers.paper import PaperBroker
from tui_trader.core.orders import Order, OrderType


def test_a_stop_that_ended_unseen_is_replaced_in_the_same_cycle(db_path: Path) -> None:
    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    broker: PaperBroker = session.broker
    stale = replace(stop, qty=stop.qty / 2)  # the listing's view: an old stop, half the size
    broker.cancel(stop.client_order_id)  # ended at the broker, the news not in the listing
    listed = broker.open_orders

    def open_orders() -> list[Order]:
        return [*listed(), stale]

    broker.open_orders = open_orders  # type: ignore[method-assign]
    report = _step(session, market, 100, 101, 99, 100)
    broker.open_orders = listed  # type: ignore[method-assign]
    working = [o for o in broker.open_orders() if o.order_type is OrderType.STOP]
    assert [o.qty for o in working] == [100], report.risk_events
