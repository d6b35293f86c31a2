"""``risk reset`` stopped between lifting the halt and writing its audit row.

The reset lifts the halt in the account's ``risk_state`` row and records a ``risk_reset`` risk
event. They were two commits: a reset killed (kill -9, Ctrl+C, a full disk) between them left
the account re-armed with no record of who re-armed it. Now both commit in one transaction.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_session
from tui_trader.cli import main, risk_cmd
from tui_trader.store.models import database


def _halted_account(db: Path) -> None:
    """An Alpaca account halted by hand (ctrl+k), its session ended."""
    session = make_session(db, account_key="alpaca:PA1")
    session.request_kill(who="test")
    session.run_iteration()
    session.finish("stopped")
    database.obj.close()


def _state_and_events(db: Path) -> tuple[str, list[str]]:
    """The account's risk state and its risk events, oldest first."""
    with sqlite3.connect(db) as con:
        state = con.execute("SELECT state FROM risk_state WHERE account_key='alpaca:PA1'")
        events = [r[0] for r in con.execute("SELECT event_type FROM live_risk_events")]
        return state.fetchone()[0], events


def test_a_reset_interrupted_before_its_audit_row_leaves_the_account_halted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the account was ``active`` with only the ``manual_kill`` event recorded."""
    db = tmp_path / "k.db"
    _halted_account(db)

    def interrupted(*args: object, **kwargs: object) -> None:
        """The process stops as the audit row is about to be written (Ctrl+C here)."""
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(risk_cmd.RiskEventRow, "create", interrupted)
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            main(["risk", "reset", "--yes", "--db", str(db)])
        database.obj.close()
    assert _state_and_events(db) == ("halted", ["manual_kill"])
    capsys.readouterr()
    assert main(["risk", "reset", "--yes", "--db", str(db)]) == 0
    database.obj.close()
    assert _state_and_events(db) == ("active", ["manual_kill", "risk_reset"])
