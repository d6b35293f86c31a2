"""A local decision cycle's orders and the account's order count: what the database holds once
the cycle commits, what a failed cycle leaves, and another process on the same account.

A local cycle is one transaction: its order rows (with the broker's answers) and the order
slots it reserved are written before it commits (issue 17 keeps them in memory until then, one
statement instead of two or three per order); nothing of a failed cycle remains; another
process waits for the cycle's write lock and then sees its orders counted.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.conftest import BuyAndHold, make_session
from tui_trader.core.orders import OrderStatus
from tui_trader.risk.gate import RiskLimits
from tui_trader.store.risk_store import reserve_order_slot
from tui_trader.store.statements import db_time

_LIMITS = RiskLimits(max_position_pct=30.0, max_orders_per_day=3)


class _Connection:
    """Another process's connection to the same file, as ``risk_store`` calls it."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, timeout=10, isolation_level=None)

    def raw(self, sql: str, params: object = ()) -> sqlite3.Cursor:
        """Run one statement (autocommit)."""
        return self.conn.execute(sql, params)  # type: ignore[arg-type]

    def orders(self) -> dict[str, tuple[str, str | None, str]]:
        """Order rows by client order id: status, broker id, rationale."""
        rows = self.conn.execute(
            "SELECT client_order_id, status, broker_order_id, rationale FROM live_orders"
        )
        return {cid: (status, broker_id, why) for cid, status, broker_id, why in rows}

    def orders_today(self) -> int:
        """The account's day count as committed."""
        row = self.conn.execute("SELECT orders_today FROM risk_state").fetchone()
        return int(row[0]) if row else 0


def test_a_cycles_orders_are_committed_with_the_brokers_answers_and_counted(db_path) -> None:
    """Three symbols bought in one cycle: once it returns, another connection reads three
    order rows with the broker's status and id and the strategy's rationale, and the
    account's shared count says three."""
    session = make_session(db_path, strategies=[BuyAndHold()], limits=_LIMITS)
    report = session.run_iteration()
    assert report is not None and len(report.orders) == 3
    other = _Connection(db_path)
    rows = other.orders()
    for order in report.orders:
        assert order.status is OrderStatus.NEW
        status, broker_id, why = rows[order.client_order_id]
        assert (status, broker_id) == ("new", order.broker_order_id)
        assert "buy and hold" in why
    assert other.orders_today() == 3
    assert session.risk.state.orders_today == 3


def test_a_cycles_order_rows_hold_their_times_as_every_row_does(db_path) -> None:
    """The rows a cycle keeps until it commits (their times formatted only then, after its
    orders went out) hold the text every row holds: naive UTC with a space, the bar's time
    as the market time, no later than their last update (the history and the settlement
    window read them back by it)."""
    session = make_session(db_path, strategies=[BuyAndHold()], limits=_LIMITS)
    report = session.run_iteration()
    assert report is not None and len(report.orders) == 3
    rows = _Connection(db_path).conn.execute(
        "SELECT timestamp, market_time, updated_at FROM live_orders"
    )
    stored = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?"
    for written, market, updated in rows:
        for text in (written, market, updated):
            assert re.fullmatch(stored, text), text
        assert market == db_time(report.market_time)
        assert written <= updated


def test_a_live_cycles_rows_reach_the_database_file_itself_once_it_is_over(
    db_path, tmp_path, monkeypatch
) -> None:
    """A remote broker's rows commit one by one, each order row before its order, into
    SQLite's write-ahead log; once the cycle is over they are checkpointed into the database
    file (at most once a second; SQLite's own checkpoint waited for 1,000 pages and then ran,
    with an fsync, inside the commit of whichever order row filled them). A copy of the file
    alone, without its ``-wal``, holds the order rows of the cycle just run."""
    monkeypatch.setattr("tui_trader.store.db.CHECKPOINT_EVERY_S", 0.0, raising=False)
    session = make_session(
        db_path, strategies=[BuyAndHold()], limits=_LIMITS, commit_before_send=True
    )
    report = session.run_iteration()
    assert report is not None and len(report.orders) == 3
    copy = tmp_path / "copy.db"
    shutil.copyfile(db_path, copy)
    conn = sqlite3.connect(copy)
    try:
        rows = conn.execute("SELECT client_order_id FROM live_orders").fetchall()
    finally:
        conn.close()
    assert {cid for (cid,) in rows} == {order.client_order_id for order in report.orders}


