"""A "reduced by the position limit" event is recorded only with an order that went out.

The gate cuts an order to the room the position limit leaves and says so in a
``position_size_limit`` event. That event was recorded as soon as the gate passed the order,
even when the order was then not sent (its slot refused, its claim lost, the cancel of a
protective exit in its symbol not confirmed yet): the audit trail said an order was reduced
that never existed. It is now recorded with the order, when the order goes out.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BuyAndHold, make_session
from tests.integration.broker_protection import buy_and_protect, open_stops
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import MANUAL_REFUSED, ManualOrder
from tui_trader.risk.gate import POSITION_SIZE, RiskLimits
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.models import LiveOrder, RiskEventRow


def _events(kind: str) -> list[str]:
    """The recorded risk events of one type: what each says was done."""
    rows = RiskEventRow.select().where(RiskEventRow.event_type == kind)
    return [row.action_taken for row in rows.order_by(RiskEventRow.id)]


def test_a_reduced_buy_that_waits_for_its_stops_cancel_records_no_reduction(
    tmp_path: Path,
) -> None:
    """A protected long with room under a 20% position limit; a buy by hand of far more is cut
    to the room, then waits: the cancel of the position's stop is not confirmed (Alpaca
    answered 204 and the stop keeps working). Not sent, so no reduction is recorded; the
    refusal says why. Once the cancel goes through, the buy goes out reduced, and its event
    is recorded then."""
    limits = RiskLimits(max_position_pct=20.0)
    with running_sandbox() as sb:
        session = buy_and_protect(
            sb, tmp_path / "r.db", protected=open_stops, shock=1.0, limits=limits
        )
        try:
            orders_before = LiveOrder.select().count()
            cancel = session.broker.client.cancel_order_by_id
            session.broker.client.cancel_order_by_id = lambda order_id: None  # 204, not cancelled
            session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=100_000))
            assert session.apply_kill_requests() is not None
            assert LiveOrder.select().count() == orders_before, "the buy went out"
            assert any("not confirmed" in said for said in _events(MANUAL_REFUSED))
            assert _events(POSITION_SIZE) == [], "a reduction recorded for an order not sent"
            session.broker.client.cancel_order_by_id = cancel
            session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=100_000))
            report = session.apply_kill_requests()
            assert report is not None
            # one buy sent; the report also carries its fill, looked up between bars to put the
            # stop back at once (``engine.hand_exits``): the same order twice, by client id once
            buys = {o.client_order_id: o for o in report.orders if o.side is Side.BUY}
            [reduced] = buys.values()
            said = _events(POSITION_SIZE)
            assert len(said) == 1 and f"to {reduced.qty:g} by the position limit" in said[0], said
        finally:
            session.broker.close()


def test_a_strategys_reduced_buy_that_waits_records_no_reduction(db_path: Path) -> None:
    """The strategies' path: a buy of half the account cut to the 5% position limit, held
    back by its symbol's exit whose cancel is not confirmed yet (stood in for by the release's
    answer), is not sent and records no reduction; the next cycle sends it and records one."""
    limits = RiskLimits(max_position_pct=5.0)
    strategies = [BuyAndHold()]
    session = make_session(
        db_path, strategies=strategies, symbols=("SPY",), limits=limits, allocation_pct=50.0
    )
    release = session._release_stops
    session._release_stops = lambda symbol, side: "its exit's cancel is not confirmed yet"  # type: ignore[method-assign]
    report = session.run_iteration()
    assert report is not None and report.orders == ()
    assert _events(POSITION_SIZE) == [], "a reduction recorded for an order not sent"
    session._release_stops = release  # type: ignore[method-assign]
    [order] = session.run_iteration().orders
    said = _events(POSITION_SIZE)
    assert len(said) == 1 and f"to {order.qty:g} by the position limit" in said[0], said
