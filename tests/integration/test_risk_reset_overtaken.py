"""``risk reset`` overtaken by a new halt while its user typed 'reset' restarts nothing.

The reset lifts the halt its user saw and restarts the drawdown peak from the last equity. When
another halt is written meanwhile, the reset says so ("not reset: ... halted again meanwhile")
and exit 1, and the halt stands. But the peak was restarted all the same, committed with the
message: once that halt ended (a daily-loss halt ends by itself the next trading day) the
account traded with its drawdown allowance re-armed from the lower equity, by a reset its user
was told did not happen. Now the peak stays the account's.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import make_session
from tui_trader.cli import main, risk_cmd
from tui_trader.core.domain import TradingState
from tui_trader.risk.state import DAILY_LOSS
from tui_trader.store.models import database
from tui_trader.store.risk_store import read_risk_state, sync_risk_state

ACCOUNT = "alpaca:PA1"
PEAK = 250_000.0
"""The account's peak, far above what its last snapshot shows (a reset would restart it there)."""


def _peak_and_state(db: Path) -> tuple[float, str]:
    """The account's drawdown peak and trading state as the row holds them."""
    with sqlite3.connect(db) as con:
        row = con.execute(
            "SELECT peak_equity, state FROM risk_state WHERE account_key = ?", (ACCOUNT,)
        ).fetchone()
    return row[0], row[1]


def test_a_reset_overtaken_by_a_halt_leaves_the_peak_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: exit 1, "not reset", and the peak restarted from 250,000 to the last equity."""
    db = tmp_path / "desk.db"
    session = make_session(db, account_key=ACCOUNT)
    session.run_iteration()
    session.finish("stopped")
    database.obj.close()
    with sqlite3.connect(db) as con:
        con.execute("UPDATE risk_state SET peak_equity = ?", (PEAK,))

    def halted_while_typing(*args: object) -> bool:
        """The user types 'reset'; meanwhile a session on the account trips its daily loss."""
        row = read_risk_state(database.obj, ACCOUNT)
        assert row is not None and not row.halted
        loss = replace(row, state=TradingState.HALTED, halt_reason=DAILY_LOSS, halt_detail="x")
        sync_risk_state(database.obj, row, loss)
        return True

    monkeypatch.setattr(risk_cmd, "confirmed_by_typing", halted_while_typing)
    assert main(["risk", "reset", "--db", str(db), "--account", ACCOUNT]) == 1
    database.obj.close()
    assert "not reset" in capsys.readouterr().out
    assert _peak_and_state(db) == (PEAK, "halted")
