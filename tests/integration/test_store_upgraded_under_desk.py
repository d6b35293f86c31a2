"""A newer tui-trader upgrades the store while an older desk runs on it: the older desk stops.

A release refuses a store of a newer schema when it opens it, but a desk already running when
a newer release migrated the same store (an upgrade on one machine while a desk trades on
another) went on trading, writing rows without the newer columns' meaning. Now the session
reads the store's schema version with each heartbeat it writes and stops in one line, failing
closed (``store.upgraded``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.cli_helpers import start_cli
from tests.pg_cluster import PgCluster
from tui_trader.cli import main
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.store.models import database
from tui_trader.store.ownership import SCHEMA_VERSION

NEWER = SCHEMA_VERSION + 1


def _run_upgraded_after_three(
    db: str, upgrade: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> int:
    """``paper --iterations 400`` on ``db``, the store upgraded once the third cycle is written
    (on PostgreSQL another connection's update waits for no lock of the session's)."""
    snapshot = SessionRecords._snapshot

    def upgrade_after_three(self: TradingSession, *args: object) -> None:
        snapshot(self, *args)
        if self.iteration == 3:
            upgrade()

    monkeypatch.setattr(SessionRecords, "_snapshot", upgrade_after_three)
    try:
        code = main(["paper", "--iterations", "400", "--every", "0.01", "--db", db])
    except SystemExit as exc:
        code = int(exc.code or 0)
    database.obj.close()
    return code


def _said(out: str, err: str, where: str) -> None:
    assert err == (
        f"tui-trader: error: the audit {where} was upgraded to schema {NEWER} by a newer "
        f"tui-trader while this session ran (this one writes schema {SCHEMA_VERSION}): trading "
        "stopped, no order sent with rows the newer schema does not expect (start the session "
        "again with the newer tui-trader to go on)\n"
    )
    assert "Traceback" not in out + err


def test_a_desk_on_sqlite_stops_once_a_newer_release_upgraded_its_file(tmp_path: Path) -> None:
    """``tui-trader paper`` as a child process; the test, as the newer release, marks the file
    once the desk has written three cycles. Before: the desk ran all its cycles (exit 0)."""
    path = tmp_path / "desk.db"
    proc = start_cli(
        tmp_path, "paper", "--iterations", "3000", "--every", "0.01", "--db", str(path)
    )
    try:
        deadline = time.monotonic() + 60
        while _cycles(path) < 3:
            assert proc.poll() is None and time.monotonic() < deadline, "the desk did not run"
            threading.Event().wait(0.05)
        newer = sqlite3.connect(path, timeout=30)
        newer.execute(f"PRAGMA user_version = {NEWER}")
        newer.commit()
        newer.close()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out[-2000:]
    _said(out, err, f"database {path}")
    assert "iter=3000 " not in out


def _cycles(path: Path) -> int:
    """Cycles the desk's session row says it has run (0 before the row is there)."""
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT max(iterations) FROM sessions").fetchone()
    except sqlite3.OperationalError:  # no table yet
        return 0
    finally:
        conn.close()
    return int(row[0] or 0) if row else 0


def test_a_desk_on_postgresql_stops_once_a_newer_release_upgraded_the_store(
    pg_cluster: PgCluster,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = pg_url.rsplit("/", 1)[1]

    def upgrade() -> None:
        pg_cluster.admin(
            f"UPDATE tui_trader_meta SET value = '{NEWER}' WHERE key = 'schema_version'", name
        )

    code = _run_upgraded_after_three(pg_url, upgrade, monkeypatch)
    out, err = capsys.readouterr()
    assert code == 1, out
    _said(out, err, "PostgreSQL store")
    assert "iter=400 " not in out, "the desk ran all its cycles on the upgraded store"