def test_a_cycle_that_fails_after_sending_leaves_no_rows_and_no_slots(db_path) -> None:
    """The cycle sends its orders, then writing its snapshot fails: the cycle rolls back
    whole, no order row and no reserved slot remain."""
    session = make_session(db_path, strategies=[BuyAndHold()], limits=_LIMITS)

    def broken_snapshot(*args: object) -> None:
        raise RuntimeError("the snapshot could not be written")

    session._snapshot = broken_snapshot  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        session.run_iteration()
    assert session.broker.open_orders(), "the orders did reach the broker"
    other = _Connection(db_path)
    assert other.orders() == {}
    assert other.orders_today() == 0


def test_another_process_waits_for_the_cycle_and_finds_the_last_slot_taken(db_path) -> None:
    """A limit of one order a day on the account. While the session's cycle passes its order
    through the gate, another process tries to take the same slot: it waits for the cycle's
    write lock, then finds the slot taken. One order is sent between them, not two."""
    session = make_session(
        db_path,
        strategies=[BuyAndHold()],
        symbols=("SPY",),
        limits=RiskLimits(max_position_pct=30.0, max_orders_per_day=1),
    )
    gate = session.risk.check_order
    answers: list[tuple[bool, int]] = []
    racers: list[threading.Thread] = []

    def racing_gate(*args: object, **kwargs: object):
        """The gate passes the order; meanwhile the other process asks for the slot."""
        state = session.risk.state

        def other_process() -> None:
            other = _Connection(db_path)
            answers.append(reserve_order_slot(other, state.account_key, state.day, 1))  # type: ignore[arg-type]
            other.conn.close()

        racer = threading.Thread(target=other_process)
        racer.start()
        racers.append(racer)
        return gate(*args, **kwargs)

    session.risk.check_order = racing_gate  # type: ignore[method-assign]
    report = session.run_iteration()
    for racer in racers:
        racer.join(timeout=20)
        assert not racer.is_alive()
    assert report is not None and len(report.orders) == 1
    assert answers == [(False, 1)]
    assert _Connection(db_path).orders_today() == 1


def test_a_manual_order_between_bars_is_counted_for_the_account(db_path) -> None:
    """A ticket acted on between bars takes one of the account's slots: the count other
    processes read says so as soon as it is sent."""
    from tui_trader.core.orders import Side
    from tui_trader.engine.manual_orders import ManualOrder

    session = make_session(db_path, strategies=[], limits=_LIMITS)
    session.run_iteration()
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=5))
    report = session.apply_kill_requests()
    assert report is not None and len(report.orders) == 1
    assert _Connection(db_path).orders_today() == 1


def test_slots_counted_inside_a_cycle_stop_at_the_limit_whatever_the_caller_counts(
    db_path,
) -> None:
    """Inside a cycle that holds the account's row, the store counts the slots itself: a
    caller whose own count is behind still gets no more than the day's limit."""
    from dataclasses import replace

    session = make_session(db_path, strategies=[], limits=RiskLimits(max_orders_per_day=2))
    audit = session.audit
    with audit.cycle():
        state = audit.sync_risk(session.risk.state)
        answers = [
            audit.reserve_order(replace(state, orders_today=state.orders_today + 1), 2)[0]
            for _ in range(3)
        ]
    assert answers == [True, True, False]
    assert _Connection(db_path).orders_today() == 2


def test_a_slot_given_back_inside_a_cycle_is_not_counted_and_can_be_taken_again(
    db_path,
) -> None:
    """An order that waits unsent after its slot was taken (its stop's cancel not confirmed)
    gives the slot back (``OrderSending._return_slot``): inside a local cycle, which counts
    its slots against the row it holds, the row then counts only the orders sent, and the
    slot is free again for the limit."""
    from dataclasses import replace

    session = make_session(db_path, strategies=[], limits=RiskLimits(max_orders_per_day=2))
    audit = session.audit
    with audit.cycle():
        state = audit.sync_risk(session.risk.state)
        ok, state = audit.reserve_order(replace(state, orders_today=state.orders_today + 1), 2)
        assert ok and state.orders_today == 1
        state = audit.release_order(state)  # that order waits: not sent
        assert state.orders_today == 0
        answers = [
            audit.reserve_order(replace(state, orders_today=state.orders_today + 1), 2)[0]
            for _ in range(3)
        ]
    assert answers == [True, True, False]
    assert _Connection(db_path).orders_today() == 2
