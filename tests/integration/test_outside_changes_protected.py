"""Positions changed outside a session that keeps protective stops (``--stop-loss``), on the
sandbox through the real alpaca-py client.

A protected symbol always has a stop of ours working at the broker. Before, that kept it from
ever being checked: after "the user" cancelled the stop and traded by hand in the dashboard, the
desk placed a stop for the whole new position (hand shares included) and rebalanced the
difference back. Now the resting stop does not stop the check: the change is said once, the
symbol is left alone, and its stop covers only the shares the desk's own fills account for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alpaca.trading.requests import MarketOrderRequest

from tests.integration.alpaca_helpers import settle
from tests.integration.broker_protection import buy_and_protect, client, open_stops, spy_held
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE
from tui_trader.sandbox.testing import running_sandbox, wait_until
from tui_trader.store.models import LiveOrder, RiskEventRow


def _protected_session(sb: Any, db: Path) -> Any:
    """A ``--stop-loss 2`` session on SPY that has bought in a rally and placed its stop. The
    rate limits are lifted (the sandbox's and the desk's own budget): the test's own requests
    share the key with the session, and only the time would change."""
    sb.admin.set_faults(rate_limit=0)
    fast = {"requests_per_minute": 60_000.0}
    return buy_and_protect(sb, db, protected=open_stops, shock=1.0, **fast)


def _by_hand(sb: object, side: str, qty: int) -> None:
    """The user cancels the desk's stop in the dashboard, then trades SPY by hand."""
    trading = client(sb)
    for stop in open_stops(sb):
        trading.cancel_order_by_id(stop.id)
    wait_until(lambda: open_stops(sb) == [], what="the stop cancelled by hand")
    trading.submit_order(MarketOrderRequest(symbol="SPY", qty=qty, side=side, time_in_force="day"))


def _desk_orders_after(first_id: int, side: str) -> list[LiveOrder]:
    """The desk's market orders in SPY on ``side`` written after row ``first_id``."""
    return list(
        LiveOrder.select().where(
            (LiveOrder.id > first_id)
            & (LiveOrder.symbol == "SPY")
            & (LiveOrder.side == side)
            & (LiveOrder.order_type == "market")
        )
    )


def _run(sb: object, session: object, cycles: int, shock: float) -> list[str]:
    """Cycles on a rising market (the strategy stays long); their notes."""
    notes: list[str] = []
    for _ in range(cycles):
        sb.admin.step(shock={"SPY": shock})  # type: ignore[attr-defined]
        report = session.run_iteration()  # type: ignore[attr-defined]
        settle(sb, session)  # type: ignore[arg-type]
        if report is not None:
            notes += report.notes
    return notes


def test_shares_sold_by_hand_in_a_protected_symbol_are_not_bought_back(tmp_path: Path) -> None:
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = _protected_session(sb, tmp_path / "s.db")
        try:
            own = spy_held(sb)
            assert own > 5
            last = LiveOrder.select().order_by(LiveOrder.id.desc()).get().id
            _by_hand(sb, "sell", 5)
            notes = _run(sb, session, 3, 1.0)
            assert spy_held(sb) == own - 5
            assert _desk_orders_after(last, "buy") == [], "the desk bought the shares back"
            [event] = RiskEventRow.select().where(RiskEventRow.event_type == OUTSIDE_CHANGE)
            assert event.symbol == "SPY" and event.value == -5
            assert f"the broker holds {own - 5:g}" in event.detail
            assert f"account for {own:g}" in event.detail
            assert "its protective exit covers only" in event.action_taken
            assert any("SPY changed outside this session" in n for n in notes), notes
            [stop] = open_stops(sb)  # never for more shares than are held
            assert float(stop.qty) == own - 5
        finally:
            session.broker.close()


def test_shares_bought_by_hand_in_a_protected_symbol_get_no_stop_and_no_sell(
    tmp_path: Path,
) -> None:
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = _protected_session(sb, tmp_path / "b.db")
        try:
            own = spy_held(sb)
            last = LiveOrder.select().order_by(LiveOrder.id.desc()).get().id
            _by_hand(sb, "buy", 40)
            _run(sb, session, 3, 1.0)
            assert spy_held(sb) == own + 40
            assert _desk_orders_after(last, "sell") == [], "the desk sold the hand's shares"
            [event] = RiskEventRow.select().where(RiskEventRow.event_type == OUTSIDE_CHANGE)
            assert event.value == 40
            [stop] = open_stops(sb)  # the desk's own shares stay protected, and only those
            assert float(stop.qty) == own
            row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
            assert f"not the {own + 40:g} held (changed outside the session)" in row.rationale
        finally:
            session.broker.close()


def test_a_position_the_desk_never_bought_gets_no_stop_of_ours(tmp_path: Path) -> None:
    """QQQ bought by hand before the desk ever traded the account: a ``--stop-loss`` session on
    SPY used to place a stop on it too (and so could sell shares it never bought); now it says
    the shares are not the desk's and leaves them without a stop of ours."""
    from tests.integration.alpaca_helpers import alpaca_session
    from tui_trader.risk.stops import StopRule

    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        trading = client(sb)
        trading.submit_order(
            MarketOrderRequest(symbol="QQQ", qty=7, side="buy", time_in_force="day")
        )
        sb.admin.step()
        wait_until(lambda: bool(trading.get_all_positions()), what="the hand's QQQ")
        stop = StopRule(pct=2.0)
        session = alpaca_session(sb, tmp_path / "q.db", symbols=("SPY",), stop_loss=stop)
        try:
            assert [o for o in open_stops(sb) if o.symbol == "QQQ"] == []
            [event] = [e for e in session.startup_events if e.event_type == OUTSIDE_CHANGE]
            assert (event.symbol, event.value) == ("QQQ", 7)
            assert "no earlier session on this account" in event.detail
        finally:
            session.broker.close()
