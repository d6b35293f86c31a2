"""A press of the monitor's kill switch is never lost: not by a crash, not with its session.

The monitor writes a ``halt_requests`` row for the session it follows. A session on a remote
broker (Alpaca) commits its rows one by one, and it marked the request handled in a commit of
its own before the halt's cancels went to the broker and before the halt's own commit: a process
killed in between left the request handled and the account active, and the next start traded.
A request addressed to a session that died (or ended) before taking it was never taken by
anybody. Now the request is marked taken in the halt's own commit, and the account's next (or
any other live) session takes a request its addressee can no longer act on, saying so.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import Flipper, make_session, simulate_death
from tests.integration.account_processes import (
    PROCESSES_RUN_WITHIN_S,
    cycles_pass,
    query,
    start_live_paper,
    stop_all,
    wait_for,
)
from tui_trader.core.domain import TradingState
from tui_trader.core.order_ids import short_key
from tui_trader.engine.session import TradingSession
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.halt_requests import write_halt_request
from tui_trader.store.models import HaltRequest, database
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.statements import load_risk_state

pytestmark = pytest.mark.timeout(PROCESSES_RUN_WITHIN_S)

ACCOUNT = "paper:kill-kept"
PRESSED = datetime(2026, 12, 6, 14, 3, 7, tzinfo=UTC)


def _alpaca_like(store: Path | PgUrl) -> TradingSession:
    """A session whose rows commit one by one, as an Alpaca session's do, trading each bar."""
    return make_session(store, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT)


def _press(session: TradingSession, flatten: bool = False) -> None:
    """The monitor's ctrl+k for ``session``: its ``halt_requests`` row."""
    assert session.audit.session is not None
    write_halt_request(
        session.audit.session.id, PRESSED, "monitor", "ctrl+k in the monitor", flatten
    )


def _pending() -> int:
    """Kill requests not taken yet."""
    return HaltRequest.select().where(HaltRequest.handled_at.is_null()).count()


