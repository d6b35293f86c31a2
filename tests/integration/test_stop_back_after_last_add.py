"""A desk with ``--stop-loss`` stopped right after its last cycle's buy filled leaves the
position with its stop at the broker.

Before a buy in a protected symbol the desk cancels the symbol's stop (Alpaca refuses a buy
beside the account's own sell stop as a wash trade), and the end of a later cycle places the
stop again for the whole position, once the buy filled. A desk stopped (Ctrl+C, ctrl+s) between
that buy's fill and its next cycle used to end there: every protective stop ``canceled`` in the
store, the position left at the broker without one until a desk started again (overnight,
maybe), and the end said only "no exit at the broker: none". Now the finish places the stop
for the position, as the next cycle would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import buy_and_protect, open_stops
from tests.integration.test_stop_put_back import _held, _stops
from tests.integration.test_stop_put_back_at_finish import LEFT, _said
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.risk.limits import RiskLimits
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder


def _desk_that_buys_back(
    sandbox: SandboxHandle, trading: Any, db: Path
) -> tuple[TradingSession, float]:
    """A trend desk on SPY with a 2% stop loss that bought in a rally (its stop working), sold
    30 shares by hand, and whose next cycle buys them back: the stop is cancelled before that
    buy, and the buy is still working as the cycle ends. The desk, and the buy's quantity."""
    desk = alpaca_session(
        sandbox,
        db,
        symbols=("SPY",),
        stop_loss=StopRule(pct=2.0),
        allocation_pct=40.0,
        limits=RiskLimits(max_position_pct=50.0),
    )
    for _ in range(12):
        sandbox.admin.step(shock={"SPY": 1.0})
        desk.run_iteration()
        settle(sandbox, desk)
        if _held(trading) > 0 and _stops(trading):
            break
    desk.request_manual_order(ManualOrder("SPY", Side.SELL, qty=30))
    assert desk.apply_kill_requests() is not None
    sandbox.admin.step(shock={"SPY": 1.0})  # the hand sell fills; the trend still wants SPY
    report = desk.run_iteration()
    assert report is not None
    buys = [o for o in report.orders if o.symbol == "SPY" and o.side is Side.BUY]
    assert len(buys) == 1 and buys[0].status.is_open, report.orders
    assert _stops(trading) == [], "the stop is cancelled before the buy"
    return desk, buys[0].qty


def test_a_desk_stopped_after_its_last_buy_filled_leaves_the_position_stopped(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The buy fills before the desk's next cycle; the desk stops. The position has its stop
    at the broker, for every share held, recorded in the store, and nothing is said left
    down."""
    desk, _bought = _desk_that_buys_back(sandbox, trading, tmp_path / "desk.db")
    try:
        sandbox.admin.step()  # the buy fills
        settle(sandbox, desk)
        held = _held(trading)
        assert held > 50 and _stops(trading) == []
        desk.finish("stopped")
        stops = _stops(trading)
        assert len(stops) == 1, "the position was left without its stop at the broker"
        [(cid, qty, price)] = stops
        assert qty == held
        last = float(sandbox.admin.state()["prices"]["SPY"])
        assert price < last, "a sell stop under the market"
        assert LiveOrder.get(LiveOrder.client_order_id == cid).status in ("pending_new", "new")
        assert desk.stops_left == () and _said(LEFT) == []
    finally:
        desk.broker.close()


def test_a_desk_stopped_while_its_last_buy_works_says_why_the_position_has_no_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The buy still works as the desk stops: no stop beside it (Alpaca would refuse it as a
    wash trade), and the end says so for the shares held, not "none"."""
    desk, bought = _desk_that_buys_back(sandbox, trading, tmp_path / "desk.db")
    try:
        held = _held(trading)
        desk.finish("stopped")
        assert _stops(trading) == []
        assert _said(LEFT) == [
            f"SPY: {held:g} of the {held:g} shares held have no exit at the broker: buy "
            f"{bought:g} SPY still working at the broker: an exit beside it would "
            "be refused as a wash trade, so it goes out once that order fills, by the next "
            "desk that keeps exits; this desk is stopping"
        ]
    finally:
        desk.broker.close()


def test_a_desk_stopping_while_the_broker_is_silent_reads_its_positions_once(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk holds SPY under its stop; the broker stops answering; the desk stops. Bringing
    the exits in step finds the broker silent, and the end does not wait out the same silence
    again to name the positions: one read of the positions, and the end says plainly that
    they could not be checked, because the broker did not answer."""
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    reads: list[str] = []
    positions = desk.broker.positions

    def counted() -> Any:
        reads.append("positions")
        return positions()

    monkeypatch.setattr(desk.broker, "positions", counted)
    sandbox.admin.set_faults(hang_rate=1)
    try:
        desk.finish("stopped")
    finally:
        sandbox.admin.clear_faults()
        desk.broker.close()
    assert reads == ["positions"]
    [line] = desk.stops_left
    assert line.startswith("the positions could not be checked for their exits (the broker ")
    assert line.endswith("; this desk is stopping")
    assert _said(LEFT) == [line]
