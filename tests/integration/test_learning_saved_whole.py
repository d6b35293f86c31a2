"""A decision cycle's learning is saved whole or not at all.

A session on a remote broker (Alpaca) commits its rows one by one, so that each order row is on
disk before its order is sent. Its learning journal wrote the same way: a cycle's weights,
regime calls and shadow records some forty commits apart. A process killed in between left the
cycle torn, and the next start restored it: the weights of some regimes only, and no shadow
records or exposure at all (the learner's evidence, from zero again). Now they commit in one
transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui_trader.core.clock import FrozenClock
from tui_trader.learning.exposure import ExposureStats
from tui_trader.learning.journal import LearningState
from tui_trader.learning.regime import RegimeCall
from tui_trader.learning.shadow import ShadowStats
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.learning_journal import StoreLearningJournal

NAMES = ("trend", "meanrev")
WHEN = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)


def _state(step: int) -> LearningState:
    """What the learner knows after cycle ``step`` (every value moves with it)."""
    regimes = ("bull/calm", "bear/volatile")
    return LearningState(
        weights={r: {"trend": 0.5 + step / 100, "meanrev": 0.5 - step / 100} for r in regimes},
        shadow={
            r: {n: ShadowStats(10 * step, step / 10, step / 100) for n in NAMES} for r in regimes
        },
        regimes={"SPY": RegimeCall("bull", "calm", 0.5 + step / 100)},
        exposure=ExposureStats(10 * step, step / 5, step / 50),
    )


def _journal(path: Path) -> StoreLearningJournal:
    """A started Alpaca-like session's journal: rows commit one by one (no cycle transaction)."""
    audit = AuditLog(open_database(path, durable=True), FrozenClock(WHEN), commit_before_send=True)
    audit.start_session("paper", "alpaca", None, "alpaca", ("SPY",), {}, "alpaca:PA1")
    return StoreLearningJournal(audit, NAMES)


def test_a_save_cut_short_leaves_the_last_whole_cycle_to_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the restart restored cycle 2's weights and regime call with no shadow records
    and no exposure (neither cycle's state)."""
    path = tmp_path / "audit.db"
    journal = _journal(path)
    journal.save(1, WHEN, _state(1))
    db = journal.audit.db
    written = db.raw_many
    calls = []

    def dies_at_the_shadow_records(sql: str, rows: list) -> None:
        """The process is killed as the third table's rows are written."""
        calls.append(sql)
        if len(calls) == 3:
            raise KeyboardInterrupt
        written(sql, rows)

    monkeypatch.setattr(db, "raw_many", dies_at_the_shadow_records)
    with pytest.raises(KeyboardInterrupt):
        journal.save(2, WHEN, _state(2))
    monkeypatch.undo()
    db.close()

    restored = _journal(path).load(NAMES)
    assert restored == _state(1)
    journal.audit.db.close()
