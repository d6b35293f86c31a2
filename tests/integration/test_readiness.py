"""The paper-to-live gate: ``live readiness`` on a fresh database and after a paper record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.alpaca_helpers import alpaca_session, settle
from tui_trader.cli import main
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle

RALLY = {"SPY": 1.0, "QQQ": 1.0, "IWM": 1.0}


def test_a_fresh_database_is_not_ready(tmp_path: Path, capsys) -> None:
    """Nothing traded on paper: exit 1, ``not ready`` and the reason."""
    assert main(["live", "readiness", "--db", str(tmp_path / "fresh.db")]) == 1
    out = capsys.readouterr().out
    assert "not ready: no Alpaca paper sessions in this database" in out


def test_local_sessions_show_in_the_record_but_do_not_make_it_ready(db_path: Path, capsys) -> None:
    """A simulated session is listed with its numbers; only Alpaca paper counts for the bar."""
    session = make_session(db_path)
    for _ in range(12):
        session.run_iteration()
    session.finish("completed")
    assert main(["live", "readiness", "--db", str(db_path)]) == 1
    out = capsys.readouterr().out
    assert f"local        {session.account_key}" in out and "iterations 12" in out
    assert "not ready: no Alpaca paper sessions" in out


def test_a_damaged_database_is_named_not_a_crash(db_path: Path, capsys) -> None:
    """The gate reads the record with its own connection, past the damage scan every other
    command makes: ``live readiness`` (and ``live trading``'s gate) on a damaged file ended with
    a crash line, "DatabaseError: database disk image is malformed", exit 1."""
    session = make_session(db_path)
    for _ in range(12):
        session.run_iteration()
    session.finish("completed")
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db_path.read_bytes())
    data[4096:8192] = bytes(b ^ 0xFF for b in data[4096:8192])  # the second page, scrambled
    db_path.write_bytes(bytes(data))
    with pytest.raises(SystemExit) as refused:
        main(["live", "readiness", "--db", str(db_path)])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{db_path} is damaged" in err, err


def _paper_record(sandbox: SandboxHandle, db: Path, cycles: int) -> str:
    """Trade the sandbox's paper account through a rally; returns the account key."""
    session = alpaca_session(sandbox, db, learning=LearningSettings("trend"))
    for n in range(cycles):
        sandbox.admin.step(shock=RALLY if n < 8 else None)
        session.run_iteration()
    settle(sandbox, session)
    session.finish("completed")
    session.broker.close()
    return session.account_key


def test_a_positive_paper_record_in_the_sandbox_is_ready(
    sandbox: SandboxHandle, tmp_path: Path, capsys
) -> None:
    """12 cycles on the sandbox's paper account through a rally: ``ready``, exit 0; a higher
    bar given as options is ``not ready`` with the shortfall."""
    db = tmp_path / "paper.db"
    account = _paper_record(sandbox, db, 12)
    assert main(["live", "readiness", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"alpaca paper {account}" in out and "iterations 12" in out
    assert f"ready (paper record of {account})" in out
    assert main(["live", "readiness", "--db", str(db), "--min-iterations", "50"]) == 1
    out = capsys.readouterr().out
    assert f"not ready: {account}: 12 iterations, at least 50 needed" in out
