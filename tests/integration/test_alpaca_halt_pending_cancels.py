"""A halt at Alpaca whose cancels of sells by hand stay pending (Alpaca's 204 is not yet the
order's end): every position's stop comes back at the first look after the broker confirms
the cancels, not one position a look.

The desk holds SPY, QQQ and IWM under a 3% stop; half of each is offered by hand far above
the market, so each stop was cancelled first (Alpaca holds the stop's shares). ctrl+k cancels
the three sells, and the sandbox leaves each ``pending_cancel`` until its next bar
(``slow_cancel_rate``). While a sell may still fill, no stop goes beside it (it could sell the
same shares twice, and Alpaca refuses it); once confirmed, the stops go back together. Before,
the desk asked one order a look (every 2 s): the last of N positions was without its stop
about 2·N s after the halt, exactly when a drawdown halt says the market moves badly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tui_trader.core.orders import OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle

SYMBOLS = ("IWM", "QQQ", "SPY")
RALLY = dict.fromkeys(SYMBOLS, 0.8)
"""The shock per bar that makes the momentum strategy buy every symbol."""


def _stops(trading: Any) -> dict[str, float]:
    """Shares each working stop at the sandbox covers, by symbol."""
    return {
        o.symbol: float(o.qty)
        for o in sandbox_orders(trading)
        if o.order_type.value == "stop" and o.status.value in ("new", "accepted", "pending_new")
    }


def _held(trading: Any) -> dict[str, float]:
    """Shares held at the sandbox, by symbol."""
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}


def _order_reads(desk: Any, monkeypatch: Any) -> list[str]:
    """The desk's order look-ups at the broker from now on (listings and single orders)."""
    reads: list[str] = []
    client = desk.broker.client
    for name in ("get_orders", "get_order_by_client_id"):
        call = getattr(client, name)

        def counted(*args: Any, _call: Any = call, _name: str = name, **kwargs: Any) -> Any:
            reads.append(_name)
            return _call(*args, **kwargs)

        monkeypatch.setattr(client, name, counted)
    return reads


