"""Another desk begins the account's next trading day while this desk is between its cycle's
merge of the account's risk row and an order's slot (``AccountRiskRows.reserve_order``).

The slot is taken on the row's day, so it failed; the merge-and-retry merged the row but went on
with the session's own older state: the order was refused as "0 orders sent today" (a close by
hand too, which the day's order limit never refuses), and the next merge read the session's
state against the merged row as this session's changes: its lower equity peak as a reset, which
lowered the account's peak (every desk's drawdown is measured from it). Now the retry goes on
with the row as merged: the order is the later day's, counted there, and the peak stays.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from tests.conftest import BuyAndHold, make_session
from tui_trader.core.domain import Position
from tui_trader.engine.session import TradingSession
from tui_trader.risk.gate import RiskLimits
from tui_trader.store.models import database
from tui_trader.store.risk_store import read_risk_state


def _desk(db_path: Path) -> TradingSession:
    """A desk whose rows commit one by one (as an Alpaca desk's do: each slot in the account's
    row) holding SPY, bought and filled, far below the day's order limit."""
    session = make_session(
        db_path,
        strategies=[BuyAndHold()],
        symbols=("SPY",),
        commit_before_send=True,
        limits=RiskLimits(max_orders_per_day=5),
    )
    session.run_iteration()  # the buy
    session.run_iteration()  # filled on the next bar
    assert session.broker.positions()["SPY"].qty > 0 and not session.broker.open_orders()
    return session


def _next_day_meanwhile(session: TradingSession, db_path: Path, peak: float) -> None:
    """Make the session's next read of the broker's positions (after its merge, before the
    order's slot) find that another desk has begun the next trading day on the account's row,
    having seen ``peak``: the row as that desk's merge writes it."""
    row = read_risk_state(database.obj, session.risk.state.account_key)
    assert row is not None and row.day is not None
    read = session.broker.positions
    done: list[bool] = []

    def positions() -> dict[str, Position]:
        """The broker's positions, the other desk's write done first (once)."""
        if not done:
            done.append(True)
            other = sqlite3.connect(db_path, isolation_level=None)
            other.execute(
                'UPDATE "risk_state" SET "day" = ?, "orders_today" = 0, "peak_equity" = ? '
                'WHERE "account_key" = ?',
                ((row.day + timedelta(days=1)).isoformat(), peak, row.account_key),
            )
            other.close()
        return read()

    session.broker.positions = positions  # type: ignore[method-assign]


def test_a_close_by_hand_as_another_desk_begins_the_next_day_goes_out_counted_that_day(
    db_path: Path,
) -> None:
    """The close is sent (not refused as "0 orders sent today") and counted on the account's
    row, on the day the other desk began."""
    session = _desk(db_path)
    key = session.risk.state.account_key
    day = session.risk.state.day
    assert day is not None
    held = session.broker.positions()["SPY"].qty
    _next_day_meanwhile(session, db_path, peak=session.risk.state.peak_equity or 0.0)
    session.request_close("SPY")
    report = session.apply_kill_requests()
    assert report is not None
    assert [e.action_taken for e in report.risk_events] == []
    [order] = report.orders
    assert (order.side, order.qty) == ("sell", held)
    row = read_risk_state(database.obj, key)
    assert row is not None
    assert (row.day, row.orders_today) == (day + timedelta(days=1), 1)
    assert session.risk.state.orders_today == 1
    session.run_iteration()  # the next bar fills it
    assert "SPY" not in session.broker.positions()


def test_the_higher_peak_another_desk_saw_is_not_lowered_by_an_order_slot_on_the_new_day(
    db_path: Path,
) -> None:
    """The account's equity peak, which every desk measures its drawdown from, stays the higher
    one the other desk wrote: the slot's merge is not read as a reset of this desk's."""
    session = _desk(db_path)
    key = session.risk.state.account_key
    higher = (session.risk.state.peak_equity or 0.0) + 5_000.0
    _next_day_meanwhile(session, db_path, peak=higher)
    session.request_close("SPY")
    session.apply_kill_requests()
    session.run_iteration()
    row = read_risk_state(database.obj, key)
    assert row is not None and row.peak_equity == higher
    assert session.risk.state.peak_equity == higher
