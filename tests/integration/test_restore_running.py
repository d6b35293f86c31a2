"""``db restore`` and the sessions on the database it replaces: a live one, even frozen, stops
it; a dead one does not."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from tests.conftest import make_session
from tui_trader.cli import main


def _setup(tmp_path: Path) -> tuple[Path, Path, str]:
    """A database, its backup, and a session on it left ``running`` (not finished)."""
    db = tmp_path / "audit.db"
    make_session(db).finish("completed")
    assert main(["db", "backup", "--db", str(db), "--to", str(tmp_path / "bk")]) == 0
    (backup,) = (tmp_path / "bk").iterdir()
    session = make_session(db)
    session.run_iteration()
    return db, backup, session.audit.session.key


def _set(db: Path, key: str, sql: str, *params: object) -> None:
    """Change the session row as a process that stopped or died would have left it."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        with conn:
            conn.execute(f"UPDATE sessions SET {sql} WHERE key = ?", (*params, key))
    finally:
        conn.close()


def test_a_frozen_session_still_stops_a_restore(tmp_path: Path, capsys) -> None:
    """The session's process is still there (this test's) but its heartbeat is an hour old, as
    for a desk stopped with Ctrl+Z: resumed, it would write into the file, so: refused."""
    db, backup, key = _setup(tmp_path)
    _set(
        db,
        key,
        "heartbeat_at = datetime(heartbeat_at, '-1 hour'), "
        "heartbeat_uptime = heartbeat_uptime - 3600",
    )
    assert main(["db", "restore", str(backup), "--db", str(db), "--yes"]) == 1
    assert f"a session is running on {db} ({key}): stop it before restoring" in (
        capsys.readouterr().err
    )
    assert not list(tmp_path.glob("audit.replaced-*"))


def test_a_session_whose_process_is_gone_does_not_stop_a_restore(tmp_path: Path, capsys) -> None:
    """A session killed (kill -9, a power cut) leaves its row 'running': its process gone, it
    no longer refuses the restore a damaged database may need. It did, for good ('stop it before
    restoring': there was nothing to stop)."""
    db, backup, key = _setup(tmp_path)
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: its pid names no process (or, reused, another one)
    _set(db, key, "pid = ?", gone.pid)
    assert main(["db", "restore", str(backup), "--db", str(db), "--yes"]) == 0, (
        capsys.readouterr().err
    )
    (aside,) = tmp_path.glob("audit.replaced-*.db")
    for path, sessions in ((db, 1), (aside, 2)):  # the backup's one; the dead one kept aside
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == sessions
        finally:
            conn.close()