def _sells_beside_stops(sandbox: SandboxHandle, trading: Any, tmp_path: Path) -> tuple[Any, dict]:
    """A desk holding SPY, QQQ and IWM under their stops, half of each offered by hand far
    above the market (the stops cancelled for those sells); the desk and what it holds."""
    desk = alpaca_session(
        sandbox,
        tmp_path / "desk.db",
        symbols=SYMBOLS,
        learning=LearningSettings("momentum"),
        stop_loss=StopRule(pct=3.0),
    )
    for _ in range(12):
        sandbox.admin.step(shock=RALLY)
        desk.run_iteration()
        settle(sandbox, desk)
        held = _held(trading)
        if sorted(held) == list(SYMBOLS) and _stops(trading) == held:
            break
    assert sorted(held) == list(SYMBOLS) and _stops(trading) == held
    prices = sandbox.admin.state()["prices"]
    for symbol, qty in held.items():
        desk.request_manual_order(
            ManualOrder(
                symbol,
                Side.SELL,
                qty=float(int(qty // 2)),
                order_type=OrderType.LIMIT,
                limit_price=round(float(prices[symbol]) * 1.5, 2),
                time_in_force=TimeInForce.GTC,
            )
        )
    desk.apply_kill_requests()
    assert _stops(trading) == {}  # the three sells work, their stops cancelled first
    return desk, held


def _all_back_at_one_look(
    sandbox: SandboxHandle, trading: Any, desk: Any, held: dict, monkeypatch: Any
) -> None:
    """The broker confirms the pending cancels (its next bar); the desk's next look between
    bars puts every stop back for the whole position, with one order read for them all."""
    sandbox.admin.clear_faults()
    sandbox.admin.step()  # the broker confirms the three cancels
    reads = _order_reads(desk, monkeypatch)
    looked = desk.apply_kill_requests()  # the runner's next look, no bar's cycle
    assert _stops(trading) == held, "a stop left for a later look"
    assert looked is not None
    placed = [n.split(":")[0] for n in looked.notes if "protective exit placed" in n]
    assert sorted(placed) == list(SYMBOLS), looked.notes
    assert len(reads) <= 2, f"{reads}: one order read a position"
    assert not desk.follows_hand
    assert _held(trading) == held  # nothing sold: the halt cancelled every sell


def test_stops_freed_by_a_halt_come_back_together_once_its_cancels_are_confirmed(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """ctrl+k between bars with the broker's cancels of the three sells pending: no stop goes
    back while the sells may still fill (the halt's pass, a look); once the broker confirms
    the cancels, the desk's next look puts all three stops back, each for the whole
    position, with one order read for the three, not one a look."""
    desk, held = _sells_beside_stops(sandbox, trading, tmp_path)
    try:
        sandbox.admin.set_faults(slow_cancel_rate=1.0)  # Alpaca's cancels: pending a while
        desk.request_kill(who="test")
        report = desk.apply_kill_requests()
        assert report is not None and desk.risk.state.halted
        assert _stops(trading) == {}, "a stop beside a sell whose cancel is still pending"
        assert desk.apply_kill_requests() is None  # a look: still pending, nothing placed
        assert _stops(trading) == {} and desk.follows_hand
        _all_back_at_one_look(sandbox, trading, desk, held, monkeypatch)
    finally:
        desk.broker.close()


def test_a_halt_in_the_bars_cycle_sends_no_stop_beside_a_pending_cancel(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """The halt taken by a bar's cycle (as a drawdown or daily-loss halt is; here the kill
    switch pressed just before the bar), the broker's cancels of the three sells pending:
    the cycle's exit step sends no stop beside them and says each position is NOT protected
    until the broker confirms; then all three come back at one look. Before, that step sent a
    stop for each whole position, all three rejected ("insufficient qty available": the
    pending sell still holds its shares), and after the confirmations they came back one a
    look."""
    desk, held = _sells_beside_stops(sandbox, trading, tmp_path)
    try:
        sandbox.admin.set_faults(slow_cancel_rate=1.0)
        desk.request_kill(who="test")
        sandbox.admin.step()
        report = desk.run_iteration()
        assert report is not None and desk.risk.state.halted
        said = [e.action_taken for e in report.risk_events if e.event_type == "protective_stop"]
        assert len(said) == 3 and all("not confirmed yet" in s for s in said), said
        stops = [o for o in sandbox_orders(trading) if o.order_type.value == "stop"]
        assert [o for o in stops if o.status.value == "rejected"] == []
        assert _stops(trading) == {}
        _all_back_at_one_look(sandbox, trading, desk, held, monkeypatch)
    finally:
        desk.broker.close()


def test_a_pending_cancel_the_one_read_did_not_show_still_holds_its_stop_back(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """The one read of the pending cancels (``GET /v2/orders``, one page of the newest 500 in
    those symbols) does not show the three sells (a busy account: more orders since), and the
    broker has still not confirmed the cancels at the next bar: that bar's cycle sends no stop
    beside them, and says each position NOT protected. Before, a sell the read did not show
    was no longer counted as pending: the cycle sent a stop for each whole position beside
    it, all three rejected ("insufficient qty available"). Once the broker confirms, each
    comes back as it is asked alone (a look each), for the whole position."""
    desk, held = _sells_beside_stops(sandbox, trading, tmp_path)
    try:
        sandbox.admin.set_faults(slow_cancel_rate=1.0)
        desk.request_kill(who="test")
        assert desk.apply_kill_requests() is not None and desk.risk.state.halted
        monkeypatch.setattr(desk.broker, "look_up_many", lambda ids: {})  # not on the page
        desk.apply_kill_requests()  # a look between bars
        engine = sandbox.sandbox.engine  # the broker confirms the cancels a bar later still
        monkeypatch.setattr(engine, "_slow_cancels_done", lambda now: None)
        sandbox.admin.step()
        report = desk.run_iteration()
        assert report is not None
        stops = [o for o in sandbox_orders(trading) if o.order_type.value == "stop"]
        assert [o.symbol for o in stops if o.status.value == "rejected"] == []
        assert _stops(trading) == {}, "a stop beside a sell whose cancel is still pending"
        said = [e.action_taken for e in report.risk_events if e.event_type == "protective_stop"]
        assert len(said) == 3 and all("not confirmed yet" in s for s in said), said
        monkeypatch.delattr(engine, "_slow_cancels_done")  # the broker confirms at last
        sandbox.admin.clear_faults()
        sandbox.admin.step()
        desk.run_iteration()
        for _ in range(3):  # asked alone, one a look
            desk.apply_kill_requests()
        assert _stops(trading) == held
        assert _held(trading) == held  # nothing sold: the halt cancelled every sell
    finally:
        desk.broker.close()
