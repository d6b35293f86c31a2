"""A kill between bars does not wait on a read of the broker's account.

ctrl+k (or a monitor's or the fleet's request taken by the running session) between bars used
to read the account's equity first, for the halt event's figure, and only then halt; and the
halt was written only after the account was read again for the desk's line. With the request
budget spent or the broker's reads retrying, the halt waited seconds on both: no cancel, no
halt on record meanwhile. Now the halt is taken from the equity already known, its cancels go
out, it is written, and only then is the account read. Sandbox, with the account read blocked
or failing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from requests import ConnectionError as Dropped

from tests.conftest import file_rows
from tests.integration.alpaca_helpers import alpaca_session, working_spy_limit
from tui_trader.core.domain import TradingState
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.sandbox.testing import SandboxHandle

KILLS = "SELECT action_taken FROM live_risk_events WHERE event_type = ?"


def _until(check: Any, seconds: float = 10.0) -> bool:
    """Whether ``check()`` came true within ``seconds`` (looked at every 20 ms)."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while time.monotonic() < deadline:
        if check():
            return True
        pause.wait(0.02)
    return bool(check())


def _working(sandbox: SandboxHandle) -> int:
    """Orders open at the sandbox."""
    orders = sandbox.admin.state()["orders"]
    return int(orders["open"] - orders["open_legs"])


def test_a_kill_is_taken_and_written_while_the_account_read_hangs(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The account read hangs (a spent budget, a read retrying) as ctrl+k is taken between
    bars. Before: nothing happened until it answered: the limit kept working, no halt on
    record. Now, while it still hangs: the limit cancelled, the halt and its event written;
    once it answers the desk reports HALTED, and the next bar sends nothing."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db)
    client = session.broker.client
    read = client.get_account
    hung, release = threading.Event(), threading.Event()
    reports: list[Any] = []
    try:
        working_spy_limit(session, sandbox)
        assert _working(sandbox) == 1

        def hanging(*args: Any, **kwargs: Any) -> Any:
            """The account read, answered only once the test lets it (30 s at most)."""
            hung.set()
            release.wait(30)
            return read(*args, **kwargs)

        client.get_account = hanging
        session.request_kill(who="test")
        worker = threading.Thread(target=lambda: reports.append(session.apply_kill_requests()))
        worker.start()
        try:
            cancelled = _until(lambda: _working(sandbox) == 0)
            written = _until(lambda: bool(file_rows(db, KILLS, MANUAL_KILL)))
            state = file_rows(db, "SELECT state FROM risk_state")
        finally:
            release.set()
            worker.join(30)
        assert cancelled, "the kill's cancel waited on the account read"
        assert written, "the kill was not written while the account read hung"
        assert state == [("halted",)]
        [(action,)] = file_rows(db, KILLS, MANUAL_KILL)
        assert "cancelled 1 open order(s)" in action
        client.get_account = read
        assert reports and reports[0].state is TradingState.HALTED
        before = sandbox.admin.state()["orders"]["total"]
        sandbox.admin.step()
        session.run_iteration()
        assert sandbox.admin.state()["orders"]["total"] == before, "an order went out"
    finally:
        release.set()
        session.broker.close()


def test_a_kill_whose_account_read_fails_after_its_cancel_says_what_it_did(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The account read fails (connection dropped) when ctrl+k is taken between bars; every
    other request answers. Before: the halt cancelled the limit, then the failed read after it
    was taken for the halt's: its event said `the broker did not answer (open orders may
    still be working)` though none was. Now: `cancelled 1 open order(s)`, nothing more; the
    halt written and nothing working."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db)
    client = session.broker.client
    read = client.get_account
    try:
        working_spy_limit(session, sandbox)

        def dropped(*args: Any, **kwargs: Any) -> Any:
            raise Dropped("connection dropped")

        client.get_account = dropped
        session.request_kill(who="test")
        report = session.apply_kill_requests()
        client.get_account = read
        assert report is not None and report.state is TradingState.HALTED
        [(action,)] = file_rows(db, KILLS, MANUAL_KILL)
        assert "cancelled 1 open order(s)" in action
        assert "may still be working" not in action and "did not answer" not in action
        assert file_rows(db, "SELECT state FROM risk_state") == [("halted",)]
        assert _working(sandbox) == 0
        assert session.halt_line().startswith("manual_kill: kill switch pressed by test")
        assert "may still be working" not in session.halt_line()
    finally:
        session.broker.close()
