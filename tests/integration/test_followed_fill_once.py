"""An ended desk's partly filled order that two desks follow: its later fills recorded once.

A desk's start asks the broker about the orders ended sessions of its account left open, and
follows those still working (``engine.reconcile``): a buy split by the exchange, half filled
when its desk stopped, the rest to come. The row stays the ended session's, so every desk
started since (one after another, or together after a PostgreSQL restart ended them all)
follows the same order, and each recorded the rest's fill under its own key: 30 shares
recorded for a 20-share buy (review29a), the store's fills no longer adding up to the position.
A fill of an order another session sent is now recorded only if its row still records what the
fill starts from (``fills28``'s compare-and-set, ``AuditLog.order_update_found``): once,
by whichever desk heard of it first.
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
LATER = 6
"""Bars the rest of a split order waits (the sandbox's ``partial_bars``)."""


def test_an_ended_desks_rest_fill_two_desks_follow_is_recorded_once(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """Desk one's buy fills half and desk one stops; desks A and B start one after the other,
    both follow the buy, and its rest fills: the fills recorded for it add up to what the
    broker filled (a SQLite file, then PostgreSQL)."""
    db: Any = store
    sandbox.admin.set_faults(partial_rate=1.0, partial_bars=LATER)
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    split: list[str] = []
    for _ in range(12):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
        one.sync_orders()
        split = [o.client_order_id for o in LiveOrder.select() if o.status == "partially_filled"]
        if split:
            break
    one.finish("stopped")
    one.broker.close()
    assert split, "desk one's buy was not split"
    [buy] = split
    desks = []
    try:
        desks.append(alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM))
        desks.append(alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM))
        for _ in range(LATER + 2):
            sandbox.admin.step()
            for desk in desks:
                desk.run_iteration()
                desk.sync_orders()
        [(status, filled)] = [
            (str(o.status.value), float(o.filled_qty))
            for o in sandbox_orders(trading)
            if o.client_order_id == buy
        ]
        assert status == "filled"  # the rest came while both desks followed it
        assert filled_by_order().get(buy) == filled
        # the desk whose copy of the fill was refused counts it all the same: the broker holds
        # its shares, and neither desk holds SPY back as changed outside its fills
        notes: list[str] = []
        for _ in range(2):
            sandbox.admin.step()
            for desk in desks:
                notes += desk.run_iteration().notes
        held = {s: p.qty for s, p in desks[0].broker.positions().items()}
        for desk in desks:
            assert "SPY" not in desk.outside.holds, desk.outside.holds
            assert desk.outside.fills_make("SPY") in (None, held.get("SPY", 0.0))
        assert not [n for n in notes if "looking again next cycle" in n], notes
    finally:
        for desk in desks:
            desk.finish("stopped")
            desk.broker.close()
