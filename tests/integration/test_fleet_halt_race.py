"""A fleet halt racing another halt on the same account's risk row.

``fleet halt`` (and the Fleet screen's ctrl+k) reads the account's row, then merges its halt
into it under the row's lock. A halt landing in between decides what the row ends as: a
daily-loss halt gives way to the fleet's (it would end with the day), so the row becomes
``manual_kill`` with both halts' words; a halt that lasts until reset stands. Before, the
first case was reported as "already halted" and committed with no ``manual_kill`` event: the
row said someone pressed the kill switch and the audit trail did not. On both engines.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tui_trader.risk.gate import DRAWDOWN, MANUAL_KILL, RiskLimits, RiskManager
from tui_trader.risk.state import DAILY_LOSS, RiskState
from tui_trader.store import fleet_halts
from tui_trader.store.db import open_database
from tui_trader.store.fleet_halts import halt_account
from tui_trader.store.models import RiskEventRow, database
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.risk_store import read_risk_state, sync_risk_state

ACCOUNT = "alpaca:PA1"


def _halt_between_read_and_merge(
    monkeypatch: pytest.MonkeyPatch, reason: str, detail: str
) -> list[bool]:
    """Make another process's halt (``reason``) land on the row right after the fleet read it."""
    landed: list[bool] = []
    real = fleet_halts.load_risk_state

    def read_then_halted(account_key: str, strict: bool = True) -> RiskState:
        """The fleet's read, then a session's halt written before the fleet's merge."""
        state = real(account_key, strict)
        if not landed:
            landed.append(True)
            manager = RiskManager(RiskLimits(), state)
            manager.halt(reason, 940.0, 1000.0, detail)
            sync_risk_state(database.obj, state, manager.state)
        return state

    monkeypatch.setattr(fleet_halts, "load_risk_state", read_then_halted)
    return landed


def _trading_account(db: object) -> RiskState:
    """The account's row as a session trading it today leaves it: active."""
    state = RiskState(ACCOUNT, peak_equity=1000.0, day=date(2026, 12, 7), day_open_equity=1000.0)
    return sync_risk_state(db, None, state)


def _events() -> list[tuple[str, str]]:
    """The account's risk events (type, detail), oldest first."""
    rows = RiskEventRow.select().where(RiskEventRow.account_key == ACCOUNT)
    return [(row.event_type, row.detail) for row in rows.order_by(RiskEventRow.id)]


def test_a_daily_loss_halt_landing_mid_press_keeps_the_press_on_record(
    store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daily-loss halt lands between the fleet's read and its merge. Before: the row became
    ``manual_kill`` ("kill switch from the fleet by ...") while the press was reported as
    "already halted (manual_kill)" and no event recorded who pressed it. Now: reported as
    halted by this press, the row halted until reset, one ``manual_kill`` event whose words
    name the press and the daily-loss halt before it."""
    db = open_database(store)
    try:
        _trading_account(db)
        landed = _halt_between_read_and_merge(monkeypatch, DAILY_LOSS, "lost 6% today")
        outcome = halt_account(db, ACCOUNT, "tui-trader fleet halt", sessions=1)
        row = read_risk_state(db, ACCOUNT)
        events = _events()
    finally:
        db.close()
    assert landed, "the daily-loss halt did not land"
    assert outcome.halted_now and outcome.reason == MANUAL_KILL
    assert row is not None and row.halted and row.halt_reason == MANUAL_KILL
    assert [kind for kind, _ in events] == [MANUAL_KILL]
    said = events[0][1]
    assert said == row.halt_detail
    assert said.startswith("kill switch from the fleet by ") and "via tui-trader fleet halt" in said
    assert f"(halted before that for {DAILY_LOSS}: lost 6% today)" in said


def test_a_lasting_halt_landing_mid_press_stands_untouched(
    store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drawdown halt (until reset) lands between the fleet's read and its merge: it came
    first and stands word for word; the press says the account was already halted for it and
    records nothing of its own."""
    db = open_database(store)
    try:
        _trading_account(db)
        landed = _halt_between_read_and_merge(monkeypatch, DRAWDOWN, "down 6% from the peak")
        outcome = halt_account(db, ACCOUNT, "tui-trader fleet halt")
        row = read_risk_state(db, ACCOUNT)
        events = _events()
    finally:
        db.close()
    assert landed, "the drawdown halt did not land"
    assert not outcome.halted_now and outcome.reason == DRAWDOWN
    assert row is not None and row.halt_reason == DRAWDOWN
    assert row.halt_detail == "down 6% from the peak"
    assert events == []


def test_a_press_on_an_account_halted_for_the_day_makes_the_halt_last_until_reset(
    store: Path | PgUrl,
) -> None:
    """The account was already halted for its daily loss (which lifts by itself on the next
    trading day) when someone pressed the kill switch in the fleet. Before: "already halted
    (daily_loss_limit)", nothing written, and the account traded again the next day. Now the
    press stands: the row says ``manual_kill`` until reset, its words name the daily-loss halt
    before it, and one ``manual_kill`` event records who pressed it."""
    db = open_database(store)
    try:
        state = _trading_account(db)
        manager = RiskManager(RiskLimits(), state)
        manager.halt(DAILY_LOSS, 940.0, 1000.0, "lost 6% today")
        sync_risk_state(db, state, manager.state)
        outcome = halt_account(db, ACCOUNT, "tui-trader fleet halt")
        row = read_risk_state(db, ACCOUNT)
        events = _events()
    finally:
        db.close()
    assert outcome.halted_now and outcome.reason == MANUAL_KILL
    assert row is not None and row.halted and row.halt_reason == MANUAL_KILL
    assert [kind for kind, _ in events] == [MANUAL_KILL]
    assert "via tui-trader fleet halt" in events[0][1]
    assert f"(halted before that for {DAILY_LOSS}: lost 6% today)" in row.halt_detail
