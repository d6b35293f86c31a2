"""Two desks on one Alpaca account and an ended desk's protective stop, for the put-back tests.

Desk one (a 3% stop loss) buys SPY in a rally and stops, its stop left working at the broker;
desk two, which keeps no exits, trades SPY on the same store and account. Its sells by hand
cancel desk one's stop first, and the stop must go back whenever such a sell does not go out
(``engine/stop_release.py``, ``engine/put_back_waits.py``). One copy of that set-up and of the
hand orders and readings the tests share (it was written again in each test file).
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
"""The shock per bar that makes the momentum strategy buy SPY."""
RULE = StopRule(pct=3.0)
"""Desk one's stop loss."""


def ended_desks_stop(sandbox: SandboxHandle, db: Path, **two: Any) -> TradingSession:
    """Desk one buys SPY in a rally and stops without flattening, its stop left working; desk
    two (``alpaca_session`` options ``two``: a settle window, limits), which keeps no exits,
    runs beside it on the same store and account, and is returned."""
    one = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=RULE
    )
    desk = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"), **two
    )
    for _ in range(6):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
        desk.run_iteration()
    settle(sandbox, one)
    one.finish("stopped")
    one.broker.close()
    return desk


def ended_desk_alone(sandbox: SandboxHandle, db: Path | Any) -> None:
    """Desk one alone (``db``: a SQLite file or a PostgreSQL URL) buys SPY in a rally and
    stops without flattening, its stop left working at the broker for the next desk to meet."""
    one = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=RULE
    )
    for _ in range(6):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
    settle(sandbox, one)
    one.finish("stopped")
    one.broker.close()


def working_stops(trading: Any) -> list[tuple[float, float]]:
    """(quantity, stop price) of each stop working at the sandbox."""
    return [
        (float(o.qty), float(o.stop_price))
        for o in sandbox_orders(trading)
        if o.order_type.value == "stop" and o.status.value in ("new", "accepted", "pending_new")
    ]


def spy_held(trading: Any) -> float:
    """SPY shares the account holds at the sandbox."""
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}.get("SPY", 0.0)


def limit_sell(desk: TradingSession, sandbox: SandboxHandle, qty: float, price: float) -> str:
    """A sell by hand, a GTC limit at ``price``, working; its client id."""
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
    # the look reports the news it heard of the desk's other orders first (an earlier sell by
    # hand now accepted: ``BetweenBars._closes_heard``), then the orders it sent
    *_, sell = [o for o in report.orders if o.side is Side.SELL and o.status.is_open]
    assert sell.qty == qty and sell.limit_price == price
    settle(sandbox, desk)
    return sell.client_order_id


def cancel(desk: TradingSession, sandbox: SandboxHandle, cid: str) -> None:
    """Cancel a working order by hand, and record its end."""
    desk.request_cancel(cid)
    desk.apply_kill_requests()
    settle(sandbox, desk)
