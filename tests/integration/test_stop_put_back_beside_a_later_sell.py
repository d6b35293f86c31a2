"""An ended desk's stop waiting to go back, found beside a later sell: it goes back once that
sell ends unfilled too, never lost.

A desk that keeps no exits cancels an ended desk's stop before its sell (``exit_dropped``) and
follows the sell: ended unfilled, the stop goes back. A sell by hand priced again (cancel the
limit, send a new one) put a second sell in the symbol before the stop went back: the put-back
found the new sell closing the shares, placed nothing, and forgot the stop. Once the new sell
was cancelled too, the position had no stop, and nothing said so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tui_trader.core.orders import OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle

RALLY = {"SPY": 0.8}


def _stops(trading: Any) -> list[tuple[float, float]]:
    """(quantity, stop price) of each stop working at the sandbox."""
    return [
        (float(o.qty), float(o.stop_price))
        for o in sandbox_orders(trading)
        if o.order_type.value == "stop" and o.status.value in ("new", "accepted", "pending_new")
    ]


def _held(trading: Any) -> float:
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}.get("SPY", 0.0)


def _ended_desks_stop(sandbox: SandboxHandle, db: Path) -> TradingSession:
    """Desk one (a stop loss) buys SPY in a rally and stops, its stop left working; desk two,
    which keeps no exits, runs on the same store and account."""
    one = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=StopRule(3)
    )
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"))
    for _ in range(6):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
        two.run_iteration()
    settle(sandbox, one)
    one.finish("stopped")
    one.broker.close()
    return two


def _limit_sell(desk: TradingSession, sandbox: SandboxHandle, qty: float, price: float) -> str:
    """A sell by hand, a GTC limit far above the market, working; its client id."""
    desk.request_manual_order(
        ManualOrder(
            "SPY",
            Side.SELL,
            qty=qty,
            order_type=OrderType.LIMIT,
            limit_price=price,
            time_in_force=TimeInForce.GTC,
        )
    )
    report = desk.apply_kill_requests()
    assert report is not None
    [sell] = [o for o in report.orders if o.side is Side.SELL and o.status.is_open]
    settle(sandbox, desk)
    return sell.client_order_id


def _cancel(desk: TradingSession, sandbox: SandboxHandle, cid: str) -> None:
    """Cancel a working order by hand, and record its end."""
    desk.request_cancel(cid)
    desk.apply_kill_requests()
    settle(sandbox, desk)


def test_a_stop_waiting_for_a_cancelled_sell_goes_back_once_the_next_sell_is_cancelled(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two sells by hand at a limit (desk one's stop is cancelled first), cancels that
    sell and sends another at a new price; a cycle runs; then it cancels the second sell too.
    Desk one's stop is back for the shares held at its price, once; before, the position was
    left without a stop."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(qty, price)] = _stops(trading)
        held = _held(trading)
        assert qty == held > 0
        market = float(sandbox.admin.state()["prices"]["SPY"])
        first = _limit_sell(two, sandbox, held, round(market * 1.3, 2))
        assert _stops(trading) == [], "desk one's stop is cancelled before the sell"
        _cancel(two, sandbox, first)
        second = _limit_sell(two, sandbox, held, round(market * 1.25, 2))
        sandbox.admin.step()
        two.run_iteration()  # the first sell ended unfilled: its stop waits beside the second
        assert _stops(trading) == [], "a stop beside a sell of the same shares"
        _cancel(two, sandbox, second)
        sandbox.admin.step()
        notes = two.run_iteration().notes
        assert _held(trading) == held
        assert _stops(trading) == [(held, price)], notes
        [said] = [n for n in notes if "placed again" in n]
        assert said.endswith(f"its stop at {price:.2f} placed again"), said
        sandbox.admin.step()
        two.run_iteration()
        assert _stops(trading) == [(held, price)], "a second stop"
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_desk_stopping_beside_the_later_sell_names_the_position_left_without_its_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The same two sells by hand, and desk two stops while the second still works: its end
    says the position has no stop until that sell ends (before, nothing: the stop was
    forgotten), and puts no stop beside the sell."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_qty, price)] = _stops(trading)
        held = _held(trading)
        market = float(sandbox.admin.state()["prices"]["SPY"])
        first = _limit_sell(two, sandbox, held, round(market * 1.3, 2))
        _cancel(two, sandbox, first)
        _limit_sell(two, sandbox, held, round(market * 1.25, 2))
        sandbox.admin.step()
        two.run_iteration()
    finally:
        two.finish("stopped")
        two.broker.close()
    assert _stops(trading) == []
    assert two.stops_left == (
        f"SPY: its stop at {price:.2f} was cancelled for sell {held:g} SPY, still working at "
        f"the broker: the position has no stop until that sell ends; this desk is stopping",
    )
