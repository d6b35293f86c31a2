"""A halt at Alpaca that cancels the desk's own rebalance sell, partly filled, whose cancel
stays pending (Alpaca's 204 is not yet the order's end): no stop goes beside that sell while
it may still fill; once the broker confirms the cancel, the stop comes back for what is left.

The desk holds 20 SPY under a 3% stop; the momentum strategy sells them at market, and the
sandbox fills 10 and leaves the other 10 working (``partial_rate``). The kill switch is pressed
before the next bar, whose cycle takes the halt and cancels the sell, the cancel left
``pending_cancel`` until the sandbox's next bar (``slow_cancel_rate``). Before, that cycle's
exit step sent a stop for the 10 shares held beside the sell (the broker's list of open orders
leaves out the desk's own orders whose cancel is pending, and only sells by hand were held
back): rejected "insufficient qty available" (had it gone out, stop and sell could both have
sold the same shares).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle


def _held(trading: Any) -> dict[str, float]:
    """Shares held at the sandbox, by symbol."""
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}


def _orders(trading: Any, kind: str) -> list[tuple[str, float, float, str]]:
    """The sandbox's orders of one type: side, quantity, filled, status."""
    return [
        (o.side.value, float(o.qty), float(o.filled_qty), o.status.value)
        for o in sandbox_orders(trading)
        if o.order_type.value == kind
    ]


def _selling(sandbox: SandboxHandle, trading: Any, tmp_path: Path) -> Any:
    """A desk that bought 20 SPY under a 3% stop and is selling them at market: 10 sold, 10
    still offered."""
    desk = alpaca_session(
        sandbox,
        tmp_path / "desk.db",
        symbols=("SPY",),
        learning=LearningSettings("momentum"),
        stop_loss=StopRule(pct=3.0),
    )
    for _ in range(12):  # a rally: the strategy buys
        sandbox.admin.step(shock={"SPY": 0.8})
        desk.run_iteration()
        settle(sandbox, desk)
        if _held(trading):
            break
    assert _held(trading) == {"SPY": 20.0}
    sandbox.admin.set_faults(partial_rate=1.0, partial_bars=3)
    sandbox.admin.step(shock={"SPY": -0.6})  # the strategy sells: 10 filled, 10 working
    desk.run_iteration()
    assert _held(trading) == {"SPY": 10.0}
    assert ("sell", 20.0, 10.0, "partially_filled") in _orders(trading, "market")
    return desk


def test_a_halt_sends_no_stop_beside_a_rebalance_sell_whose_cancel_is_pending(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The halt's cycle: no stop beside the sell, SPY said NOT protected; once the broker
    confirms the cancel, the stop is back at the next look for the 10 shares left."""
    desk = _selling(sandbox, trading, tmp_path)
    try:
        sandbox.admin.set_faults(slow_cancel_rate=1.0)  # Alpaca's cancels: pending a while
        desk.request_kill(who="test")
        sandbox.admin.step()
        report = desk.run_iteration()  # the halt cancels the sell: its cancel pending
        assert report is not None and desk.risk.state.halted
        assert ("sell", 20.0, 10.0, "pending_cancel") in _orders(trading, "market")
        said = [e.action_taken for e in report.risk_events if e.event_type == "protective_stop"]
        assert said and all("not confirmed yet" in s for s in said), said
        assert _orders(trading, "stop") == [], "a stop sent beside a sell that may still fill"

        sandbox.admin.clear_faults()
        sandbox.admin.step()  # the broker confirms the cancel
        desk.apply_kill_requests()  # the runner's next look between bars
        assert ("sell", 20.0, 10.0, "canceled") in _orders(trading, "market")
        assert _orders(trading, "stop") == [("sell", 10.0, 0.0, "new")], "what is left"
        assert _held(trading) == {"SPY": 10.0}
    finally:
        desk.broker.close()


def test_a_rebalance_sell_that_fills_before_its_pending_cancel_leaves_no_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Alpaca's race the other way: the sell whose cancel is pending fills its last 10 shares
    first (``slow_cancel_fill_rate``). Nothing is left to protect: no stop goes out (it would
    sell shares the account no longer has) and SPY stays flat, never short."""
    desk = _selling(sandbox, trading, tmp_path)
    try:
        sandbox.admin.set_faults(slow_cancel_rate=1.0, slow_cancel_fill_rate=1.0)
        desk.request_kill(who="test")
        sandbox.admin.step()
        report = desk.run_iteration()  # the halt cancels the sell: its cancel pending
        assert report is not None and desk.risk.state.halted
        assert _orders(trading, "stop") == []
        sandbox.admin.step()  # the sell wins the race: its last 10 shares sold
        assert ("sell", 20.0, 20.0, "filled") in _orders(trading, "market")
        sandbox.admin.clear_faults()
        desk.apply_kill_requests()  # the runner's next look between bars
        sandbox.admin.step()
        desk.run_iteration()  # and the next bar's cycle
        assert _held(trading) == {}
        assert _orders(trading, "stop") == [], "a stop for shares the account no longer has"
        assert not desk.follows_hand
    finally:
        desk.broker.close()
