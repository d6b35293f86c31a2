"""The learning journal writes a weight or shadow row only when its value changed, and a
restart (or a kill) still restores exactly the learning the desk had.

A desk wrote every weight and shadow record every cycle (~58 rows, 60% and 69% of them equal to
the cycle before's): hundreds of MB a month for nothing. Now only what changed, every key again
at a keyframe (``store.learning_window``). Weights size positions: each case below compares the
restored learning with the desk's own, float for float, and the orders a restarted desk sends
with those of one restored from the old every-cycle format.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.cli_helpers import cli_env
from tui_trader.cli import main
from tui_trader.core.clock import FrozenClock
from tui_trader.learning.allocator import AdaptiveAllocator
from tui_trader.learning.journal import LearningState
from tui_trader.learning.regime import RegimeCall
from tui_trader.learning.setup import LearningSettings
from tui_trader.learning.shadow import ShadowStats
from tui_trader.session.local import LocalSettings, build_local_session
from tui_trader.store import learning_journal
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.learning_journal import StoreLearningJournal
from tui_trader.store.learning_models import LearningWeightRow, ShadowRow
from tui_trader.store.learning_window import KEYFRAME
from tui_trader.store.models import LiveOrder
from tui_trader.strategies.family import STRATEGY_NAMES

NAMES = ("trend", "meanrev")
WHEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def _desk(db: Path, day: int = 0):
    """A started local adaptive desk on the seeded simulated market."""
    clock = FrozenClock(WHEN + timedelta(days=day), step=timedelta(seconds=1))
    settings = LocalSettings(db=db, seed=7, learning=LearningSettings(weights="adaptive"))
    return build_local_session(settings, clock)


def _plain(state: LearningState) -> tuple:
    """Weights, shadow records and exposure as plain values (regime calls are not restored)."""
    shadow = {
        (r, n): (s.bars, s.net_return, s.last_return)
        for r, by in state.shadow.items()
        for n, s in by.items()
    }
    weights = {(r, n): w for r, by in state.weights.items() for n, w in by.items()}
    exposure = state.exposure
    sums = None if exposure is None else (exposure.bars, exposure.total, exposure.squares)
    return weights, shadow, sums


def _killed_after(db: Path, cycles: int) -> tuple:
    """Run a desk ``cycles`` cycles and drop it unfinished (a kill): what it had learned."""
    desk = _desk(db)
    for _ in range(cycles):
        desk.run_iteration()
    assert isinstance(desk.allocator, AdaptiveAllocator)
    learned = _plain(desk.allocator.state())
    desk.audit.db.close()
    return learned


def _restored(db: Path, strategies: tuple[str, ...]) -> tuple:
    """What a new session's journal loads from ``db``."""
    opened = open_database(db)
    try:
        audit = AuditLog(opened, FrozenClock(WHEN))
        state = StoreLearningJournal(audit, strategies).load(strategies)
        assert state is not None
        return _plain(state)
    finally:
        opened.close()


def test_a_killed_desk_past_a_keyframe_restores_exactly_what_it_had(tmp_path: Path) -> None:
    """Before the change every cycle was whole; now most keys' newest rows are cycles old."""
    db = tmp_path / "desk.db"
    learned = _killed_after(db, KEYFRAME + 60)
    opened = open_database(db)
    try:
        weight_rows = LearningWeightRow.select().count()
        shadow_rows = ShadowRow.select().count()
    finally:
        opened.close()
    keys = len(learned[0])
    assert weight_rows < keys * (KEYFRAME + 60) * 0.6  # far fewer than every key every cycle
    assert shadow_rows < len(learned[1]) * (KEYFRAME + 60) * 0.6
    assert _restored(db, STRATEGY_NAMES) == learned


def _journal(db: Path) -> StoreLearningJournal:
    audit = AuditLog(open_database(db), FrozenClock(WHEN))
    audit.start_session("paper", "local", None, "sim", ("SPY",), {}, "local:1")
    return StoreLearningJournal(audit, NAMES)


def _state(step: int) -> LearningState:
    """Cycle ``step``'s learning: bull/calm moves every cycle, bear/volatile never does."""
    return LearningState(
        weights={
            "bull/calm": {"trend": 0.5 + step / 10_000, "meanrev": 0.5 - step / 10_000},
            "bear/volatile": {"trend": 0.3, "meanrev": 0.7},
        },
        shadow={
            "bull/calm": {n: ShadowStats(step, step / 100, 0.01) for n in NAMES},
            "bear/volatile": {n: ShadowStats(3, 0.02, -0.01) for n in NAMES},
        },
        regimes={"SPY": RegimeCall("bull", "calm", 0.5)},
    )


def test_a_key_unchanged_for_many_cycles_is_restored(tmp_path: Path) -> None:
    """bear/volatile written at the first save and at keyframes only, then restored."""
    db = tmp_path / "a.db"
    journal = _journal(db)
    for step in range(1, 2 * KEYFRAME + 50):
        journal.save(step, WHEN, _state(step))
    still = LearningWeightRow.select().where(LearningWeightRow.regime == "bear/volatile").count()
    assert still == 2 * 3  # two strategies, at saves 1, KEYFRAME + 1, 2 * KEYFRAME + 1
    journal.audit.db.close()
    assert _restored(db, NAMES) == _plain(_state(2 * KEYFRAME + 49))