def test_a_kill_request_outlives_a_process_killed_during_the_halts_cancels(
    store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the request was handled, the account active, and the next start traded."""
    first = _alpaca_like(store)
    for _ in range(2):
        first.run_iteration()
    _press(first)

    def killed(*args: object, **kwargs: object) -> object:
        """The process dies while the broker cancels the halt's orders."""
        raise KeyboardInterrupt

    monkeypatch.setattr(first.broker, "cancel_all", killed)
    with pytest.raises(KeyboardInterrupt):
        first.run_iteration()
    assert first.audit.session is not None
    key = first.audit.session.key
    simulate_death(first)
    first.audit.db.close()

    second = _alpaca_like(store)  # the next start on the account
    database.initialize(second.audit.db)
    assert _pending() == 1, "the press is still waiting for a session to act on it"
    assert not load_risk_state(ACCOUNT).halted
    report = second.run_iteration()
    assert report is not None and report.state is TradingState.HALTED
    assert report.orders_sent == 0, "the next start traded"
    kills = [e for e in report.risk_events if e.event_type == MANUAL_KILL]
    assert [e.detail for e in kills] == [
        f"kill switch pressed by monitor at 14:03:07 UTC for session {short_key(key)}, which "
        "died before acting on it: ctrl+k in the monitor"
    ]
    assert load_risk_state(ACCOUNT).halted, "the halt is the account's"
    assert _pending() == 0
    second.run_iteration()
    assert [e for e in second.run_iteration().risk_events if e.event_type == MANUAL_KILL] == [], (
        "taken once"
    )


def test_a_request_for_a_session_that_ended_is_taken_by_a_live_one_on_the_account(
    db_path: Path,
) -> None:
    """A session still alive takes its own request; one that ended leaves it to the account's
    other live session, which halts the account at its next cycle."""
    first = _alpaca_like(db_path)
    second = _alpaca_like(db_path)
    for session in (first, second, first):
        session.run_iteration()
    _press(first)
    assert not any(e.event_type == MANUAL_KILL for e in second.run_iteration().risk_events)
    assert _pending() == 1, "left to the session it was meant for, alive"
    first.finish("stopped")  # it ends before its next cycle took the press
    assert first.audit.session is not None
    report = second.run_iteration()
    assert report is not None and report.state is TradingState.HALTED
    assert [e.detail for e in report.risk_events if e.event_type == MANUAL_KILL] == [
        f"kill switch pressed by monitor at 14:03:07 UTC for session "
        f"{short_key(first.audit.session.key)}, which ended before acting on it: ctrl+k in "
        "the monitor"
    ]
    assert load_risk_state(ACCOUNT).halted and _pending() == 0


def _freeze_outside_a_write(proc: subprocess.Popen[str], db: Path, session_id: int) -> bool:
    """Stop ``proc`` (SIGSTOP) and write the monitor's press for its session; if the frozen
    process holds the file's write lock (inside a commit), let it go on and say False (tried
    again), so the press is written while it cannot take it."""
    proc.send_signal(signal.SIGSTOP)
    try:
        with sqlite3.connect(db, timeout=0.5) as con:
            con.execute(
                "INSERT INTO halt_requests (session_id, timestamp, requested_by, reason, flatten)"
                " VALUES (?, '2026-12-07 00:03:07', 'monitor', 'ctrl+k in the monitor', 0)",
                (session_id,),
            )
        return True
    except sqlite3.OperationalError:
        proc.send_signal(signal.SIGCONT)
        return False


def test_a_press_for_a_live_paper_process_killed_before_it_took_it_halts_the_next_start(
    pumped: SandboxHandle, tmp_path: Path
) -> None:
    """Real processes: ``live paper`` A is frozen, the monitor's press for it written, A
    killed with SIGKILL; ``live paper`` B on the same account and store halts at its first
    cycle, saying whose press it was, and sends no order. Before, B traded."""
    db = tmp_path / "shared.db"
    a = start_live_paper(tmp_path, pumped, db, "a", max_orders=50)
    procs = [a]
    try:
        wait_for("A's first cycles", lambda: query(db, SNAPSHOTS)[0][0] >= 3, procs)
        ((id_a, key_a),) = query(db, "SELECT id, key FROM sessions")
        wait_for(
            "the press written while A is frozen",
            lambda: _freeze_outside_a_write(a, db, id_a),
            procs,
        )
        a.kill()  # SIGKILL: it never acts on the press
        a.wait()
        b = start_live_paper(tmp_path, pumped, db, "b", max_orders=50)
        procs = [b]
        wait_for("B's halt", lambda: query(db, KILLS_OF_B)[0][0] == 1, procs)
        ((id_b,),) = query(db, "SELECT max(id) FROM sessions")
        assert query(
            db, "SELECT detail FROM live_risk_events WHERE event_type = 'manual_kill'"
        ) == [
            (
                f"kill switch pressed by monitor at 00:03:07 UTC for session {short_key(key_a)}, "
                "which died before acting on it: ctrl+k in the monitor",
            )
        ]
        wait_for("a few more cycles of B", cycles_pass(db, id_b, 3), procs)
        assert query(db, "SELECT count(*) FROM live_orders WHERE session_id = ?", id_b) == [(0,)]
        assert query(db, "SELECT state, halt_reason FROM risk_state") == [("halted", MANUAL_KILL)]
        assert query(db, "SELECT count(*) FROM halt_requests WHERE handled_at IS NULL") == [(0,)]
    finally:
        stop_all(procs)


SNAPSHOTS = "SELECT count(*) FROM live_account_snapshots"
KILLS_OF_B = (
    "SELECT count(*) FROM live_risk_events WHERE event_type = 'manual_kill' "
    "AND session_id = (SELECT max(id) FROM sessions)"
)
