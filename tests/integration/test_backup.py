"""Backups: consistent copies while a session writes, verification, restore, rotation."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.cli_helpers import start_cli
from tests.integration.ops_servers import wait_for, webhook
from tui_trader.cli import main
from tui_trader.ops.alerts import AlertPolicy
from tui_trader.ops.session_ops import OpsSettings, attach_ops


def _count(db: Path, table: str = "live_orders") -> int:
    """Rows in a table, read with a fresh connection."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def _orders_so_far(db: Path) -> int:
    """Order rows of a database a child process is still creating (0 before its tables)."""
    try:
        return _count(db)
    except sqlite3.OperationalError:
        return 0


def test_backup_taken_while_a_session_writes_is_whole(tmp_path: Path, capsys) -> None:
    """``db backup`` during a running session leaves one verified file; after the session ends
    a backup holds exactly the database's live_orders."""
    db, folder = tmp_path / "live.db", tmp_path / "bk"
    proc = start_cli(tmp_path, "paper", "--iterations", "0", "--every", "0.02", "--db", str(db))
    try:
        wait_for(lambda: _orders_so_far(db) >= 3, timeout=60)
        assert main(["db", "backup", "--db", str(db), "--to", str(folder)]) == 0
        assert proc.poll() is None  # the session was writing all along
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    files = list(folder.iterdir())
    assert len(files) == 1 and files[0].suffix == ".db"
    out = capsys.readouterr().out
    assert f"backup verified: {files[0]}" in out
    assert main(["db", "verify", str(files[0])]) == 0
    assert _count(files[0]) >= 3
    after = tmp_path / "after"
    assert main(["db", "backup", "--db", str(db), "--to", str(after)]) == 0
    (copy,) = after.iterdir()
    assert _count(copy) == _count(db) and _count(copy, "sessions") == 1


def test_restore_round_trips_and_keeps_the_replaced_file(db_path: Path, tmp_path: Path) -> None:
    """Back up, trade on, restore: the database is the backup again; the later one is aside."""
    session = make_session(db_path)
    for _ in range(10):
        session.run_iteration()
    session.finish("completed")
    assert main(["db", "backup", "--db", str(db_path), "--to", str(tmp_path / "bk")]) == 0
    (backup,) = (tmp_path / "bk").iterdir()
    saved = _count(db_path, "live_account_snapshots")
    later = make_session(db_path)
    for _ in range(5):
        later.run_iteration()
    later.finish("completed")
    grown = _count(db_path, "live_account_snapshots")
    assert grown > saved
    assert main(["db", "restore", str(backup), "--db", str(db_path), "--yes"]) == 0
    assert _count(db_path, "live_account_snapshots") == saved
    (aside,) = tmp_path.glob("audit.replaced-*.db")
    assert _count(aside, "live_account_snapshots") == grown


def test_restore_refuses_while_a_session_runs(db_path: Path, tmp_path: Path, capsys) -> None:
    """A running session's database is not replaced; nothing changes."""
    done = make_session(db_path)
    done.run_iteration()
    done.finish("completed")
    assert main(["db", "backup", "--db", str(db_path), "--to", str(tmp_path / "bk")]) == 0
    (backup,) = (tmp_path / "bk").iterdir()
    running = make_session(db_path)
    running.run_iteration()
    before = _count(db_path, "live_account_snapshots")
    assert main(["db", "restore", str(backup), "--db", str(db_path), "--yes"]) == 1
    err = capsys.readouterr().err
    assert f"a session is running on {db_path} ({running.audit.session.key})" in err
    assert _count(db_path, "live_account_snapshots") == before
    assert not list(tmp_path.glob("audit.replaced-*"))


