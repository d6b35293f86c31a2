"""``live monitor`` on a file an older tui-trader wrote: the monitor follows it.

The monitor opens the database without creating it; it used to skip the schema step too, so
on a file written by an older release (a session still running the old code, a copied store)
its first read named a column the file lacks and the dashboard stopped with
"OperationalError: no such column". An existing file of ours is now brought to the current
schema on open (adding nullable columns, which older writers never name), and a file that
cannot be (read-only) is refused in one plain line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli
from tui_trader.store.db import StoreError
from tui_trader.tui.monitor import DbFollower

OLDER_COLUMNS = ("unsettled", "fills_through")
"""Snapshot columns later releases added: a file from before them lacks both."""


def _older_file(tmp_path: Path) -> Path:
    """A finished paper session's store, with the snapshot columns an older release lacked."""
    db = tmp_path / "older.db"
    done = run_cli(tmp_path, "paper", "--iterations", "12", "--every", "0", "--db", str(db))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(db) as conn:
        for column in OLDER_COLUMNS:
            conn.execute(f'ALTER TABLE "live_account_snapshots" DROP COLUMN "{column}"')
    return db


def _columns(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[1] for row in conn.execute("PRAGMA table_info(live_account_snapshots)")}


def test_the_monitor_follows_a_file_an_older_release_wrote(tmp_path: Path) -> None:
    """The session's cycles show, with the equity the file recorded."""
    db = _older_file(tmp_path)
    with sqlite3.connect(db) as conn:
        (equity,) = conn.execute(
            "SELECT equity FROM live_account_snapshots ORDER BY id DESC LIMIT 1"
        ).fetchone()
    follower = DbFollower(db, "1")
    follower.open()
    reports = follower.poll()
    assert reports, "no cycle of the older file's session was shown"
    assert reports[-1].equity == pytest.approx(equity)
    assert set(OLDER_COLUMNS) <= _columns(db)


def test_an_older_file_that_cannot_be_updated_is_refused_in_plain_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file too old to read that cannot be written here (a read-only file of another user:
    as root, which the tests run as, SQLite's refusal is stood in for): one line naming the
    file, not a dashboard stopped by "no such column"."""
    db = _older_file(tmp_path)

    def refused(_db: object) -> list[str]:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr("tui_trader.store.db.migrate", refused)
    with pytest.raises(StoreError) as caught:
        DbFollower(db, "1").open()
    message = str(caught.value)
    assert "older tui-trader" in message and "read-only" in message and str(db) in message
    assert "\n" not in message
    assert not set(OLDER_COLUMNS) & _columns(db)
