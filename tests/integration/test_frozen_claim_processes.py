"""A real ``live paper`` desk stopped with SIGSTOP right before its order's send, its symbol
taken over meanwhile by a second desk on the account, then woken with SIGCONT: it sends nothing
in that symbol.

Desk A stops itself (a real SIGSTOP, at a known point: after its first order's claim was taken
and checked, before the order goes out) so that the test needs no timing. Desk B starts while A
is still alive to it, so B's start does not record A dead; then A's heartbeat is aged in the
store, as a freeze longer than its window leaves it, and B takes A's symbol over and buys. Before,
A woke and sent its order too: the account held twice the target in that symbol. The test waits
on the store and the output with deadlines, never on sleeps.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.account_processes import (
    PROCESSES_RUN_WITHIN_S,
    cycles_pass,
    query,
    start_live_paper,
    stop_all,
    wait_for,
)
from tui_trader.core.order_ids import short_key
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.db import to_db_time
from tui_trader.store.process_identity import PROC

pytestmark = pytest.mark.timeout(PROCESSES_RUN_WITHIN_S)

STOPS_BEFORE_ITS_FIRST_SEND = """
import os, signal, sys
from tui_trader.cli import main
from tui_trader.engine.session import TradingSession

release = TradingSession._release_stops
stopped = []

def stopped_before_send(self, *args):
    if not stopped:
        stopped.append(True)
        os.kill(os.getpid(), signal.SIGSTOP)
    return release(self, *args)

TradingSession._release_stops = stopped_before_send
sys.exit(main())
"""
"""``python -c`` this, then the command: the session stops itself once, right before its first
order would go out (after the order's slot, its claim and its claim's check)."""


def _state(pid: int) -> str:
    """The process's state letter (``T``: stopped)."""
    text = (PROC / str(pid) / "stat").read_text()
    return text[text.rindex(")") + 2]


def _sent(sandbox: SandboxHandle, key: str) -> list[str]:
    """The symbols of the orders session ``key`` sent, as the sandbox holds them."""
    mine = f"tt-{key}-"
    tickets = [o.ticket for o in sandbox.sandbox.engine.orders()]
    return [t.symbol for t in tickets if t.client_order_id.startswith(mine)]


def _rows_of(db: Path, session_id: int, symbol: str) -> list[tuple]:
    """The status of each order row the session wrote in ``symbol`` (one before each send)."""
    sql = "SELECT status FROM live_orders WHERE session_id = ? AND symbol = ?"
    return query(db, sql, session_id, symbol)


def test_a_desk_woken_after_its_symbol_was_taken_over_sends_nothing_there(
    pumped: SandboxHandle, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"
    a = start_live_paper(
        tmp_path, pumped, db, "a", max_orders=50, run=("-c", STOPS_BEFORE_ITS_FIRST_SEND)
    )
    procs = [a]
    try:
        wait_for("desk A to stop before its first send", lambda: _state(a.pid) == "T", procs)
        [(id_a, key_a)] = query(db, "SELECT id, key FROM sessions")
        [(symbol,)] = query(
            db, "SELECT symbol FROM symbol_claims WHERE holder = ? AND symbol NOT LIKE '% %'", key_a
        )
        b = start_live_paper(tmp_path, pumped, db, "b", max_orders=50)
        procs.append(b)
        wait_for("desk B to start", lambda: len(query(db, "SELECT id FROM sessions")) == 2, procs)
        [(id_b, key_b)] = query(db, "SELECT id, key FROM sessions WHERE id <> ?", id_a)
        wait_for("desk B's cycles", cycles_pass(db, id_b, 2), procs)
        stale = to_db_time(datetime.now(UTC) - timedelta(minutes=10))
        query(  # stopped ten minutes, as the store sees it: dead to desk B
            db,
            "UPDATE sessions SET heartbeat_at = ?, heartbeat_uptime = heartbeat_uptime - 600 "
            "WHERE id = ?",
            stale,
            id_a,
        )
        wait_for(
            f"desk B to take {symbol} over and buy it",
            lambda: (
                query(db, "SELECT holder FROM symbol_claims WHERE symbol = ?", symbol) == [(key_b,)]
                and symbol in pumped.admin.state()["positions"]
            ),
            procs,
        )
        a.send_signal(signal.SIGCONT)
        out = tmp_path / "a.out"
        said = (
            f" {symbol} not sent: {symbol} was taken over by session {short_key(key_b)} while "
            f"this desk looked stopped to it (its heartbeat went stale); this desk leaves "
            f"{symbol} to it"
        )
        wait_for(
            "desk A to say it sends nothing, or to send",
            lambda: said in out.read_text() or bool(_rows_of(db, id_a, symbol)),
            procs,
        )
        wait_for("desk A's cycles after it woke", cycles_pass(db, id_a, 3), procs)
    finally:
        if a.poll() is None:
            a.send_signal(signal.SIGCONT)
        stop_all(procs)
    assert _rows_of(db, id_a, symbol) == [], "desk A sent its order on its stale reading"
    assert symbol not in _sent(pumped, key_a)
    assert symbol in _sent(pumped, key_b)
    text = (tmp_path / "a.out").read_text()
    assert text.count(said) == 1, text
    assert a.returncode == 0 and b.returncode == 0
