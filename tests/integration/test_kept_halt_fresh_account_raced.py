"""Two first starts of an account with no risk row yet write its kept halt once.

A halt a desk decided while its store was lost waits in a file until a start writes it to the
store (``engine.kept_halts``). The start locks the account's risk row first, then writes only
the halts no one wrote meanwhile. An account with no row yet (a new store: the old one was
lost) had nothing to lock; on PostgreSQL an ``UPDATE`` of no row locks nothing, so two starts at
once both found the halt unwritten and both wrote it: the account's history showed one drawdown
halt twice. Now the lock creates the row first (``store.risk_store.lock_risk_row``) and holds.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import tui_trader.engine.kept_halts as kept_halts
from tests.integration.test_halt_kept_on_lost_store import ACCOUNT
from tests.integration.test_kept_halt_reset import _keep
from tui_trader.core.clock import FrozenClock
from tui_trader.core.domain import RiskEvent
from tui_trader.risk.gate import DRAWDOWN, RiskManager
from tui_trader.risk.limits import RiskLimits
from tui_trader.risk.state import RiskState
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import RiskEventRow, RiskStateRow, database
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.statements import load_risk_state

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _waits_on_a_lock(store: Path | PgUrl) -> bool:
    """Whether a connection to the store waits on a lock now: on PostgreSQL the server says
    so; on SQLite, a connection of this check's own cannot take the write lock now (whoever
    comes next waits for it)."""
    if isinstance(store, Path):
        conn = sqlite3.connect(store, timeout=0)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            return "locked" in str(exc)
        finally:
            conn.close()
        return False
    probe = open_database(store)
    try:
        row = probe.execute_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        ).fetchone()
    finally:
        probe.close()
    return bool(row[0])


def test_two_first_starts_write_a_fresh_accounts_kept_halt_once(
    store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start one finds the kept halt unwritten and holds there; start two begins. With the row
    locked, start two waits for start one's commit, then finds the halt written; unlocked, it
    finds it unwritten too. The halt's row is in the history once, the account halted."""
    db = open_database(store)
    database.initialize(db)
    assert RiskStateRow.get_or_none(RiskStateRow.account_key == ACCOUNT) is None, "not new"
    _keep(db)
    real = kept_halts.unwritten
    first_held, second_entered, second_looked = (threading.Event() for _ in range(3))

    def held(markers: list[Any], account_key: str) -> list[Any]:
        """The starts' look for halts no one wrote; the first holds until the second has
        looked too, or waits on the first's lock."""
        fresh = real(markers, account_key)
        if threading.current_thread().name == "second":
            second_looked.set()
            return fresh
        first_held.set()
        for _ in range(3000):  # (at most a minute: the test fails rather than hangs)
            if second_looked.is_set() or (second_entered.is_set() and _waits_on_a_lock(store)):
                break
            second_looked.wait(0.02)
        else:
            raise AssertionError("the second start neither looked nor waited")
        return fresh

    monkeypatch.setattr(kept_halts, "unwritten", held)
    written: dict[str, list[RiskEvent]] = {}
    errors: list[BaseException] = []

    def start(name: str) -> None:
        """One start's write of the account's kept halts (``SessionLifecycle``'s)."""
        try:
            if name == "second":
                second_entered.set()
            audit = AuditLog(db, FrozenClock(NOW), commit_before_send=True)
            risk = RiskManager(RiskLimits(), RiskState(ACCOUNT))
            written[name], _notes = kept_halts.honour_kept_halt(audit, risk, ACCOUNT, NOW)
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)
        finally:
            db.close()

    first = threading.Thread(target=start, args=("first",), name="first")
    second = threading.Thread(target=start, args=("second",), name="second")
    first.start()
    assert first_held.wait(60), "the first start did not find the kept halt"
    second.start()
    first.join(60)
    second.join(60)
    try:
        assert not errors, errors
        rows = RiskEventRow.select().where(RiskEventRow.event_type == DRAWDOWN)
        kept = [r.action_taken for r in rows if "where it was kept while" in r.action_taken]
        assert len(kept) == 1, f"the kept halt is in the account's history {len(kept)} times"
        assert [len(written["first"]), len(written["second"])] == [1, 0], written
        state = load_risk_state(ACCOUNT)
        assert state.halted and state.halt_reason == DRAWDOWN, state
    finally:
        db.close()
