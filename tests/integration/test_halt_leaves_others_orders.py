"""A halt cancels the desk's own working orders on the account, not every order on it.

Alpaca's account is shared: the user's own orders (placed in Alpaca's dashboard or by another
program) and other desks' protective exits work on it beside this session's orders. Before, a
halt of a session without protective exits sent Alpaca's "cancel all orders" (one DELETE): the
kill switch also cancelled a stop-loss the user had placed by hand, and the stop another desk
keeps under its position, leaving both positions unprotected. Now a halt cancels the desk's
orders (every session's, the client order id says whose), keeps every protective exit, leaves
orders placed outside tui-trader working and says so. Flattening still cancels everything
(its closing sells need the shares those orders hold). A desk on the same account writing to
another database does not share this halt: its orders are left working too (before, they were
cancelled, and that desk sent them again at its next cycle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alpaca.trading.requests import LimitOrderRequest

from tests.integration.alpaca_helpers import alpaca_session, kill_between_bars
from tests.integration.broker_protection import buy_and_protect, client, open_stops
from tui_trader.core.order_ids import make_order_id
from tui_trader.risk.merge import HALT_ADOPTED
from tui_trader.sandbox.testing import running_sandbox

RALLY = {"SPY": 1.0, "QQQ": 1.0, "IWM": 1.0}


def _status(trading: Any, client_order_id: str) -> str:
    """The sandbox's status of one order, by its client id."""
    order = trading.get_order_by_client_id(client_order_id)
    return str(getattr(order.status, "value", order.status))


def _open_at_sandbox(trading: Any) -> list[str]:
    """The client ids of the sandbox's working orders."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest

    listed = trading.get_orders(filter=GetOrdersRequest(status=QueryOrderStatus.OPEN))
    return [str(o.client_order_id) for o in listed]


def _far_limit_buy(trading: Any, symbol: str, client_order_id: str) -> None:
    """A GTC buy of 1 ``symbol`` at $1, far below the market: it stays working, placed
    straight at the broker under ``client_order_id`` (by hand, or by another program)."""
    trading.submit_order(
        LimitOrderRequest(
            symbol=symbol,
            qty=1,
            side="buy",
            time_in_force="gtc",
            limit_price=1.0,
            client_order_id=client_order_id,
        )
    )


def test_a_kill_leaves_the_users_own_orders_working_and_says_so(tmp_path: Path) -> None:
    """The session's half-filled orders are cancelled; the user's hand-placed limit buys keep
    working, and the halt's event says what was left."""
    with running_sandbox(faults="partial_rate=1.0") as sb:
        trading = client(sb)
        session = alpaca_session(sb, tmp_path / "k.db", symbols=("SPY",))
        try:
            for symbol in ("QQQ", "IWM"):  # the user's own buy-the-dip limits, far below
                _far_limit_buy(trading, symbol, f"my-dip-{symbol}")
            for _ in range(6):  # the rally: the session's buys fill half at a time
                sb.admin.step(shock=RALLY)
                session.run_iteration()
                own = [o for o in _open_at_sandbox(trading) if o.startswith("tt-")]
                if own:
                    break
            assert own, "the session has working orders of its own"
            event = kill_between_bars(session)
            for order_id in own:
                assert _status(trading, order_id) == "canceled"
            for symbol in ("QQQ", "IWM"):
                assert _status(trading, f"my-dip-{symbol}") in ("new", "accepted")
            assert f"cancelled {len(own)} open order(s)" in event.action_taken
            assert "2 order(s) placed outside tui-trader left working" in event.action_taken
        finally:
            session.broker.close()


def test_a_kill_keeps_another_desks_protective_stop(tmp_path: Path) -> None:
    """Desk A protects its SPY with a stop at the broker; desk B on the same account and
    database trades without stops. B's kill switch halts the account and cancels B's orders,
    but A's stop keeps protecting A's shares; A adopts the halt at its next cycle and says
    what it cancelled and kept (before, an adopting session's words said neither)."""
    db = tmp_path / "shared.db"
    with running_sandbox() as sb:
        first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        second = alpaca_session(sb, db, symbols=("QQQ",))
        try:
            stops = [str(o.client_order_id) for o in open_stops(sb)]
            assert len(stops) == 1
            event = kill_between_bars(second)
            assert [str(o.client_order_id) for o in open_stops(sb)] == stops
            assert "1 protective exit(s) kept" in event.action_taken
            sb.admin.step()
            report = first.run_iteration()  # A adopts the halt and says what it did
            (adopted,) = [e for e in report.risk_events if e.event_type == HALT_ADOPTED]
            assert "cancelled 0 open order(s); 1 protective exit(s) kept" in adopted.action_taken
            assert [str(o.client_order_id) for o in open_stops(sb)] == stops
        finally:
            first.broker.close()
            second.broker.close()


def test_a_kill_leaves_another_databases_desks_orders_working(tmp_path: Path) -> None:
    """A desk on the same account keeps its audit in another database (its session is not in
    this store): this kill cancels this desk's orders and leaves that desk's limit buy
    working, saying so; an order of a session this store holds is cancelled as before."""
    with running_sandbox(faults="partial_rate=1.0") as sb:
        trading = client(sb)
        session = alpaca_session(sb, tmp_path / "k.db", symbols=("SPY",))
        try:
            elsewhere = make_order_id("o7therdb", 3, "QQQ", "b0")
            here = make_order_id(session.audit.session.key, 1, "IWM", "b0")  # a row-less one
            for cid, symbol in ((elsewhere, "QQQ"), (here, "IWM")):
                _far_limit_buy(trading, symbol, cid)
            event = kill_between_bars(session)
            assert _status(trading, elsewhere) in ("new", "accepted")
            assert _status(trading, here) == "canceled"
            assert "1 order(s) of tui-trader sessions on another database left working" in (
                event.action_taken
            )
        finally:
            session.broker.close()
