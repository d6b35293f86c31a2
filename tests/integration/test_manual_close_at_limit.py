"""A trader at the day's order limit can still get out by hand: a manual order that only closes
what is held passes the limit (and is counted past it), anything that would grow or flip the
position is still refused (``Holding.closable``, ``RiskManager.check_order``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import BuyAndHold, make_session
from tui_trader.core.orders import OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.gate import HALTED_ORDER, NO_SHORT, ORDER_RATE, RiskLimits
from tui_trader.store.models import LiveOrder, RiskEventRow
from tui_trader.store.risk_store import reserve_order_slot


def _at_the_limit(db_path: Path, limit: int = 1, left: int = 0, **kwargs):
    """A local session in SPY alone whose strategy bought SPY (filled); then another desk on
    the account sends the day's other orders, all but ``left`` of them: the account's shared
    count is at the limit (or ``left`` short of it)."""
    session = make_session(
        db_path,
        strategies=[BuyAndHold()],
        symbols=("SPY",),
        limits=RiskLimits(max_orders_per_day=limit),
        **kwargs,
    )
    session.run_iteration()  # the buy
    session.run_iteration()  # filled, on the next (daily) bar: a new day
    assert session.broker.positions()["SPY"].qty > 0 and not session.broker.open_orders()
    state = session.risk.state
    other = _OtherProcess(sqlite3.connect(db_path, isolation_level=None))
    for _ in range(limit - left - state.orders_today):
        assert reserve_order_slot(other, state.account_key, state.day, limit)[0]  # type: ignore[arg-type]
    other.conn.close()
    return session


class _OtherProcess:
    """Another desk's connection to the same file, as ``risk_store`` calls it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def raw(self, sql: str, params=()):
        """Run one statement (autocommit)."""
        return self.conn.execute(sql, params)


@pytest.mark.parametrize("row_first", [False, True], ids=["local-cycle", "row-before-send"])
def test_a_manual_close_at_the_days_order_limit_goes_out_and_closes_the_position(
    db_path, row_first: bool
) -> None:
    """The close is sent, said in the desk's words and counted past the limit (in the local
    cycle's locked count, and in the account's row slot by slot as an Alpaca session counts);
    the next bar fills it and the position is gone."""
    session = _at_the_limit(db_path, commit_before_send=row_first)
    held = session.broker.positions()["SPY"].qty
    session.request_close("SPY")
    report = session.apply_kill_requests()
    assert report is not None
    [order] = report.orders
    assert (order.side, order.qty) == ("sell", held)
    said = (
        f"manual sell {held:g} SPY sent past the day's order limit (1 of 1): it only closes "
        "what is held"
    )
    assert [e.action_taken for e in report.risk_events] == [said]
    assert RiskEventRow.get(RiskEventRow.event_type == ORDER_RATE).action_taken == said
    assert report.orders_today == 2, "a real order sent: counted, past the limit"
    session.run_iteration()  # the next bar fills it
    assert LiveOrder.get(LiveOrder.client_order_id == order.client_order_id).status == "filled"
    assert "SPY" not in session.broker.positions()


def test_at_the_limit_a_manual_buy_is_refused_and_a_partial_sell_passes(db_path) -> None:
    """A buy adds exposure: refused by the limit, nothing sent. A ticket selling part of the
    position only shrinks it: sent."""
    session = _at_the_limit(db_path)
    held = session.broker.positions()["SPY"].qty
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=1))
    report = session.apply_kill_requests()
    assert report is not None and report.orders == ()
    assert [e.event_type for e in report.risk_events] == [ORDER_RATE]
    assert report.risk_events[0].action_taken.startswith("refused buy 1 SPY")
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=20))
    report = session.apply_kill_requests()
    [order] = report.orders
    assert (order.side, order.qty) == ("sell", 20)
    assert report.orders_today == 2
    session.run_iteration()
    assert session.broker.positions()["SPY"].qty == held - 20


def test_at_the_limit_a_manual_sell_of_more_than_is_held_is_still_refused(db_path) -> None:
    """No short selling: a sell of more than is held is refused as a short sale, at the limit
    as below it; the position stays."""
    session = _at_the_limit(db_path)
    held = session.broker.positions()["SPY"].qty
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held + 1))
    report = session.apply_kill_requests()
    assert report is not None and report.orders == ()
    assert [e.event_type for e in report.risk_events] == [NO_SHORT]
    assert session.broker.positions()["SPY"].qty == held
    assert session.risk.state.orders_today == 1, "nothing sent, nothing counted"


def test_with_short_selling_on_a_sell_that_would_flip_the_position_is_refused_at_the_limit(
    db_path,
) -> None:
    """Short selling allowed, a sell of more than is held would turn the position short: the
    limit refuses it. So does one that a working sell could turn short (judged on what is
    held less every working sell); a sell of what is left passes."""
    session = _at_the_limit(db_path, limit=2, left=1, allow_short=True)
    held = session.broker.positions()["SPY"].qty
    far = round(session.last_prices["SPY"] * 3, 2)
    session.request_manual_order(
        ManualOrder(
            "SPY",
            Side.SELL,
            qty=10,
            order_type=OrderType.LIMIT,
            limit_price=far,
            time_in_force=TimeInForce.GTC,
        )
    )
    [resting] = session.apply_kill_requests().orders
    assert session.risk.state.orders_today == 2  # the day's orders are used up
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held + 5))
    report = session.apply_kill_requests()
    assert report is not None and report.orders == ()
    assert [e.event_type for e in report.risk_events] == [ORDER_RATE]
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held))
    report = session.apply_kill_requests()
    assert report.orders == ()
    assert [e.event_type for e in report.risk_events] == [ORDER_RATE]
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held - 10))
    [order] = session.apply_kill_requests().orders
    assert (order.side, order.qty) == ("sell", held - 10)
    assert [o.client_order_id for o in session.broker.open_orders()] == [
        resting.client_order_id,
        order.client_order_id,
    ]


def test_halted_at_the_limit_a_manual_close_still_goes_out_and_a_buy_does_not(db_path) -> None:
    """Kill switch pressed (no flatten) with the day's orders used up: the trader closes the
    position by hand; a buy stays refused by the halt."""
    session = _at_the_limit(db_path)
    held = session.broker.positions()["SPY"].qty
    session.request_kill("user")
    session.apply_kill_requests()
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=1))
    session.request_close("SPY")
    report = session.apply_kill_requests()
    [order] = report.orders
    assert (order.side, order.qty) == ("sell", held)
    assert [e.event_type for e in report.risk_events] == [HALTED_ORDER, ORDER_RATE]
    session.run_iteration()
    assert "SPY" not in session.broker.positions()
