"""A desk killed (or stopped without flattening) leaves its GTC stops holding its shares; the desk
that takes its symbols over takes the stops over too (``engine.stop_takeover``).

Before, desk two on the same store and account took the symbols over once desk one was not
alive, but not the stops: its sells were refused by Alpaca ("insufficient qty available", the
stop held the shares), and keeping exits of its own it placed second stops, refused the same
way ("SPY is NOT protected" every cycle), for it could neither resize nor cancel an order its
broker had not sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveFill, LiveOrder, RiskEventRow
from tui_trader.store.pg_url import PgUrl

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}
SLIDE = {"SPY": -0.6, "QQQ": -0.6, "IWM": -0.6}
"""Enough bars of it turn the momentum desk's targets to nothing: it sells what it holds."""
RULE = StopRule(pct=3.0)


def _held(trading: Any) -> dict[str, float]:
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}


def _working_stops(trading: Any) -> dict[str, tuple[str, float]]:
    """Symbol -> (client order id, quantity) of each stop working at the sandbox."""
    out: dict[str, tuple[str, float]] = {}
    for o in sandbox_orders(trading):
        if o.order_type.value == "stop" and o.status.value in ("new", "accepted", "pending_new"):
            assert o.symbol not in out, f"two stops for {o.symbol}"
            out[o.symbol] = (o.client_order_id, float(o.qty))
    return out


def _desk_one_buys(sandbox: SandboxHandle, one: TradingSession, two: TradingSession) -> None:
    """The rally: desk one (first each bar) buys all three symbols and places its stops."""
    for _ in range(6):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
        two.run_iteration()


def _slide(sandbox: SandboxHandle, desk: TradingSession, trading: Any) -> list[str]:
    """Bars of a slide until ``desk`` holds nothing (at most 14); its notes."""
    notes: list[str] = []
    for _ in range(14):
        sandbox.admin.step(shock=SLIDE)
        notes += desk.run_iteration().notes
        if not _held(trading):
            break
    return notes


def _rejected() -> list[str]:
    rows = LiveOrder.select().where(LiveOrder.status == "rejected")
    return [f"{r.client_order_id}: {r.error}" for r in rows]


def _events(desk: TradingSession, kind: str) -> list[RiskEventRow]:
    mine = RiskEventRow.session == desk.audit.session.id
    return list(RiskEventRow.select().where(mine & (RiskEventRow.event_type == kind)))


