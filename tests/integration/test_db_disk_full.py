"""A full disk under the audit trail: said in one line, no order sent unrecorded, the session
ended in a known state (issue 12, section 4).

The disk fills through ``PRAGMA max_page_count`` (SQLite's size limit gives the same
SQLITE_FULL a full file system does): set at the current size, the file cannot grow at all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Flipper, file_rows, make_session
from tui_trader.cli import main
from tui_trader.session.runner import SessionRunner
from tui_trader.session.store_endings import AUDIT_FULL
from tui_trader.store import db as store_db
from tui_trader.store.db import open_database
from tui_trader.store.models import database


@pytest.mark.parametrize("commit_every", ["1", "5"])
def test_paper_on_a_full_disk_says_so_in_one_line_and_ends_the_session_failed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    commit_every: str,
) -> None:
    """Today: ``cannot rollback - no transaction is active`` on screen, the cause only in
    crash.log. One cycle per transaction, and batches of cycles (savepoints)."""
    path = tmp_path / "audit.db"
    open_database(path).close()
    monkeypatch.setitem(store_db._PRAGMAS, "max_page_count", 1)  # no room to grow
    try:
        code = main(
            ["paper", "--iterations", "300", "--commit-every", commit_every, "--db", str(path)]
        )
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    database.obj.close()
    assert code == 1
    assert err == f"tui-trader: error: disk full writing the audit trail at {path}\n"
    assert "Traceback" not in out and "rollback" not in out + err
    assert "Session failed" in out
    assert file_rows(path, "SELECT status FROM sessions") == [("failed",)]
    assert file_rows(path, "PRAGMA integrity_check") == [("ok",)]


def test_a_live_session_on_a_full_disk_sends_nothing_unrecorded_and_ends_failed(
    db_path: Path,
) -> None:
    """The live path commits each order row before sending it: the order whose row cannot be
    written is never sent, trading halts, and the session row says ``failed`` (today it stays
    ``running`` and the runner raises). Its working orders are cancelled, unrecorded, and its
    line says so (``engine.lost_store_cancels``)."""
    session = make_session(db_path, commit_before_send=True, strategies=[Flipper()])
    sent: list[str] = []
    submit = session.broker.submit

    def recording_submit(request):  # type: ignore[no-untyped-def]
        sent.append(request.client_order_id)
        return submit(request)

    session.broker.submit = recording_submit  # type: ignore[method-assign]
    session.audit.db.execute_sql("PRAGMA max_page_count = 1")  # this connection: full now
    result = SessionRunner(session, iterations=500).run()
    session.audit.db.close()

    assert result.status == "failed" and result.audit_failed
    said = f"disk full writing the audit trail at {db_path}"
    assert result.error is not None and result.error.split("; ")[0] == said, result.error
    assert session.broker.open_orders() == []  # its working orders cancelled, and said so
    assert "cancelled" in result.error, result.error
    assert session.risk.state.halted and session.risk.state.halt_reason == AUDIT_FULL
    assert result.iterations < 500  # it stopped at the full disk
    recorded = {r[0] for r in file_rows(db_path, "SELECT client_order_id FROM live_orders")}
    assert sent and set(sent) <= recorded  # every order the broker got has its row
    assert file_rows(db_path, "SELECT status FROM sessions") == [("failed",)]
    assert file_rows(db_path, "PRAGMA integrity_check") == [("ok",)]


def _fill(path: Path) -> None:
    """Our database with no room for one more session row: the smallest rows go in until
    SQLite answers SQLITE_FULL under a size limit of the file's current pages."""
    db = open_database(path)
    conn = db.connection()
    conn.execute("PRAGMA max_page_count = 1")
    i = 0
    while True:
        i += 1
        try:
            conn.execute(
                "INSERT INTO sessions (key, mode, broker, data_source, symbols, parameters,"
                " account_key, started_at, status, iterations)"
                " VALUES (?, '', '', '', '', '', '', '', '', 0)",
                (str(i),),
            )
        except sqlite3.OperationalError as exc:
            assert "full" in str(exc)
            break
    db.close()


def test_paper_starting_on_a_full_disk_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today: ``OperationalError: database or disk is full`` and crash.log."""
    path = tmp_path / "audit.db"
    _fill(path)
    monkeypatch.setitem(store_db._PRAGMAS, "max_page_count", 1)
    try:
        code = main(["paper", "--iterations", "3", "--db", str(path)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    _out, err = capsys.readouterr()
    database.obj.close()
    assert code == 2
    assert err == f"tui-trader: error: disk full writing the audit trail at {path}\n"
    assert file_rows(path, "SELECT count(*) FROM sessions WHERE status = 'running'") == [(0,)]


def test_a_full_disk_is_alerted_although_it_cannot_be_recorded(db_path: Path) -> None:
    """The audit_full halt and the session's end reach the alerts: the one place they can be
    told, since the database has no room for the risk event."""
    from tui_trader.engine.notices import SESSION_END

    heard = []
    session = make_session(db_path, commit_before_send=True, strategies=[Flipper()])
    session.notify = heard.append
    session.audit.db.execute_sql("PRAGMA max_page_count = 1")
    SessionRunner(session, iterations=500).run()
    session.audit.db.close()
    events = [n.event for n in heard]
    assert AUDIT_FULL in events
    assert events[-1] == SESSION_END and heard[-1].action == "session failed"
    assert "disk full writing the audit trail" in heard[-1].detail
