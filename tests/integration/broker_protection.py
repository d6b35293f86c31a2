"""Helpers for the tests of protective exits held at the sandbox (the real alpaca-py client):
the account's working stops, OCO pairs and sells, the position held, and a session that buys in
a rally and protects what it bought."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import make_fast


def client(sb: Any) -> Any:
    """alpaca-py's trading client on the sandbox (short timeouts, instant retries)."""
    from alpaca.trading.client import TradingClient

    return make_fast(TradingClient(sb.key_id, sb.secret, paper=True, url_override=sb.base_url))


def open_stops(sb: Any) -> list[Any]:
    """The sandbox's working stop orders."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest

    orders = client(sb).get_orders(filter=GetOrdersRequest(status=QueryOrderStatus.OPEN))
    return [o for o in orders if str(getattr(o.order_type, "value", o.order_type)) == "stop"]


def open_pairs(sb: Any) -> list[Any]:
    """The sandbox's working OCO pairs, each with its legs."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest

    wanted = GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True)
    orders = client(sb).get_orders(filter=wanted)
    return [o for o in orders if str(getattr(o.order_class, "value", o.order_class)) == "oco"]


def open_sells(sb: Any) -> list[Any]:
    """The sandbox's working sell orders."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest

    orders = client(sb).get_orders(filter=GetOrdersRequest(status=QueryOrderStatus.OPEN))
    return [o for o in orders if str(getattr(o.side, "value", o.side)) == "sell"]


def spy_held(sb: Any) -> float:
    """Shares of SPY the sandbox account holds."""
    positions = {p.symbol: float(p.qty) for p in client(sb).get_all_positions()}
    return positions.get("SPY", 0.0)


def buy_and_protect(
    sb: Any,
    db: Path,
    *,
    protected: Callable[[Any], list[Any]],
    shock: float,
    **settings: Any,
) -> Any:
    """A trend session on SPY with ``--stop-loss 2`` (and whatever ``settings`` add) that buys
    in a rally of ``shock`` per bar and protects what it bought: returns once the position is
    held and ``protected(sb)`` finds its exit working at the broker (the exit goes out at the
    end of the cycle that sees the fill)."""
    session = alpaca_session(
        sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0), allocation_pct=10.0, **settings
    )
    for _ in range(12):
        sb.admin.step(shock={"SPY": shock})
        session.run_iteration()
        settle(sb, session)
        if spy_held(sb) > 0 and protected(sb):
            return session
    raise AssertionError("the rally did not buy and protect")


def buy_more(sb: Any, session: Any, qty: float) -> None:
    """Buy ``qty`` more SPY by hand (accepted, not rejected) and fill it on the next bar."""
    from tui_trader.core.orders import Side
    from tui_trader.engine.manual_orders import ManualOrder

    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=qty))
    report = session.apply_kill_requests()
    assert report is not None
    assert not [n for n in report.notes if "rejected" in n], report.notes
    sb.admin.step()  # the buy fills on the next bar
    settle(sb, session)


def protected_spy_and_working_qqq_limit(sb: Any, session: Any) -> tuple[Any, str]:
    """Rally SPY until ``session`` (trading SPY and QQQ with a stop loss) holds it under its
    working stop, then place a QQQ limit buy by hand 3% under the market, left working: the
    stop (as the broker lists it) and the limit's client order id."""
    from tests.integration.alpaca_helpers import sandbox_view
    from tui_trader.core.orders import OrderType, Side
    from tui_trader.engine.manual_orders import ManualOrder

    for _ in range(12):  # a rally in SPY alone: the desk buys it and protects it
        sb.admin.step(shock={"SPY": 1.0})
        session.run_iteration()
        settle(sb, session)
        if spy_held(sb) > 0 and open_stops(sb):
            break
    [stop] = open_stops(sb)
    below = round(float(sb.admin.state()["prices"]["QQQ"]) * 0.97, 2)
    session.request_manual_order(
        ManualOrder("QQQ", Side.BUY, qty=1, order_type=OrderType.LIMIT, limit_price=below)
    )
    [limit] = [o.client_order_id for o in session.apply_kill_requests().orders]
    assert sandbox_view(sb)[limit][0], "the limit buy is working"
    return stop, limit