def test_verify_refuses_a_damaged_or_foreign_file(tmp_path: Path, capsys) -> None:
    """Not SQLite, or SQLite without our tables: exit 1 with the reason."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert main(["db", "verify", str(junk)]) == 1
    assert "not a readable SQLite database" in capsys.readouterr().err
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert main(["db", "verify", str(foreign)]) == 1
    assert "not a tui-trader database" in capsys.readouterr().err


def test_a_file_name_that_names_nothing_is_a_usage_error(tmp_path: Path, capsys) -> None:
    """A mistyped FILE for verify or restore: one line, exit 2 (input to fix), as every other
    command treats a path that is not there; exit 1 stays for a check that failed."""
    missing = tmp_path / "backups" / "nope.db"
    with pytest.raises(SystemExit) as verify:
        main(["db", "verify", str(missing)])
    assert verify.value.code == 2
    err = capsys.readouterr().err
    assert err == f"tui-trader: error: {missing}: no such file\n"
    db = tmp_path / "audit.db"
    with pytest.raises(SystemExit) as restore:
        main(["db", "restore", str(tmp_path), "--db", str(db)])
    assert restore.value.code == 2
    err = capsys.readouterr().err
    assert err == f"tui-trader: error: {tmp_path}: a folder, not a database file\n"
    assert not db.exists()


def test_periodic_backups_rotate(db_path: Path, tmp_path: Path) -> None:
    """``--backup-every`` takes backups in the background; ``--backup-keep`` keeps the newest."""
    session = make_session(db_path)
    folder = tmp_path / "bk"
    settings = OpsSettings(backup_every=0.001, backup_keep=2, backup_dir=folder)
    ops = attach_ops(session, settings, db_path, print)
    for _ in range(5):
        session.run_iteration()
    wait_for(lambda: len(ops.backups) >= 4)
    ops.close()
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == sorted(p.name for p in ops.backups[-2:])


def test_rotation_removes_the_unfinished_copy_a_killed_backup_left(
    db_path: Path, tmp_path: Path, capsys
) -> None:
    """A backup killed mid-copy leaves ``NAME.db.part``. Before, rotation never removed it: each
    killed backup left a copy of the whole database on the disk for good. A stale one (untouched
    for an hour) goes with the next rotation; one being written now is left alone."""
    session = make_session(db_path)
    session.run_iteration()
    session.finish("stopped")
    folder = tmp_path / "bk"
    assert main(["db", "backup", "--db", str(db_path), "--to", str(folder)]) == 0
    killed = folder / f"{db_path.stem}-20260101T000000000000Z.db.part"
    killed.write_bytes(b"half a copy")
    os.utime(killed, (time.time() - 7200, time.time() - 7200))
    writing = folder / f"{db_path.stem}-20260101T000001000000Z.db.part"
    writing.write_bytes(b"a copy being written")
    capsys.readouterr()
    assert main(["db", "backup", "--db", str(db_path), "--to", str(folder)]) == 0  # keep all
    assert (
        "removed 1 unfinished copy(ies) left by a backup that was killed" in capsys.readouterr().out
    )
    assert not killed.exists()
    assert writing.exists()
    assert len(list(folder.glob("*Z.db"))) == 2


def test_a_failed_backup_is_alerted_recorded_and_trading_goes_on(
    db_path: Path, tmp_path: Path
) -> None:
    """A backup folder that cannot exist: an alert, a risk event row, a line; cycles go on."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    lines: list[str] = []
    session = make_session(db_path)
    with webhook() as hook:
        settings = OpsSettings(
            alerts=(hook.url,),
            backup_every=0.001,
            backup_dir=blocker / "bk",
            policy=AlertPolicy(deadline=5),
        )
        ops = attach_ops(session, settings, db_path, lines.append)
        wait_for(lambda: any(b["title"].endswith("backup_failed") for b in hook.bodies))
        for _ in range(3):
            assert session.run_iteration() is not None
        ops.close()
    assert any(line.startswith("backup failed (trading continues)") for line in lines)
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            "SELECT account_key, action_taken FROM live_risk_events WHERE event_type = ?",
            ("backup_failed",),
        ).fetchone()
    assert row == (session.account_key, "trading continues")


