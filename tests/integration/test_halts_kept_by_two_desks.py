"""Two desks of one account whose store is lost at once each keep their halt on disk, and the
account's next start writes both, the first decided standing.

A PostgreSQL server gone past the desks' tries ends every desk on it at once, each keeping the
halt it held in a file (``store.halt_markers``). There was one file an account: the last desk
to write it won, so a desk that had only lost the store (``session_error``) wrote over the
drawdown kill another had decided a moment before. The next start stayed halted, but for the
store's failure: the trader deciding whether to resume never saw that the account had hit its
kill switch, and no event of it was ever written.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli_helpers import run_cli
from tests.integration.test_halt_kept_on_lost_store import ACCOUNT, _crash_session
from tui_trader.risk.gate import DRAWDOWN
from tui_trader.session.store_endings import SESSION_ERROR
from tui_trader.store.halt_markers import KeptHalt, keep_halt, store_name
from tui_trader.store.models import database
from tui_trader.store.statements import load_risk_state

WORDS = "equity 95,000.00 is 5.00% below peak 100,000.00"


def test_two_desks_keeping_halts_at_once_lose_neither_and_the_first_stands(
    tmp_path: Path,
) -> None:
    db = tmp_path / "desk.db"
    first = _crash_session(db)
    store = first.audit.db
    first.finish("completed")
    store.close()
    name = store_name(store) or ""
    # desk A's drawdown kill, then desk B's ending a moment later (it held no halt of its own)
    kill = KeptHalt(ACCOUNT, name, DRAWDOWN, WORDS, "2026-12-07T06:00:00+00:00", "a1b2c3d4_e5f6a7")
    lost = KeptHalt(
        ACCOUNT, name, SESSION_ERROR, "the audit store is gone", "2026-12-07T06:00:01+00:00", "b9"
    )
    keep_halt(store, kill)
    keep_halt(store, lost)
    listed = run_cli(tmp_path, "fleet", "--db", str(db))
    assert f"halt kept on disk for {ACCOUNT} ({DRAWDOWN}" in listed.stdout, listed.stdout
    assert f"halt kept on disk for {ACCOUNT} ({SESSION_ERROR}" in listed.stdout, listed.stdout
    following = _crash_session(db)
    try:
        database.initialize(following.audit.db)
        state = load_risk_state(ACCOUNT)
        assert (state.halted, state.halt_reason) == (True, DRAWDOWN), "the drawdown kill was lost"
        kept = [e.event_type for e in following.startup_events if "kept while" in e.action_taken]
        assert kept == [DRAWDOWN, SESSION_ERROR], following.startup_events
        assert not list(tmp_path.glob("desk.db.halt-*.json")), "a marker was left behind"
        report = following.run_iteration()
        assert report is not None and report.orders_sent == 0, "the next start traded"
    finally:
        following.audit.db.close()
