"""Files we create are readable by their owner only (issue 12, section 3): the database and its
``-wal``/``-shm``, crash and library logs, the history browser's CSV exports, ``data export``.

Run under the common umask 022, under which a plain ``open`` makes files every user can read.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.fake_yahoo import FakeYahoo
from tui_trader.cli import main
from tui_trader.cli.logs import log_dir, report_crash, setup_logging
from tui_trader.store import browse
from tui_trader.store.db import open_database


def _mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _umask_022() -> Iterator[None]:
    """The usual umask: group and others may read what is not made private."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> int:
    """Run the command line in this process; its exit code."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    capsys.readouterr()
    return code


def test_a_new_database_its_log_files_and_its_folders_are_owner_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new" / "deeper" / "audit.db"
    assert _run(capsys, "paper", "--iterations", "3", "--db", str(path)) == 0
    wal, shm = path.with_name("audit.db-wal"), path.with_name("audit.db-shm")
    # paper closes its connection as it ends: the write-ahead log is folded back and removed
    assert not wal.exists()
    assert _mode(path) == 0o600
    assert _mode(tmp_path / "new") == 0o700 and _mode(tmp_path / "new" / "deeper") == 0o700
    # while a connection writes (a session running), its log files are as private as the file
    db = open_database(path, create=False)
    try:
        db.execute_sql("UPDATE sessions SET status = status")
        assert wal.exists() and shm.exists()
        assert {p.name: _mode(p) for p in (wal, shm)} == {
            "audit.db-wal": 0o600,
            "audit.db-shm": 0o600,
        }
    finally:
        db.close()


def test_an_existing_database_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    """Only files we create are made private; we do not change a user's own choice."""
    path = tmp_path / "shared.db"
    open_database(path).close()
    os.chmod(path, 0o640)
    open_database(path).close()
    assert _mode(path) == 0o640


def test_crash_log_and_library_log_are_owner_only() -> None:
    report_crash(RuntimeError("boom"))
    folder = log_dir()
    assert _mode(folder) == 0o700
    assert _mode(folder / "crash.log") == 0o600
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        path = setup_logging()
        logging.getLogger("tui_trader").info("a line")
        assert _mode(path) == 0o600
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()


def test_history_export_is_owner_only(tmp_path: Path) -> None:
    db = open_database(tmp_path / "audit.db")
    try:
        out = tmp_path / "exports" / "orders.csv"
        browse.export_csv("orders", browse.HistoryFilter(), out)
        assert _mode(out) == 0o600 and _mode(out.parent) == 0o700
    finally:
        db.close()


def test_data_export_is_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FakeYahoo(recent=True)
    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TUI_TRADER_YAHOO_URL", server.url)
    try:
        assert _run(capsys, "data", "fetch", "--symbols", "SPY", "--period", "1mo") == 0
        out = tmp_path / "out" / "spy.csv"
        assert _run(capsys, "data", "export", "--symbol", "SPY", "--out", str(out)) == 0
        assert _mode(out) == 0o600 and _mode(out.parent) == 0o700
    finally:
        server.close()


def test_backups_and_the_file_a_restore_sets_aside_are_owner_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``db backup`` wrote its copy of the owner-only database 0644 in a 0755 folder, and
    ``db restore`` set the replaced database aside 0644: whole copies of the audit trail every
    user of the machine could read (the periodic ``--backup-every`` copies too, the same code).
    A restore onto a new path makes that file owner-only as well."""
    db = tmp_path / "audit.db"
    open_database(db).close()
    assert _run(capsys, "db", "backup", "--db", str(db), "--to", str(tmp_path / "bk")) == 0
    (backup,) = (tmp_path / "bk").glob("audit-*.db")
    assert _mode(tmp_path / "bk") == 0o700 and _mode(backup) == 0o600
    assert _run(capsys, "db", "restore", str(backup), "--db", str(db), "--yes") == 0
    (aside,) = tmp_path.glob("audit.replaced-*.db")
    assert _mode(aside) == 0o600 and _mode(db) == 0o600
    fresh = tmp_path / "fresh.db"
    assert _run(capsys, "db", "restore", str(backup), "--db", str(fresh)) == 0
    assert _mode(fresh) == 0o600
