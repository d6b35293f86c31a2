"""Two sessions on one account and one database, cycles interleaved: one risk state between them.
Every test runs on both engines (a SQLite file, a PostgreSQL database).

Each session has its own connection to the file (as two processes would); their cycles take turns.
A halt in one stops the other at its next cycle and stays written; the day's order limit is one
count for the account; ``risk reset`` is taken by the running session instead of overwritten.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BuyAndHold, age_heartbeat, make_session
from tui_trader.cli import main
from tui_trader.core.domain import TradingState
from tui_trader.risk.gate import MANUAL_KILL, ORDER_RATE, RiskLimits
from tui_trader.store.models import LiveOrder, RiskStateRow
from tui_trader.store.pg_url import PgUrl

ACCOUNT = "alpaca:PA-SHARED"


def _row() -> RiskStateRow:
    """The account's risk-state row as the database holds it now."""
    return RiskStateRow.get(RiskStateRow.account_key == ACCOUNT)


def test_a_halt_in_one_session_stops_the_other_and_stays_written(store: Path | PgUrl) -> None:
    """B's kill switch halts the account; A (not halted itself) stops at its next cycle, sends
    nothing more, and neither its cycles nor its finish write ACTIVE over the halt."""
    a = make_session(store, account_key=ACCOUNT, strategies=[BuyAndHold()])
    b = make_session(store, account_key=ACCOUNT, strategies=[BuyAndHold()])
    a.run_iteration()
    b.run_iteration()
    b.request_kill(who="test")
    assert b.run_iteration().state is TradingState.HALTED
    report = a.run_iteration()
    assert report.state is TradingState.HALTED
    assert "halt_adopted" in [e.event_type for e in report.risk_events]
    orders = LiveOrder.select().count()
    for _ in range(5):
        assert a.run_iteration().orders_sent == 0
    a.finish("stopped")
    assert LiveOrder.select().count() == orders
    row = _row()
    assert row.state == "halted" and row.halt_reason == MANUAL_KILL
    assert make_session(store, account_key=ACCOUNT).risk.state.halted, "a restart stays halted"


def test_the_days_order_limit_is_one_count_for_the_account(store: Path | PgUrl) -> None:
    """With a limit of 4 orders a day in both sessions, 4 orders go out between them."""
    limits = RiskLimits(max_orders_per_day=4, max_position_pct=40.0)
    a = make_session(store, limits=limits, account_key=ACCOUNT, strategies=[BuyAndHold()])
    b = make_session(store, limits=limits, account_key=ACCOUNT, strategies=[BuyAndHold()])
    first = a.run_iteration()
    second = b.run_iteration()
    assert first.orders_sent == 3
    assert second.orders_sent == 1
    assert [e.symbol for e in second.risk_events if e.event_type == ORDER_RATE] == ["QQQ", "SPY"]
    assert LiveOrder.select().count() == 4
    assert _row().orders_today == 4


def test_risk_reset_is_taken_by_the_running_session(store: Path | PgUrl) -> None:
    """``risk reset --yes`` while a halted session runs: the session trades again at its next
    cycle and its own writes keep the account ACTIVE."""
    a = make_session(store, account_key=ACCOUNT, strategies=[BuyAndHold()])
    a.run_iteration()
    a.request_kill(who="test")
    assert a.run_iteration().state is TradingState.HALTED
    assert main(["risk", "reset", "--yes", "--db", str(store), "--account", ACCOUNT]) == 0
    assert _row().state == "active"
    report = a.run_iteration()
    assert report.state is TradingState.ACTIVE
    assert "reset_adopted" in [e.event_type for e in report.risk_events]
    a.run_iteration()
    a.finish("stopped")
    assert _row().state == "active"


def test_each_session_adopts_a_new_peak_from_the_other(store: Path | PgUrl) -> None:
    """The drawdown peak is the account's: the higher of what either session saw."""
    a = make_session(store, account_key=ACCOUNT, strategies=[BuyAndHold()])
    b = make_session(store, account_key=ACCOUNT, strategies=[BuyAndHold()])
    a.run_iteration()
    b.run_iteration()
    peak = max(a.risk.state.peak_equity or 0.0, b.risk.state.peak_equity or 0.0)
    a.run_iteration()
    assert (a.risk.state.peak_equity or 0.0) >= peak
    assert _row().peak_equity >= peak


def test_reconciliation_leaves_the_rows_of_a_live_session_alone(store: Path | PgUrl) -> None:
    """B starts on the account while A runs with open orders: B's start-up reconciliation does
    not touch A's rows. Once A is dead (its heartbeat stale), the next session reconciles them."""
    a = make_session(store, account_key=ACCOUNT, strategies=[BuyAndHold()])
    a.run_iteration()
    rows = LiveOrder.select().where(LiveOrder.session == a.audit.session.id)
    assert [o.status for o in rows] == ["new", "new", "new"]
    b = make_session(store, account_key=ACCOUNT, strategies=[BuyAndHold()])
    assert [o.status for o in rows.clone()] == ["new", "new", "new"]
    assert not [e for e in b.startup_events if "in the database" in e.detail + e.action_taken]
    age_heartbeat(a.audit.session.id, 600)
    make_session(store, account_key=ACCOUNT, strategies=[BuyAndHold()])
    assert "new" not in [o.status for o in rows.clone()], "a dead session's orders are reconciled"
