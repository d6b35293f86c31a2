"""A desk that stopped with its order still working, and that order's rest filling afterwards,
seen by another desk of the same store on the same account.

Desk one buys into a rally, half filled, and stops with the rest working; the rest fills on the
next bar. Desk two, still running, saw the position grow with no fill of its own and no other
live session on the account, and said "IWM changed outside this session ... left alone": it
never traded the symbol again this session. That fill is an order of this store's desk (its
client order id carries a session key of this store, its row is still open), not a hand trade:
desk two now looks those rows up at the broker, records their fills against their own rows (as
start-up reconciliation does for a dead session's orders) and counts them. A real trade by hand
is still said and left alone (``test_outside_changes.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alpaca.trading.requests import MarketOrderRequest

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.ended_orders import ended_open_rows, take_ended_row
from tui_trader.store.models import LiveFill, LiveOrder
from tui_trader.store.pg_url import PgUrl

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}


def _held(trading: Any) -> dict[str, float]:
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}


def _desk_one_stops_half_filled(sandbox: SandboxHandle, trading: Any, db: Path | PgUrl) -> Any:
    """Desk one buys SPY, QQQ and IWM, half filled, and stops with the rests working; desk
    two (same store, same account) has run alongside. Desk two, and what desk one held."""
    learning = LearningSettings("momentum")
    one = alpaca_session(sandbox, db, learning=learning)
    two = alpaca_session(sandbox, db, learning=learning)
    for _ in range(2):  # quiet bars: both desks hold nothing
        sandbox.admin.step()
        one.run_iteration()
        two.run_iteration()
    sandbox.admin.set_faults(partial_rate=1.0, partial_bars=2)  # half, the rest 2 bars on
    sandbox.admin.step(shock=RALLY)
    assert one.run_iteration().orders_sent == 3
    sandbox.admin.step()  # half of each order fills
    assert one.run_iteration().orders_sent == 0

    def halves_recorded() -> bool:
        one.sync_orders()  # the stream's news may come a moment after the cycle
        return LiveOrder.select().where(LiveOrder.status == "partially_filled").count() == 3

    wait_until(halves_recorded, 30.0, "desk one's half fills recorded")
    one.finish("stopped")  # its orders' rests still working at the broker
    one.broker.close()
    sandbox.admin.set_faults(partial_rate=0.0)
    return two, _held(trading)


def _outside_changes(sandbox: SandboxHandle, two: Any, cycles: int = 4) -> list[Any]:
    """Desk two's ``outside_change`` events over the next bars (the rests fill on the first)."""
    events = []
    for _ in range(cycles):
        sandbox.admin.step()
        report = two.run_iteration()
        events += [e for e in report.risk_events if e.event_type == OUTSIDE_CHANGE]
    return events


def test_a_stopped_desks_late_fill_is_recorded_not_taken_for_a_hand_trade(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """On one SQLite file, and on one PostgreSQL store."""
    two, half = _desk_one_stops_half_filled(sandbox, trading, store)
    try:
        read_before = ended_open_rows(two.account_key, None, "IWM")  # as a third desk would
        events = _outside_changes(sandbox, two)
        full = _held(trading)
        assert all(full[s] > half[s] for s in half), (half, full)
        assert events == [], [e.detail for e in events]
        assert not two.outside.holds, two.outside.holds
        assert LiveOrder.select().where(LiveOrder.status == "filled").count() == 3
        filled = {f.symbol: 0.0 for f in LiveFill.select()}
        for fill in LiveFill.select():
            filled[fill.symbol] += fill.quantity
        assert filled == full  # every share recorded against desk one's own rows, once
        # a desk that read the rows before desk two recorded them finds them taken: no fill
        # of desk one's is recorded twice
        for row in read_before:
            order = two.broker.get_order(row.client_order_id)
            assert order is not None
            assert not take_ended_row(row, order, datetime.now(UTC))
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_hand_trade_beside_a_stopped_desks_late_fill_is_still_left_alone(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    two, _half = _desk_one_stops_half_filled(sandbox, trading, tmp_path / "desk.db")
    try:
        trading.submit_order(
            MarketOrderRequest(symbol="IWM", qty=5, side="buy", time_in_force="day")
        )
        events = _outside_changes(sandbox, two)
        assert [e.symbol for e in events] == ["IWM"], [e.detail for e in events]
        assert events[0].value == 5
        assert "changed outside" in two.outside.holds["IWM"]
        assert LiveOrder.select().where(LiveOrder.status == "filled").count() == 3
    finally:
        two.finish("stopped")
        two.broker.close()
