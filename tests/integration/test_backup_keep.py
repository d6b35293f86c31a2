"""Periodic backups are bounded by default, and a full disk fails a backup, never the desk.

``--backup-keep`` defaulted to 0, every backup kept: hourly whole copies of a growing database,
for good, until the disk was full. Now the newest 24 (``ops.backup_keep``), every one only when
asked (``all``, or 0 as before).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_session
from tui_trader.cli import build_parser
from tui_trader.ops import backup
from tui_trader.ops.session_ops import OpsSettings, attach_ops


def _old_backups(folder: Path, db: Path, count: int) -> list[Path]:
    """``count`` earlier backups of ``db`` in ``folder``, named as backups are (by UTC time)."""
    folder.mkdir(parents=True)
    made = []
    for day in range(1, count + 1):
        path = folder / f"{db.stem}-202611{day:02d}T120000000000Z.db"
        path.write_bytes(b"an earlier backup")
        made.append(path)
    return made


def test_a_session_keeps_the_newest_24_backups_unless_told(db_path: Path, tmp_path: Path) -> None:
    """Before: 30 earlier hourly backups and the new one, 31 copies, all kept."""
    args = build_parser().parse_args(["paper", "--backup-every", "60", "--db", str(db_path)])
    assert args.backup_keep == 24
    folder = tmp_path / "bk"
    earlier = _old_backups(folder, db_path, 30)
    session = make_session(db_path)
    ops = attach_ops(session, OpsSettings(backup_dir=folder), db_path, print)
    taken = ops.backup_now()
    ops.close()
    assert taken is not None
    assert sorted(folder.iterdir()) == sorted([*earlier[-23:], taken])


@pytest.mark.parametrize("spelled", ["all", "0"])
def test_every_backup_is_kept_when_asked(db_path: Path, tmp_path: Path, spelled: str) -> None:
    args = build_parser().parse_args(["paper", "--backup-keep", spelled, "--db", str(db_path)])
    assert args.backup_keep == 0
    folder = tmp_path / "bk"
    _old_backups(folder, db_path, 30)
    session = make_session(db_path)
    ops = attach_ops(session, OpsSettings(backup_dir=folder, backup_keep=0), db_path, print)
    assert ops.backup_now() is not None
    ops.close()
    assert len(list(folder.iterdir())) == 31


def test_a_backup_on_a_full_disk_is_one_line_and_the_desk_goes_on(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's own words for a full disk (SQLITE_FULL), as a copy onto a full volume gets
    them: one line, no partial copy left, the desk's cycles go on and its file stays whole."""
    real = backup._connect

    @contextlib.contextmanager
    def full_copy(path: Path, mode: str = "rwc") -> Iterator[object]:
        with real(path, mode) as conn:
            yield _FullDisk(conn) if mode == "rw" else conn  # the source copies onto it

    monkeypatch.setattr(backup, "_connect", full_copy)
    lines: list[str] = []
    folder = tmp_path / "bk"
    session = make_session(db_path)
    ops = attach_ops(session, OpsSettings(backup_dir=folder), db_path, lines.append)
    assert session.run_iteration() is not None
    assert ops.backup_now() is None
    for _ in range(3):
        assert session.run_iteration() is not None
    ops.close()
    (line,) = lines
    assert line == (
        f"backup failed (trading continues): backup of {db_path} to {folder} failed: "
        "database or disk is full"
    )
    assert list(folder.iterdir()) == []
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


class _FullDisk:
    """The database's connection, copying onto a volume with no room left."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)

    def backup(self, *args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")
