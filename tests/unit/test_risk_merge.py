"""The merge of one session's risk-state changes into the account's row (pure rules), and the
atomic store around it: two connections on one file, their writes interleaved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from tui_trader.core.domain import TradingState
from tui_trader.risk.gate import (
    DAILY_LOSS,
    DRAWDOWN,
    MANUAL_KILL,
    RiskLimits,
    RiskManager,
    RiskState,
)
from tui_trader.risk.merge import merge_risk_state
from tui_trader.store.db import open_database
from tui_trader.store.risk_store import read_risk_state, reserve_order_slot, sync_risk_state

KEY = "alpaca:PA1"
DAY = date(2025, 3, 3)
ACTIVE = RiskState(KEY, peak_equity=100_000.0, day=DAY, day_open_equity=100_000.0)


def halted(state: RiskState, reason: str = DRAWDOWN, detail: str = "x") -> RiskState:
    """``state`` halted for ``reason``."""
    return replace(state, state=TradingState.HALTED, halt_reason=reason, halt_detail=detail)


def test_a_halt_stands_against_a_session_that_did_not_touch_it() -> None:
    """The row is halted by another process; this session saw ACTIVE and changed nothing
    about the halt: the merge keeps HALTED (and the session adopts it)."""
    mine = replace(ACTIVE, last_equity=99_000.0)
    merged = merge_risk_state(halted(ACTIVE), ACTIVE, mine)
    assert merged.halted and merged.halt_reason == DRAWDOWN
    assert merged.last_equity == 99_000.0


def test_the_first_halt_stands_when_two_sessions_halt() -> None:
    """Both halt; the one written first keeps its reason, the other adopts it."""
    merged = merge_risk_state(halted(ACTIVE, MANUAL_KILL), ACTIVE, halted(ACTIVE, DRAWDOWN))
    assert merged.halt_reason == MANUAL_KILL


def test_a_reset_elsewhere_is_adopted_and_restarts_the_peak() -> None:
    """The session is halted as it last read; the row was reset (ACTIVE, lower peak)."""
    base = halted(ACTIVE)
    row = replace(ACTIVE, peak_equity=90_000.0)
    merged = merge_risk_state(row, base, base)
    assert not merged.halted
    assert merged.peak_equity == 90_000.0


def test_lifting_a_halt_only_lifts_the_halt_that_was_seen() -> None:
    """A session lifts halt X, but meanwhile the row holds halt Y: Y stays."""
    base = halted(ACTIVE, DRAWDOWN, "first")
    row = halted(ACTIVE, MANUAL_KILL, "second")
    merged = merge_risk_state(row, base, ACTIVE)
    assert merged.halted and merged.halt_reason == MANUAL_KILL


def test_a_daily_loss_halt_ends_with_its_day_only() -> None:
    """A new day lifts a daily-loss halt of an earlier day, never a drawdown halt."""
    next_day = replace(ACTIVE, day=date(2025, 3, 4))
    assert not merge_risk_state(halted(ACTIVE, DAILY_LOSS), ACTIVE, next_day).halted
    assert merge_risk_state(halted(ACTIVE, DRAWDOWN), ACTIVE, next_day).halted


def test_the_peak_is_the_higher_and_orders_add_up() -> None:
    """Peak = max of both; orders this session counted since its base are added to the row's."""
    row = replace(ACTIVE, peak_equity=105_000.0, orders_today=3)
    mine = replace(ACTIVE, peak_equity=102_000.0, orders_today=2)
    merged = merge_risk_state(row, ACTIVE, mine)
    assert merged.peak_equity == 105_000.0
    assert merged.orders_today == 5


def test_two_connections_interleaved_never_lose_a_halt(tmp_path: Path) -> None:
    """Two risk managers on one file, each through its own connection: B halts on drawdown,
    A then saves its (ACTIVE) view; the row and A's merged state are HALTED."""
    path = tmp_path / "a.db"
    db_a, db_b = open_database(path), open_database(path)
    a = RiskManager(RiskLimits(), RiskState(KEY))
    b = RiskManager(RiskLimits(max_drawdown_pct=1.0), RiskState(KEY))
    a.on_equity(100_000.0, DAY)
    base_a = a.state = sync_risk_state(db_a, None, a.state)
    b.on_equity(100_000.0, DAY)
    base_b = b.state = sync_risk_state(db_b, None, b.state)
    assert b.on_equity(98_500.0, DAY)[0].event_type == DRAWDOWN
    sync_risk_state(db_b, base_b, b.state)
    a.on_equity(98_500.0, DAY)  # within A's 5%: A itself would not halt
    merged = sync_risk_state(db_a, base_a, a.state)
    assert merged.halted
    row = read_risk_state(db_a, KEY)
    assert row is not None and row.halted and row.halt_reason == DRAWDOWN


def test_order_slots_are_reserved_atomically_up_to_the_limit(tmp_path: Path) -> None:
    """Two connections reserving in turn: slots 1..3 granted, then refused for both."""
    path = tmp_path / "a.db"
    db_a, db_b = open_database(path), open_database(path)
    sync_risk_state(db_a, None, ACTIVE)
    got = [reserve_order_slot(db, KEY, DAY, 3) for db in (db_a, db_b, db_a, db_b, db_a)]
    assert got == [(True, 1), (True, 2), (True, 3), (False, 3), (False, 3)]


def test_a_kill_over_a_daily_loss_halt_is_written_and_outlives_the_day() -> None:
    """The row holds this session's daily-loss halt; the session is then killed by hand. The
    row takes the kill (its detail keeps the daily loss), and the next day does not lift it:
    before, the row kept the daily-loss halt and the new day resumed trading under the kill."""
    base = halted(ACTIVE, DAILY_LOSS, "down 2%")
    manager = RiskManager(RiskLimits(), base)
    manager.halt(MANUAL_KILL, 0.0, 0.0, "kill switch pressed by user")
    merged = merge_risk_state(base, base, manager.state)
    assert merged.halt_reason == MANUAL_KILL and "down 2%" in merged.halt_detail
    next_day = replace(merged, day=date(2025, 3, 4))
    assert merge_risk_state(merged, merged, next_day).halted
    again = merge_risk_state(merged, base, manager.state)  # merged twice: the words once
    assert again.halt_detail.count("down 2%") == 1


def test_a_daily_loss_halt_made_on_a_new_day_stands() -> None:
    """The session begins a new day and trips its daily-loss limit in the same cycle (the
    first bar of a day; every bar of a daily replay): the row still holds the day before.
    The halt is the new day's own and stands; before, it was taken for the earlier day's and
    lifted in the same merge."""
    mine = halted(replace(ACTIVE, day=date(2025, 3, 4)), DAILY_LOSS, "down 3%")
    merged = merge_risk_state(ACTIVE, ACTIVE, mine)
    assert merged.halted and merged.halt_reason == DAILY_LOSS
    assert merged.day == date(2025, 3, 4)
    assert not merge_risk_state(merged, merged, replace(mine, day=date(2025, 3, 5))).halted
