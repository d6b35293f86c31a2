"""Three real ``tui-trader live paper`` processes on one sandbox account and one database, and
the desk's Fleet screen over them: the day's order limit holds across the three, and one ctrl+k
on a row of the fleet halts all three within a cycle (the halt goes through the account's shared
risk state). The test waits on the database with deadlines, never on sleeps. It runs on both
engines: one SQLite file, and one PostgreSQL database (as desks on several machines would share).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.account_processes import (
    DEADLINE,
    PROCESSES_RUN_WITHIN_S,
    Db,
    orders_per_trading_day,
    query,
    snapshots,
    start_live_paper,
    stop_all,
    wait_for,
)
from tui_trader.sandbox.testing import SandboxHandle

pytestmark = pytest.mark.timeout(PROCESSES_RUN_WITHIN_S)

LIMIT = 2
"""``--max-orders-per-day`` of each session: the account sends this many in all."""


async def _halt_from_the_fleet(db: Db) -> tuple[str, str]:
    """Open the desk's Fleet screen on the database, ctrl+k on the first row, confirm; returns
    the confirmation's title and text."""
    from tui_trader.store.pg_url import parse_db_url
    from tui_trader.tui.app import make_app
    from tui_trader.tui.screens.confirm import ConfirmScreen
    from tui_trader.tui.screens.fleet import FleetScreen

    app = make_app(parse_db_url(db) if isinstance(db, str) else db, fleet_only=True)
    async with app.run_test(size=(120, 36)) as pilot:

        async def until(check: Callable[[], bool], what: str) -> None:
            deadline = time.monotonic() + DEADLINE
            while not check():
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                await pilot.pause(0.05)

        await until(lambda: isinstance(app.screen, FleetScreen), "the Fleet screen")
        screen = app.screen
        await until(lambda: sum(r.state == "running" for r in screen.rows) == 3, "3 rows")
        await pilot.press("ctrl+k")
        await until(
            lambda: isinstance(app.screen, ConfirmScreen) and bool(app.screen.query("#yes")),
            "the question and its buttons",
        )
        asked = (app.screen.title_text, app.screen.question)
        await pilot.click("#yes")
        await until(lambda: screen.halts == 1, "the halt to be written")
        await until(lambda: all(r.state == "halted" for r in screen.rows), "3 HALTED rows")
    return asked


def test_a_fleet_ctrl_k_halts_three_sessions_on_one_account(
    pumped: SandboxHandle, tmp_path: Path, shared_db: Db
) -> None:
    """Limit 2 orders a day in each of three sessions: 2 reach the broker in all. ctrl+k on one
    row of the Fleet screen, confirmed, halts the account; each of the three adopts the halt
    within one cycle of it being written, and they all end cleanly."""
    db = shared_db
    procs = [
        start_live_paper(tmp_path, pumped, db, name, max_orders=LIMIT) for name in ("a", "b", "c")
    ]
    try:
        wait_for(
            "three sessions to start",
            lambda: (
                len(query(db, "SELECT id FROM sessions")) == 3
                and query(db, "SELECT count(DISTINCT session_id) FROM live_account_snapshots")
                == [(3,)]
            ),
            procs,
        )
        ids = [sid for (sid,) in query(db, "SELECT id FROM sessions ORDER BY id")]
        assert len({key for (key,) in query(db, "SELECT account_key FROM sessions")}) == 1
        wait_for(
            "the day's order limit to be reached",
            lambda: query(db, "SELECT orders_today FROM risk_state")[0][0] >= LIMIT,
            procs,
        )
        for sid in ids:  # every session has cycled with the limit reached
            start = snapshots(db, sid)
            wait_for("a few more cycles", lambda s=sid, n=start: snapshots(db, s) >= n + 3, procs)
        at_broker = pumped.admin.state()["orders"]["total"]  # first: a row precedes its send
        per_day = orders_per_trading_day(db)
        assert max(per_day) == LIMIT, f"the limit held across three: {per_day} a trading session"
        assert at_broker <= sum(per_day), "every order at the broker is in the audit trail"

        title, question = asyncio.run(_halt_from_the_fleet(db))
        assert title.startswith("Halt account alpaca:")
        assert "3 running session(s)" in question
        (halted_at,) = query(
            db, "SELECT timestamp FROM live_risk_events WHERE event_type = 'manual_kill'"
        )[0]
        for sid in ids:
            wait_for(
                "the session to adopt the halt",
                lambda s=sid: (
                    query(
                        db,
                        "SELECT count(*) FROM live_risk_events WHERE session_id = ? "
                        "AND event_type = 'halt_adopted'",
                        s,
                    )[0][0]
                    == 1
                ),
                procs,
            )
            (adopted_at,) = query(
                db,
                "SELECT timestamp FROM live_risk_events WHERE session_id = ? "
                "AND event_type = 'halt_adopted'",
                sid,
            )[0]
            between = query(
                db,
                "SELECT count(*) FROM live_account_snapshots WHERE session_id = ? "
                "AND timestamp > ? AND timestamp < ?",
                sid,
                halted_at,
                adopted_at,
            )[0][0]
            assert between <= 1, f"session {sid} ran {between} cycles before halting"
        assert query(db, "SELECT state, halt_reason FROM risk_state") == [("halted", "manual_kill")]
        sent_after = query(
            db,
            "SELECT count(*) FROM live_orders WHERE timestamp > ? AND broker_order_id IS NOT NULL",
            halted_at,
        )[0][0]
        assert sent_after == 0, "no order reached the broker after the halt was written"
        total = query(db, "SELECT count(*) FROM live_orders")[0][0]
        assert pumped.admin.state()["orders"]["total"] == total, "each one at the broker"
    finally:
        stop_all(procs)
    assert [p.returncode for p in procs] == [0, 0, 0]
