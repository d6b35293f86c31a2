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

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, sandbox_orders
from tests.integration.ended_stop import RALLY
from tui_trader.core.orders import Fill, OrderUpdate, Side
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until
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
    buy = _ended_desks_working_buy(sandbox, db)
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

        def both_heard() -> bool:
            """Each desk has applied the news of the rest's fill (its stream or a look)."""
            for desk in desks:
                desk.sync_orders()
            return all(_heard_filled(desk, buy) for desk in desks)

        wait_until(both_heard, 15, "both desks to hear of the fill")
        assert filled_by_order().get(buy) == filled
        row = LiveOrder.get(LiveOrder.client_order_id == buy)
        assert (row.status, row.filled_qty) == ("filled", filled)
    finally:
        for desk in desks:
            desk.finish("stopped")
            desk.broker.close()


def test_a_followed_orders_fill_after_news_without_it_is_recorded(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """News of another session's order that already counts its fill (a cancel's answer, a
    look-up) comes before the news carrying the fill: the fill is still recorded, once (the
    campaign's first fix compared the row's filled quantity and lost it: a taken-over stop
    cancelled with 10 of 20 filled, its fill never recorded)."""
    db: Any = store
    buy = _ended_desks_working_buy(sandbox, db)
    desk = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    try:
        part = filled_by_order()[buy]  # recorded by desk one, or by this desk's start
        sandbox.admin.set_faults(reset=True)
        for _ in range(3):
            sandbox.admin.step()  # the rest fills at the broker
        done = desk.broker.get_order(buy)
        assert done is not None and done.filled_qty > part
        rest = Fill(buy, "SPY", Side.BUY, done.filled_qty - part, 500.0, datetime.now(UTC), 0.0)
        desk._apply_updates([OrderUpdate(done)])  # the row says filled, no fill with it
        desk._apply_updates([OrderUpdate(done, replace(rest, fill_id="rest"))])
        desk._apply_updates([OrderUpdate(done, replace(rest, fill_id="again"))])  # a repeat
        assert filled_by_order().get(buy) == done.filled_qty
    finally:
        desk.finish("stopped")
        desk.broker.close()


def _ended_desks_working_buy(sandbox: SandboxHandle, db: Any) -> str:
    """Desk one buys SPY, half filled, and stops with the rest working: its client id."""
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
    return buy


def _heard_filled(desk: Any, cid: str) -> bool:
    """Whether ``desk``'s broker follows ``cid`` no more as working (it applied its end)."""
    tracked = desk.broker._tracked.get(cid)
    return tracked is None or tracked.order.status.is_final
