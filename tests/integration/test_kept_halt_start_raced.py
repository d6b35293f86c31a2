"""A start and a ``risk reset`` at once write a halt kept on disk to the account's history once.

A halt a desk decided while its store was lost waits in a file until a start or a reset writes
it to the store (``engine.kept_halts``). Two resets at once were made to write it once (the
second finds the first's row once it holds the account's row). A start racing a reset was not:
the start found the file, the reset wrote the halt, lifted it and removed the file, then the
start wrote the halt again and halted the account again. The history showed one drawdown halt
twice, and the account the trader had just reset ("trading ACTIVE") was halted by a halt already
ended. Now the start, once it holds the account's row, writes only what no one wrote meanwhile.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import tui_trader.engine.kept_halts as kept_halts
from tests.integration.cli_helpers import run_cli
from tests.integration.test_halt_kept_on_lost_store import ACCOUNT, _crash_session
from tests.integration.test_kept_halt_reset import kept_after_a_session
from tui_trader.risk.gate import DRAWDOWN
from tui_trader.store.models import RiskEventRow, database
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.statements import load_risk_state


def test_a_reset_while_a_start_writes_a_kept_halt_leaves_it_written_once(
    store: Path | PgUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reset runs to its end right after the start found the kept halt's file: the halt's
    row is in the history once (the reset's), the account stays active as the reset left it,
    and the start says no drawdown halt of its own."""
    path, where = kept_after_a_session(store)
    env = {"XDG_STATE_HOME": os.environ["XDG_STATE_HOME"]}
    found = kept_halts.find_markers
    resets: list[Any] = []

    def reset_meanwhile(*args: Any, **kwargs: Any) -> Any:
        """The start's look for kept halts; a reset of the account runs right after it."""
        markers = found(*args, **kwargs)
        if markers and not resets:
            resets.append(
                run_cli(
                    tmp_path, "risk", "reset", "--db", where, "--account", ACCOUNT, "--yes", env=env
                )
            )
        return markers

    monkeypatch.setattr(kept_halts, "find_markers", reset_meanwhile)
    following = _crash_session(store)
    try:
        assert resets, "the start did not find the kept halt"
        assert resets[0].returncode == 0, resets[0].stderr
        assert f"ended the halt ({DRAWDOWN}) kept on disk" in resets[0].stdout, resets[0].stdout
        assert not path.exists()
        database.initialize(following.audit.db)
        rows = RiskEventRow.select().where(RiskEventRow.event_type == DRAWDOWN)
        written = [r.action_taken for r in rows if "where it was kept while" in r.action_taken]
        assert len(written) == 1, f"the kept halt is in the history {len(written)} times"
        assert "written by risk reset from" in written[0], written
        assert not [e for e in following.startup_events if e.event_type == DRAWDOWN]
        assert not following.risk.state.halted, "the start halted again on a halt reset"
        assert not load_risk_state(ACCOUNT).halted, "the account is halted after its reset"
    finally:
        following.audit.db.close()
