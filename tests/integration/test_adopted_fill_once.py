"""An ended desk's order still working that two desks started together both follow: its fill is
recorded once.

A desk's start asks the broker about every order the store's ended sessions left open; one still
working it follows (``broker.adopt``), its fills coming with the stream's news like its own. In
the ``crash29`` campaign a desk without exits was stopped (Ctrl+C) with two buys partly filled,
their rest working, and two desks with exits started together a second later: both followed the
buys, and when they filled each recorded the rest (8 of 15 QQQ and 7 of 13 SPY recorded twice:
the store's fills no longer added up to the positions). The stream's fill of an order another
session sent is now recorded only if its row still records what the fill starts from, in the
statement that brings the row up to the broker (as a fill found by asking, ``fills28``): the
second desk's news finds the row moved on and records nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, sandbox_orders
from tests.integration.ended_stop import RALLY
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder
from tui_trader.store.pg_url import PgUrl

MOMENTUM = LearningSettings("momentum")
"""Every desk follows momentum alone."""


def test_a_working_order_two_starts_follow_is_recorded_once(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """Desk one stops with its buy partly filled, the rest working; desks A and B start, both
    following it; the rest fills and both cycle: the fills recorded for the buy add up to what
    the broker filled, and the buy's row says what the broker says."""
    db: Any = store
    sandbox.admin.set_faults(partial_rate=1, partial_bars=3)  # half now, the rest 3 bars on
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    for _ in range(12):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
        if LiveOrder.select().count():
            break
    [buy] = [o.client_order_id for o in LiveOrder.select() if o.status != "filled"]
    one.finish("stopped")
    one.broker.close()
    desks = []
    try:
        for _ in range(2):  # both start while the buy still works: both follow it
            desks.append(alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM))
        part = filled_by_order().get(buy, 0.0)
        sandbox.admin.set_faults(reset=True)
        for _ in range(3):
            sandbox.admin.step()  # the rest fills at the broker
        orders = sandbox_orders(trading)
        [filled] = [float(o.filled_qty) for o in orders if o.client_order_id == buy]
        assert filled > part
        for desk in desks:
            desk.run_iteration()
        assert filled_by_order().get(buy) == filled
        row = LiveOrder.get(LiveOrder.client_order_id == buy)
        assert (row.status, row.filled_qty) == ("filled", filled)
    finally:
        for desk in desks:
            desk.finish("stopped")
            desk.broker.close()
