"""A halt after ``db restore`` cancels the orders of the desk's sessions the backup did not hold.

A halt cancels the working orders of its store's sessions and leaves those of sessions the
store does not hold, taken for a desk writing to another database. A store restored from an
older backup holds none of the sessions started after the backup: before, their working orders
were taken for another database's too, and the kill switch left them working. Now every
session key carries its store's tag (``store.store_identity``, kept in the file and so in its
backups): the halt cancels those orders, says so, and still leaves another database's desk's
orders working (a key without a tag, or with another store's tag).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alpaca.trading.requests import LimitOrderRequest

from tests.integration.alpaca_helpers import alpaca_session, kill_between_bars, settle
from tui_trader.cli import main
from tui_trader.core.order_ids import make_order_id
from tui_trader.core.orders import OrderType, Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, SessionRow


def _session(sandbox: SandboxHandle, db: Path) -> TradingSession:
    """An Alpaca paper session on SPY (the sandbox's rate limit lifted)."""
    sandbox.admin.set_faults(rate_limit=0)
    return alpaca_session(sandbox, db, symbols=("SPY",))


def _status(trading: Any, client_order_id: str) -> str:
    """The sandbox's status of one order, by its client id."""
    order = trading.get_order_by_client_id(client_order_id)
    return str(getattr(order.status, "value", order.status))


def _leave_a_working_buy(sandbox: SandboxHandle, session: TradingSession) -> str:
    """The session's limit buy far below the market, left working as the session stops (an
    Alpaca session's orders outlive it); its client order id."""
    sandbox.admin.step()
    session.run_iteration()
    low = round(session.last_prices["SPY"] * 0.5, 2)
    session.request_manual_order(
        ManualOrder("SPY", Side.BUY, qty=1, order_type=OrderType.LIMIT, limit_price=low)
    )
    session.apply_kill_requests()  # applies the desk's queued requests, the order among them
    settle(sandbox, session)
    (row,) = LiveOrder.select().where(LiveOrder.order_type == "limit")
    return str(row.client_order_id)


def test_a_halt_after_a_restore_cancels_the_sessions_the_backup_did_not_hold(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, capsys: Any
) -> None:
    db = tmp_path / "desk.db"
    first = _session(sandbox, db)  # the store exists, with one session, when backed up
    first.finish("stopped")
    first.broker.close()
    assert main(["db", "backup", "--db", str(db), "--to", str(tmp_path / "bk")]) == 0
    (backup,) = (tmp_path / "bk").iterdir()

    later = _session(sandbox, db)  # started after the backup: the restore loses its row
    try:
        working = _leave_a_working_buy(sandbox, later)
    finally:
        later.finish("stopped")
        later.broker.close()
    lost_key = later.audit.session.key
    assert main(["db", "restore", str(backup), "--db", str(db), "--yes"]) == 0
    capsys.readouterr()

    other_databases = [
        make_order_id("o7therdb", 3, "QQQ", "b0"),  # a key of before store identities
        make_order_id("0badcafe_5eed5e", 4, "IWM", "b0"),  # another store's tag
    ]
    for cid, symbol in zip(other_databases, ("QQQ", "IWM"), strict=True):
        trading.submit_order(
            LimitOrderRequest(
                symbol=symbol, qty=1, side="buy", time_in_force="gtc", limit_price=1.0,
                client_order_id=cid,
            )
        )  # fmt: skip
    desk = _session(sandbox, db)
    try:
        assert SessionRow.get_or_none(SessionRow.key == lost_key) is None  # the row is gone
        # start-up reconciliation says whose it is, and leaves it (no row: no account to check)
        [said] = [e for e in desk.startup_events if working in e.detail]
        assert "made by this database but has no row here" in said.detail
        assert said.action_taken.startswith("left untouched")
        assert said.detail.count("no session of this database made it") == 2  # the others
        event = kill_between_bars(desk)
        assert _status(trading, working) == "canceled"
        for cid in other_databases:
            assert _status(trading, cid) in ("new", "accepted")
        said = event.action_taken
        assert "1 of the cancelled order(s) were of sessions this database made" in said
        assert "2 order(s) of tui-trader sessions on another database left working" in said
    finally:
        desk.broker.close()
