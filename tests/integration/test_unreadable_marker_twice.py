"""A halt marker that cannot be read halts the start every time, not only the first time.

A file where the account's halt marker goes that cannot be read may have held a halt decided
while the store was lost: the start halts on it, writes why, and moves the file aside
(``engine.kept_halts``). Since the start writes only the kept halts whose rows are not in the
history yet (a ``risk reset`` racing it may have written them), a second unreadable file at the
same place, unreadable for the same reason, matched the first one's row word for word: the
start wrote nothing, halted nothing, moved the file aside and traded. Now an unreadable marker
always halts the start (a reset racing it at worst halts the account once more, said).
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.integration.cli_helpers import run_cli
from tests.integration.test_halt_kept_on_lost_store import ACCOUNT, _crash_session
from tui_trader.store.halt_markers import UNREADABLE, marker_path
from tui_trader.store.models import RiskEventRow, database
from tui_trader.store.statements import load_risk_state


def _start_on_a_corrupt_marker(db: Path) -> None:
    """A corrupt file where the account's marker goes; a start on it is halted and trades
    nothing."""
    first = _crash_session(db)
    path = marker_path(first.audit.db, ACCOUNT)
    first.finish("completed")
    first.audit.db.close()
    assert path is not None
    path.write_bytes(b"{not json")
    following = _crash_session(db)
    try:
        database.initialize(following.audit.db)
        state = load_risk_state(ACCOUNT)
        assert (state.halted, state.halt_reason) == (True, UNREADABLE), state
        assert [e for e in following.startup_events if e.event_type == UNREADABLE]
        report = following.run_iteration()
        assert report is not None and report.orders_sent == 0, "a start traded past the marker"
        following.finish("completed")
    finally:
        following.audit.db.close()
    assert not path.exists()


def test_a_second_unreadable_marker_at_the_same_place_halts_the_start_again(
    tmp_path: Path,
) -> None:
    """The first corrupt marker halts the start; the trader looks and resets; the same
    corruption again later halts the next start again, with a second row in the history."""
    db = tmp_path / "desk.db"
    env = {"XDG_STATE_HOME": os.environ["XDG_STATE_HOME"]}
    _start_on_a_corrupt_marker(db)
    reset = run_cli(
        tmp_path, "risk", "reset", "--db", str(db), "--account", ACCOUNT, "--yes", env=env
    )
    assert reset.returncode == 0, reset.stderr
    _start_on_a_corrupt_marker(db)
    following = _crash_session(db)
    try:
        database.initialize(following.audit.db)
        rows = RiskEventRow.select().where(RiskEventRow.event_type == UNREADABLE)
        assert len(list(rows)) == 2, "the second unreadable marker left no row"
    finally:
        following.audit.db.close()
