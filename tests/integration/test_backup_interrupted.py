"""An interrupted ``db backup`` leaves nothing behind: its unfinished copy is deleted at once.

The copy is written as ``NAME.db.part`` and renamed once verified. Ctrl+C during the copy or its
verification left the ``.part`` file beside the backups (KeyboardInterrupt passed the cleanup),
and SIGTERM ended the process where it stood; only a later backup's rotation swept the file,
an hour on. The child process is held at a known point by a stand-in for one of backup.py's own
functions, so the signal lands mid-backup on any machine, fast or slow.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.cli_helpers import cli_env

HOLD = """
import sys, time
import tui_trader.ops.backup as backup

def hold(*args):
    print("held", file=sys.stderr, flush=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the test's signal ends the backup
        time.sleep(0.01)
    return real(*args)

if sys.argv[1] == "copy":  # between two steps of the online backup's copy
    backup.COPY_STEP_PAGES = 1
    real = backup._copying
    backup._copying = hold
else:  # the copy written, its verification starting
    real = backup.verify_database
    backup.verify_database = hold
from tui_trader.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize(
    ("where", "signum", "code"),
    [
        ("verify", signal.SIGINT, 130),
        ("verify", signal.SIGTERM, 143),
        ("copy", signal.SIGTERM, 143),
    ],
    ids=["ctrl-c-verifying", "sigterm-verifying", "sigterm-copying"],
)
def test_an_interrupted_backup_deletes_its_unfinished_copy(
    tmp_path: Path, where: str, signum: int, code: int
) -> None:
    """Ctrl+C or SIGTERM mid-backup: 'interrupted', exit 130 (Ctrl+C) or 143 (SIGTERM), and
    the backup folder holds nothing that could be taken for a backup."""
    db, folder = tmp_path / "audit.db", tmp_path / "bk"
    session = make_session(db)
    for _ in range(3):
        session.run_iteration()
    session.finish("completed")
    args = ["db", "backup", "--db", str(db), "--to", str(folder)]
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, where, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(tmp_path),
        cwd=tmp_path,
        text=True,
    )
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline() == "held\n", "the backup never reached the hold"
        assert any(p.name.endswith(".db.part") for p in folder.iterdir())
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err
    assert err.startswith("interrupted") and err.count("\n") == 1, err
    assert list(folder.iterdir()) == []


def test_an_uninterrupted_backup_still_copies_in_steps(tmp_path: Path) -> None:
    """A database larger than one step of the copy is backed up whole (the steps add up)."""
    import sqlite3

    from tui_trader.cli import main
    from tui_trader.ops.backup import COPY_STEP_PAGES

    db = tmp_path / "audit.db"
    make_session(db).finish("completed")
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE filler (b BLOB)")
        conn.executemany(
            "INSERT INTO filler VALUES (zeroblob(4096))", [()] * (COPY_STEP_PAGES * 2 + 7)
        )
    conn.close()
    assert main(["db", "backup", "--db", str(db), "--to", str(tmp_path / "bk")]) == 0
    (copy,) = (tmp_path / "bk").iterdir()
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT count(*) FROM filler").fetchone()[0] == COPY_STEP_PAGES * 2 + 7
    conn.close()
