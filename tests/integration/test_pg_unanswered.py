"""A PostgreSQL server that stops answering without closing the connection.

Its backend stopped (SIGSTOP: what a frozen machine, a stalled server or a network that drops
packets looks like from the client), the session's next statement waited for the answer for
ever: the desk hung mid-cycle, silent, until killed. Every wait for the server now has a
deadline (``store.pg_deadline``); past it the session stops as on a lost store, in one line.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import pytest

from tui_trader.cli import main
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.store import pg_deadline
from tui_trader.store.models import database

GIVE_UP = 60.0
"""Seconds the test waits for the session to end (it hung for good before)."""


def test_a_server_that_stops_answering_ends_the_session_in_one_line(
    pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the session never ended (still waiting after 60 s). Now: the statement gives
    up at the deadline, and the session halts and exits 1 with the lost store's line."""
    monkeypatch.setattr(pg_deadline, "STATEMENT_DEADLINE", 1.0)
    snapshot = SessionRecords._snapshot
    stopped: list[int] = []

    def stop_the_server_after_three(self: TradingSession, *args: Any) -> None:
        """Once the third cycle's snapshot is written, the session's backend stops."""
        snapshot(self, *args)
        if self.iteration == 3 and not stopped:
            pid = int(database.obj.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)

    monkeypatch.setattr(SessionRecords, "_snapshot", stop_the_server_after_three)
    ended = threading.Event()
    hung: list[bool] = []

    def give_up() -> None:
        """A session still waiting after ``GIVE_UP`` s: say so, and let the server go on."""
        if not ended.wait(GIVE_UP):
            hung.append(True)
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)

    watchdog = threading.Thread(target=give_up, daemon=True)
    watchdog.start()
    try:
        code = main(["paper", "--iterations", "40", "--db", pg_url])
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        ended.set()
        watchdog.join()
        if not hung:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)
        database.obj.close()
    assert stopped, "the session never reached its third cycle"
    assert not hung, f"the session still waited for the server after {GIVE_UP:g} s"
    out, err = capsys.readouterr()
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tui-trader: error: lost the audit store ")
    assert "(the server did not answer within 1 s; connection closed): trading halted" in lines[0]
    assert "Traceback" not in out + err
    assert not any(line.startswith("iter=5 ") for line in out.splitlines())
