"""A halt decided while the audit store is lost survives the restart.

A desk whose store goes away (its SQLite file deleted, its PostgreSQL server stopped past
``store.pg.RECONNECT_WITHIN``) as the drawdown kill switch trips stops trading, but could not
write the halt: it lived only in the stopped process, and the account's next start, the store
back (the file restored from a copy, the server started again), read an active account and
traded. Now the ending keeps the halt in a marker file (``store.halt_markers``) and the next
start writes it to the store, says so, and stays halted; a marker that cannot be read halts too.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee
import pytest

from tests.conftest import BuyAndHold, file_rows, make_session
from tests.integration.alpaca_helpers import alpaca_session, sandbox_view
from tests.integration.cli_helpers import run_cli
from tests.integration.test_session import crash_market
from tests.pg_cluster import TRADER_PASSWORD, PgCluster, running_cluster
from tui_trader.core.domain import RiskEvent
from tui_trader.engine.session import TradingSession
from tui_trader.risk.gate import DRAWDOWN, RiskLimits, RiskManager
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.lost_store import StoreLostAtStart
from tui_trader.session.runner import SessionRunner
from tui_trader.store import pg
from tui_trader.store.audit import AuditLog
from tui_trader.store.halt_markers import (
    UNREADABLE,
    KeptHalt,
    find_markers,
    keep_halt,
    marker_path,
    store_name,
)
from tui_trader.store.models import database
from tui_trader.store.pg_url import PgUrl, parse_db_url
from tui_trader.store.statements import load_risk_state

ACCOUNT = "local:crash-desk"
NOW = "2026-12-07T06:00:00+00:00"


def _wrapped(error: Exception) -> Exception:
    """``error`` as peewee hands it to the session (the driver's error wrapped)."""
    try:
        with peewee.__exception_wrapper__:
            raise error
    except peewee.DatabaseError as wrapped:
        return wrapped
    raise AssertionError("peewee did not wrap the error")


def _crash_session(store: Path | PgUrl) -> TradingSession:
    """A desk holding the three ETFs into a staged crash: its drawdown kill switch trips."""
    return make_session(
        store,
        crash_market(),
        RiskLimits(max_daily_loss_pct=50.0, max_position_pct=40.0),
        allocation_pct=33.0,
        strategies=[BuyAndHold()],
        commit_before_send=True,
        account_key=ACCOUNT,
    )


def _store_lost_as_drawdown_trips(monkeypatch: pytest.MonkeyPatch, lose: Any) -> None:
    """``lose()`` takes the store away at the moment the drawdown kill switch is decided,
    before the halt is written."""
    halt = RiskManager.halt

    def losing(self: RiskManager, reason: str, *args: Any) -> Any:
        if reason == DRAWDOWN:
            monkeypatch.setattr(RiskManager, "halt", halt)
            lose()
        return halt(self, reason, *args)

    monkeypatch.setattr(RiskManager, "halt", losing)


def _copy(src: Path, dst: Path) -> None:
    """A consistent copy of the database (a backup; moved back, a restore)."""
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def _delete(path: Path) -> None:
    """What ``rm desk.db desk.db-wal desk.db-shm`` does."""
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        name.unlink(missing_ok=True)


def _assert_next_start_halted(store: Path | PgUrl) -> None:
    """The account's next start on the store back: halted for the drawdown, said in its
    start events, the marker gone, and its cycle sends nothing."""
    following = _crash_session(store)
    try:
        database.initialize(following.audit.db)
        state = load_risk_state(ACCOUNT)
        assert (state.halted, state.halt_reason) == (True, DRAWDOWN), "the next start trades"
        said = [e for e in following.startup_events if e.event_type == DRAWDOWN]
        assert said and "kept while the store was lost" in said[0].action_taken, (
            following.startup_events
        )
        assert "below peak" in said[0].detail, said[0].detail
        assert find_markers(following.audit.db, ACCOUNT) == [], "the marker was left behind"
        report = following.run_iteration()
        assert report is not None and report.orders_sent == 0, "the next start traded"
    finally:
        following.audit.db.close()


def test_a_drawdown_halt_decided_as_the_sqlite_file_is_deleted_survives_its_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rm desk.db*`` as the crash trips the kill switch; the file is then restored from a
    copy taken before. Before, the restored file said active and the next start traded. Now
    ``fleet`` lists the kept halt until that start writes it."""
    db, backup = tmp_path / "desk.db", tmp_path / "backup.db"
    session = _crash_session(db)
    _copy(db, backup)
    _store_lost_as_drawdown_trips(monkeypatch, lambda: _delete(db))
    result = SessionRunner(session, iterations=80).run()
    session.audit.db.close()
    assert result.status == "failed" and result.audit_failed, result
    assert result.error is not None and "the halt (drawdown_kill_switch) is kept in" in (
        result.error
    ), result.error
    _copy(backup, db)  # the restore
    listed = run_cli(tmp_path, "fleet", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    assert f"halt kept on disk for {ACCOUNT} (drawdown_kill_switch" in listed.stdout, listed.stdout
    _assert_next_start_halted(db)
    again = run_cli(tmp_path, "fleet", "--db", str(db))
    assert "halt kept on disk" not in again.stdout, "the written halt still listed as kept"


@pytest.fixture
def own_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[PgCluster]:
    """A cluster this test may stop and start (the worker's shared one serves other tests)."""
    monkeypatch.setenv("PGPASSWORD", TRADER_PASSWORD)
    with running_cluster() as cluster:
        yield cluster


def test_a_drawdown_halt_decided_as_the_postgresql_server_stops_survives_its_restart(
    own_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The server stops as the crash trips the kill switch and stays down past the desk's
    tries to reach it; started again, ``fleet`` lists the kept halt and the account's next
    start is halted."""
    monkeypatch.setattr(pg, "RECONNECT_WITHIN", 1.0)  # (30 s of tries in real life)
    own_url = own_cluster.url(own_cluster.new_database())
    store = parse_db_url(own_url)
    session = _crash_session(store)
    _store_lost_as_drawdown_trips(monkeypatch, own_cluster.stop)
    result = SessionRunner(session, iterations=80).run()
    assert result.status == "failed" and result.audit_failed, result
    assert result.error is not None and "the halt (drawdown_kill_switch) is kept in" in (
        result.error
    ), result.error
    assert TRADER_PASSWORD not in (result.error or "")
    own_cluster.start()
    session.audit.db.close()
    state_home = {"XDG_STATE_HOME": os.environ["XDG_STATE_HOME"]}  # where the marker waits
    listed = run_cli(tmp_path, "fleet", "--db", own_url, env=state_home)
    assert listed.returncode == 0, listed.stderr
    assert f"halt kept on disk for {ACCOUNT} (drawdown_kill_switch" in listed.stdout, listed.stdout
    _assert_next_start_halted(store)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"version": 1, "account_key": "local:crash-desk"}', b"[" * 5000, None],
    ids=["corrupt", "fields-missing", "nested", "a-folder"],
)
def test_a_marker_that_cannot_be_read_halts_the_start_in_one_line(
    tmp_path: Path, content: bytes | None
) -> None:
    """Garbage where the account's marker goes (a corrupt write, a hand edit, a folder):
    ``fleet`` says it cannot be read; the start is halted, its event says which file and why
    in one line, and the file is moved aside for a person to look at, not read again."""
    db = tmp_path / "desk.db"
    first = _crash_session(db)
    path = marker_path(first.audit.db, ACCOUNT)
    first.finish("completed")
    first.audit.db.close()
    assert path is not None
    if content is None:
        os.mkdir(path)
    else:
        path.write_bytes(content)
    listed = run_cli(tmp_path, "fleet", "--db", str(db))
    assert f"halt marker {path} cannot be read (" in listed.stdout, listed.stdout
    following = _crash_session(db)
    try:
        database.initialize(following.audit.db)
        state = load_risk_state(ACCOUNT)
        assert (state.halted, state.halt_reason) == (True, UNREADABLE)
        [said] = [e for e in following.startup_events if e.event_type == UNREADABLE]
        assert str(path) in said.detail and "\n" not in said.detail, said.detail
        assert not path.exists() and Path(f"{path}.unreadable").exists()
        report = following.run_iteration()
        assert report is not None and report.orders_sent == 0
    finally:
        following.audit.db.close()


def test_a_start_whose_store_refuses_the_kept_halt_trades_nothing_and_keeps_the_file(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Alpaca desk's start finds its account's kept halt, and the store refuses its write
    (the write lock held past the busy timeout): the start fails in one line naming the file,
    no order is sent, the session row says ``failed`` and the file stays for the next start."""
    db = tmp_path / "desk.db"
    first = alpaca_session(sandbox, db)
    account, store = first.account_key, first.audit.db
    first.finish("completed")
    first.broker.close()
    store.close()
    halt = KeptHalt(account, store_name(store) or "", DRAWDOWN, "equity 5% below peak", NOW, "")
    path = keep_halt(store, halt)
    risk_event = AuditLog.risk_event

    def locked(self: AuditLog, event: RiskEvent, *args: Any, **kwargs: Any) -> None:
        if event.event_type == DRAWDOWN:
            raise _wrapped(sqlite3.OperationalError("database is locked"))
        risk_event(self, event, *args, **kwargs)

    monkeypatch.setattr(AuditLog, "risk_event", locked)
    with pytest.raises(StoreLostAtStart) as refused:
        alpaca_session(sandbox, db)
    database.obj.close()
    line = str(refused.value)
    assert "\n" not in line and f"kept in {path} could not be written to the audit store" in line
    assert path.exists(), "the kept halt was lost"
    assert not sandbox_view(sandbox), "the refused start sent an order"
    assert file_rows(db, "SELECT status FROM sessions ORDER BY id") == [("completed",), ("failed",)]
