"""``db restore`` asks before it replaces an audit database, and off a terminal needs ``--yes``.

It replaced the database without a word (the README and hunt14's commit said it asked): every
order, fill and risk event written since the backup left the file sessions and reports read.
"""

from __future__ import annotations

import io
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.cli_helpers import read_until, start_cli_on_terminal
from tui_trader.cli import main


def _database_and_later_backup(tmp_path: Path) -> tuple[Path, Path]:
    """A database with a session, its backup, then one more session on the database."""
    db = tmp_path / "audit.db"
    make_session(db).finish("completed")
    assert main(["db", "backup", "--db", str(db), "--to", str(tmp_path / "bk")]) == 0
    (backup,) = (tmp_path / "bk").iterdir()
    make_session(db).finish("completed")
    return db, backup


def _sessions(db: Path) -> int:
    """Session rows in a database file."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
    finally:
        conn.close()


def test_off_a_terminal_a_restore_without_yes_is_refused(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script's restore without --yes: one line, exit 2, the database left as it was
    and nothing set aside (even with 'restore' waiting on its standard input)."""
    db, backup = _database_and_later_backup(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("restore\n"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        main(["db", "restore", str(backup), "--db", str(db)])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        f"tui-trader: error: refusing to replace {db} without confirmation: run in a terminal "
        "or pass --yes\n"
    )
    assert _sessions(db) == 2  # both sessions still there
    assert not list(tmp_path.glob("audit.replaced-*"))


@pytest.mark.parametrize(("answer", "code"), [("restore", 0), ("yes", 2)])
def test_on_a_terminal_restore_asks_for_the_word(tmp_path: Path, answer: str, code: int) -> None:
    """On a terminal it says what goes and asks for 'restore' typed in full: that replaces the
    database (the old one kept aside); anything else changes nothing, exit 2."""
    db, backup = _database_and_later_backup(tmp_path)
    proc, master = start_cli_on_terminal(tmp_path, "db", "restore", str(backup), "--db", str(db))
    try:
        shown = read_until(proc, b"to replace it: ")
        assert f"This replaces the audit database {db} with the backup {backup}".encode() in shown
        os.write(master, f"{answer}\n".encode())
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err
    if code == 0:
        assert _sessions(db) == 1  # the backup's one session
        (aside,) = tmp_path.glob("audit.replaced-*.db")
        assert _sessions(aside) == 2
        assert f"restored {db} from {backup}".encode() in out
    else:
        assert err.decode() == "tui-trader: error: not restored: nothing was changed\n"
        assert _sessions(db) == 2  # both sessions still there
        assert not list(tmp_path.glob("audit.replaced-*"))


def test_a_session_started_while_the_question_waits_stops_the_restore(tmp_path: Path) -> None:
    """The running sessions are looked for again after the answer: a session started while
    the user read the question keeps its database (refused, nothing set aside)."""
    from tui_trader.ops.backup import BackupError, restore_database

    db, backup = _database_and_later_backup(tmp_path)
    started = []

    def answer_while_a_session_starts(source: object) -> None:
        session = make_session(db)
        session.run_iteration()
        started.append(session.audit.session.key)

    with pytest.raises(BackupError, match="a session is running on"):
        restore_database(backup, db, confirm=answer_while_a_session_starts)
    assert started and _sessions(db) == 3
    assert not list(tmp_path.glob("audit.replaced-*"))