def test_an_old_every_cycle_store_still_restores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stores on users' disks hold every key every cycle: the restore reads them the same."""
    db = tmp_path / "old.db"
    monkeypatch.setattr(learning_journal, "KEYFRAME", 1)  # every save whole: the old format
    learned = _killed_after(db, 40)
    opened = open_database(db)
    try:  # the old format indeed: every cycle wrote every key
        assert LearningWeightRow.select().count() == 40 * len(learned[0])
    finally:
        opened.close()
    monkeypatch.undo()
    assert _restored(db, STRATEGY_NAMES) == learned


def test_a_cycle_rolled_back_after_its_save_is_written_again(tmp_path: Path) -> None:
    """The journal remembered cycle 3's values as written; the cycle rolled back, cycle 4
    learned nothing new, and without a full write the restart got cycle 2's weights."""
    db = tmp_path / "a.db"
    journal = _journal(db)
    audit = journal.audit
    for step in (1, 2):
        with audit.cycle():
            journal.save(step, WHEN, _state(step))
    with pytest.raises(RuntimeError), audit.cycle():
        journal.save(3, WHEN, _state(3))
        raise RuntimeError("the cycle failed after its learning was saved")
    with audit.cycle():
        journal.save(4, WHEN, _state(3))  # the same learning as the rolled-back cycle's
    audit.db.close()
    assert _restored(db, NAMES) == _plain(_state(3))


def test_a_prune_between_keeps_what_the_next_start_restores(tmp_path: Path) -> None:
    """A prune of everything before the day after keeps each key's newest row."""
    db = tmp_path / "a.db"
    journal = _journal(db)
    for step in range(1, KEYFRAME + 30):
        journal.save(step, WHEN, _state(step))
    journal.audit.db.close()
    before = _restored(db, NAMES)
    assert main(["db", "prune", "--before", "2026-11-25", "--db", str(db), "--yes"]) == 0
    opened = open_database(db)
    try:
        assert LearningWeightRow.select().count() == 4  # one row per key left
    finally:
        opened.close()
    assert _restored(db, NAMES) == before == _plain(_state(KEYFRAME + 29))


def _restart_orders(db: Path) -> tuple[list, dict]:
    """A second desk on ``db``: its first 40 cycles' orders and its weights after them."""
    desk = _desk(db, day=1)
    assert isinstance(desk.allocator, AdaptiveAllocator) and desk.allocator.restored
    for _ in range(40):
        desk.run_iteration()
    session = desk.audit.session.id
    orders = [
        (o.symbol, o.side, o.quantity, o.rationale)
        for o in LiveOrder.select().where(LiveOrder.session == session).order_by(LiveOrder.id)
    ]
    weights = _plain(desk.allocator.state())
    desk.finish("completed")
    return orders, weights


def test_a_restarted_desk_sends_the_orders_the_old_format_restore_gave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after 250 cycles and restarted: the same next orders and weights whether the
    learning was saved as changes or, as before, whole every cycle."""
    changed, whole = tmp_path / "changed.db", tmp_path / "whole.db"
    learned = _killed_after(changed, KEYFRAME + 50)
    monkeypatch.setattr(learning_journal, "KEYFRAME", 1)
    assert _killed_after(whole, KEYFRAME + 50) == learned
    monkeypatch.undo()
    new = _restart_orders(changed)
    old = _restart_orders(whole)
    assert new[0], "the restarted desk should trade"
    assert new == old


def _newest_of_every_key(db: Path) -> tuple:
    """The oracle: each weight's and shadow record's newest row over the whole store (one
    session wrote it), read with plain SQL, whatever the window."""
    conn = sqlite3.connect(db)
    try:
        weights = {
            (r, n): w
            for r, n, w in conn.execute(
                "SELECT regime, strategy, weight FROM learning_weights WHERE id IN "
                "(SELECT max(id) FROM learning_weights GROUP BY regime, strategy)"
            )
        }
        shadow = {
            (r, n): (b, net, last)
            for r, n, b, net, last in conn.execute(
                "SELECT regime, strategy, bars, net_return, last_return FROM learning_shadow "
                "WHERE id IN (SELECT max(id) FROM learning_shadow GROUP BY regime, strategy)"
            )
        }
    finally:
        conn.close()
    exposure = shadow.pop(("all", "(exposure)"), None)
    return weights, shadow, exposure


def test_a_desk_killed_9_restores_the_newest_value_of_every_key(tmp_path: Path) -> None:
    """A headless desk killed with SIGKILL past a keyframe: the restore equals each key's newest
    committed row."""
    db = tmp_path / "desk.db"
    args = ["paper", "--iterations", "0", "--every", "0", "--db", str(db)]
    with open(tmp_path / "desk.out", "w") as out:  # a file: a pipe nobody reads fills
        desk = subprocess.Popen(
            [sys.executable, "-m", "tui_trader", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=cli_env(tmp_path),
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 120
        while _cycles(db) < KEYFRAME + 40:
            assert desk.poll() is None, "the desk ended before it was killed"
            assert time.monotonic() < deadline, "the desk did not cycle"
            time.sleep(0.2)
    finally:
        desk.kill()
        desk.wait(timeout=60)
    assert _restored(db, STRATEGY_NAMES) == _newest_of_every_key(db)


def _cycles(db: Path) -> int:
    """Cycles whose regime calls are committed (every cycle writes them)."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=30)
    try:
        (count,) = conn.execute("SELECT count(DISTINCT iteration) FROM learning_regimes").fetchone()
    except sqlite3.OperationalError:  # the tables are not made yet
        return 0
    finally:
        conn.close()
    return count