def test_verify_and_restore_leave_no_log_files_beside_a_closed_database(
    tmp_path: Path,
) -> None:
    """A closed database in WAL mode stays one file after ``db verify`` and ``db restore``."""
    db = tmp_path / "closed #1.db"
    made = subprocess.run(  # its own process, so the database is closed when it ends
        [sys.executable, "-m", "tui_trader", "paper", "--db", str(db), "--iterations", "5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    orders = _count(db)
    assert main(["db", "verify", str(db)]) == 0
    assert main(["db", "backup", "--db", str(db), "--to", str(tmp_path / "bk")]) == 0
    (backup,) = (tmp_path / "bk").iterdir()
    assert main(["db", "restore", str(backup), "--db", str(db), "--yes"]) == 0
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(("-wal", "-shm")))
    assert leftovers == []
    assert _count(db) == orders


@pytest.mark.parametrize("missing", ["nowhere.db"])
def test_backup_of_a_missing_database_is_one_line(tmp_path: Path, capsys, missing: str) -> None:
    """No database: exit 2, one line."""
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "backup", "--db", str(tmp_path / missing)])
    assert exit_info.value.code == 2
    assert "no database at" in capsys.readouterr().err


def test_a_backup_folder_that_is_a_file_is_refused_before_anything_runs(
    db_path: Path, tmp_path: Path, capsys
) -> None:
    """``db backup --to FILE`` failed as a check (exit 1, "cannot create the backup folder");
    ``paper --backup-every 1 --backup-dir FILE`` started the session, and each of its backups
    would have failed. Both are a mistyped argument: one line, exit 2, nothing written."""
    make_session(db_path)  # a database to back up
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    for argv in (
        ["db", "backup", "--db", str(db_path), "--to", str(blocker)],
        ["paper", "--backup-every", "1", "--backup-dir", str(blocker), "--db", "new.db"],
    ):
        with pytest.raises(SystemExit) as refused:
            main(argv)
        assert refused.value.code == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{blocker} is a file, not a folder" in err, err
    assert not (tmp_path / "new.db").exists() and blocker.read_text() == "a file, not a folder"


def test_a_folder_option_naming_a_link_to_nothing_is_refused_before_anything_runs(
    db_path: Path, tmp_path: Path, capsys
) -> None:
    """A loop of links (or a link whose target is gone) as the backup folder: ``db backup --to``
    failed after the copy had begun ("[Errno 40] Too many levels of symbolic links", exit 1),
    and ``paper --backup-every 1 --backup-dir`` started the session, whose every backup would
    have failed; ``data list --cache-dir`` called it an empty cache. Now one line, exit 2."""
    make_session(db_path)
    loop = tmp_path / "backups"
    loop.symlink_to(loop)
    gone = tmp_path / "cache"
    gone.symlink_to(tmp_path / "deleted")
    for argv, link in (
        (["db", "backup", "--db", str(db_path), "--to", str(loop)], loop),
        (["paper", "--backup-every", "1", "--backup-dir", str(loop), "--db", "new.db"], loop),
        (["data", "list", "--cache-dir", str(gone)], gone),
    ):
        with pytest.raises(SystemExit) as refused:
            main(argv)
        assert refused.value.code == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{link} is a link to no folder" in err, err
    assert not (tmp_path / "new.db").exists()


@pytest.mark.parametrize("kind", ["junk", "foreign", "empty"])
def test_restore_of_a_file_that_is_no_database_is_a_usage_error_touching_nothing(
    db_path: Path, tmp_path: Path, capsys, kind: str
) -> None:
    """``db restore NOT_A_DB`` is the user's to fix (name another file): one line, exit 2, and
    the database in place is left byte for byte, with nothing set aside. It exited 1, as a check
    that failed."""
    done = make_session(db_path)
    done.run_iteration()
    done.finish("completed")
    before = db_path.read_bytes()
    bad = tmp_path / f"{kind}.db"
    if kind == "junk":
        bad.write_bytes(b"not a database at all" * 100)
    elif kind == "foreign":
        with sqlite3.connect(bad) as conn:
            conn.execute("CREATE TABLE t (x)")
        conn.close()
    else:
        bad.write_bytes(b"")
    capsys.readouterr()
    with pytest.raises(SystemExit) as restore:
        main(["db", "restore", str(bad), "--db", str(db_path), "--yes"])
    assert restore.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tui-trader: error: {bad} ") and err.count("\n") == 1
    assert "nothing was restored" in err
    assert db_path.read_bytes() == before
    assert not list(tmp_path.glob("audit.replaced-*"))