def test_a_killed_desks_stops_are_taken_over_by_the_desk_with_exits(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """On one SQLite file, and on one PostgreSQL store. Desk two keeps the very stops desk one
    left (one per position, its rows now desk two's and saying from whom), places no second
    one, and its sells go out without a refusal."""
    one = alpaca_session(sandbox, store, learning=LearningSettings("momentum"), stop_loss=RULE)
    two = alpaca_session(sandbox, store, learning=LearningSettings("momentum"), stop_loss=RULE)
    try:
        _desk_one_buys(sandbox, one, two)
        held = _held(trading)
        assert sorted(held) == ["IWM", "QQQ", "SPY"]
        left = _working_stops(trading)
        assert {s: qty for s, (_, qty) in left.items()} == held
        simulate_death(one)  # killed: its row still says running, its heartbeat stopped
        one.broker.close()
        sandbox.admin.step()
        report = two.run_iteration()
        assert _working_stops(trading) == left, "the stops desk one left, and no second one"
        assert not [e for e in report.risk_events if e.event_type == "protective_stop"]
        assert len(_events(two, "exit_taken_over")) == 3
        came = one.audit.session.key.split("_")[0]
        for cid, _ in left.values():
            row = LiveOrder.get(LiveOrder.client_order_id == cid)
            assert row.session_id == two.audit.session.id
            assert f"taken over from session {came}" in row.rationale
        _slide(sandbox, two, trading)
        assert _held(trading) == {} and _working_stops(trading) == {}
        assert _rejected() == []
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_desk_without_exits_cancels_a_stopped_desks_stop_before_selling(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two keeps no exits. Desk one stopped without flattening; once desk two's strategy
    sells, it cancels desk one's stop first (said once, in plain words, and audited), then
    sells: no order refused, no position left with a stop nobody decided to drop."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, learning=LearningSettings("momentum"), stop_loss=RULE)
    two = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    try:
        _desk_one_buys(sandbox, one, two)
        left = _working_stops(trading)
        assert sorted(left) == ["IWM", "QQQ", "SPY"]
        one.finish("stopped")
        one.broker.close()
        notes = _slide(sandbox, two, trading)
        assert _held(trading) == {} and _working_stops(trading) == {}
        assert _rejected() == []
        for symbol, (cid, _) in left.items():
            [line] = [n for n in notes if cid in n]
            assert line.startswith(f"{symbol}: cancelled the protective exit {cid}")
            assert "this desk keeps no exits" in line
            row = LiveOrder.get(LiveOrder.client_order_id == cid)
            assert row.status == "canceled" and "before its sell" in row.error
        dropped = {e.symbol: e.value for e in _events(two, "exit_dropped")}
        assert dropped == {s: qty for s, (_, qty) in left.items()}, "the shares each protected"
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_taken_over_stop_that_fills_is_recorded_once_by_the_desk_that_keeps_it(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk one was killed; desk two took its stops over; the market falls through them. Each
    stop's fill is recorded once, by desk two, against the stop's own row (now desk two's),
    and desk two's record of the account agrees with the broker: nothing is called a change
    made outside the session."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, learning=LearningSettings("momentum"), stop_loss=RULE)
    two = alpaca_session(sandbox, db, learning=LearningSettings("momentum"), stop_loss=RULE)
    try:
        _desk_one_buys(sandbox, one, two)
        left = _working_stops(trading)
        simulate_death(one)
        one.broker.close()
        sandbox.admin.step()
        two.run_iteration()
        sandbox.admin.step(shock={"SPY": -12.0, "QQQ": -12.0, "IWM": -12.0})
        sandbox.admin.step()  # the stops trigger and fill at the sandbox
        assert _held(trading) == {}
        for _ in range(2):
            two.run_iteration()
            sandbox.admin.step()
        settle(sandbox, two)
        for cid, qty in left.values():
            row = LiveOrder.get(LiveOrder.client_order_id == cid)
            assert (row.status, row.filled_qty, row.session_id) == (
                "filled",
                qty,
                two.audit.session.id,
            )
            fills = LiveFill.select().join(LiveOrder).where(LiveOrder.client_order_id == cid)
            assert [(f.quantity, f.session_id) for f in fills] == [(qty, two.audit.session.id)]
        assert _events(two, "outside_change") == []
        assert _rejected() == []
    finally:
        two.finish("stopped")
        two.broker.close()


def test_an_exit_no_session_of_this_store_placed_is_left_alone(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A desk on another database (here: its stop, placed by hand with a desk's id) protects
    10 QQQ of the account. This desk, with exits, neither cancels nor resizes that stop, sends
    no order in QQQ (a second stop or a sell would be refused), and says so once."""
    from alpaca.trading.enums import OrderSide
    from alpaca.trading.requests import StopOrderRequest

    from tests.integration.sandbox_requests import market

    trading.submit_order(market("QQQ", 10, OrderSide.BUY))
    sandbox.admin.step()
    price = float(sandbox.admin.state()["prices"]["QQQ"])
    foreign = "tt-0badc0de_f00f00-1-QQQ-ps1"
    trading.submit_order(
        StopOrderRequest(
            symbol="QQQ",
            qty=10,
            side=OrderSide.SELL,
            time_in_force="gtc",
            stop_price=round(price * 0.9, 2),
            client_order_id=foreign,
        )
    )
    desk = alpaca_session(
        sandbox, tmp_path / "desk.db", learning=LearningSettings("momentum"), stop_loss=RULE
    )
    try:
        notes: list[str] = []
        for shock in (None, RALLY, RALLY, RALLY, SLIDE, SLIDE):
            sandbox.admin.step(shock=shock)
            notes += desk.run_iteration().notes
        assert _working_stops(trading)["QQQ"] == (foreign, 10.0)
        assert LiveOrder.select().where(LiveOrder.symbol == "QQQ").count() == 0
        said = [n for n in notes if foreign in n]
        assert said == [
            f"QQQ: a protective exit {foreign} that no session of this store sent works at the "
            "broker (another database's desk, or another program): this desk leaves it alone "
            "and places no exit of its own beside it"
        ]
    finally:
        desk.finish("stopped")
        desk.broker.close()
