"""Two ``live paper`` sessions on one Alpaca account and one database (issue 12, part 1).

- A halt written by one session stops the other within a cycle, the account's risk state stays
  HALTED after both end, and a restart does not trade.
- ``--max-orders-per-day N`` in both: at most N orders reach the broker in a trading session, in
  total.
Both scenarios run side by side (each with its own sandbox, account and database); after each,
the broker's orders are compared with the audit trail.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.integration.account_processes import orders_per_trading_day
from tests.reliability import figures
from tests.reliability.audit_check import Figures, compare, describe
from tests.reliability.harness import (
    SYMBOLS,
    Child,
    Pump,
    live_args,
    query,
    sandbox_child_env,
    side_by_side,
    wait_for,
)
from tui_trader.sandbox.testing import running_sandbox

SEED = 77
ORDER_LIMIT = 4


def _session_id(db: Path, nth: int) -> int:
    """Id of the ``nth`` session row (0-based, in start order)."""
    rows = query(db, "SELECT id FROM sessions ORDER BY id")
    return rows[nth][0]


def _stop(*children: Child) -> list[int]:
    """Ctrl+C each child still running; their exit codes."""
    for child in children:
        if child.alive():
            child.popen.send_signal(signal.SIGINT)
    return [child.finish(60) for child in children]


def halt_scenario(folder: Path) -> tuple[Figures, list[str]]:
    """B trips its drawdown limit; A (whose own limit is far away) must stop within a cycle."""
    failures: list[str] = []
    db = folder / "shared.db"
    with running_sandbox(faults="rate_limit=0", seed=SEED) as sb, Pump(sb, SEED) as pump:
        env = sandbox_child_env(folder, sb)
        a = Child(
            folder, "a", live_args(db, 0, "--max-drawdown", "50", "--max-daily-loss", "50"), env
        )
        a.wait_cycles(1)
        b = Child(folder, "b", live_args(db, 0, "--max-drawdown", "0.3"), env)
        b.wait_cycles(1)
        a_id, b_id = _session_id(db, 0), _session_id(db, 1)

        def b_halted() -> list[tuple[str]]:
            return query(
                db,
                "SELECT timestamp FROM live_risk_events WHERE session_id = ? AND "
                "action_taken LIKE 'halted%' ORDER BY id LIMIT 1",
                (b_id,),
            )

        # B halts on its own if the account is already below its peak; otherwise a drop does it.
        wait_for(lambda: b_halted() or sb.admin.state()["positions"], 30, "positions or a halt")
        if not b_halted():
            pump.shock({s: -3.0 for s in SYMBOLS})
        halt = wait_for(b_halted, 30, "the second session's halt")[0][0]
        seen = a.cycles()
        a.wait_cycles(seen + 8, timeout=30)  # A cycles on while the market keeps swinging
        _stop(a, b)
        before = query(
            db,
            "SELECT MAX(iteration) FROM live_account_snapshots WHERE session_id = ? AND "
            "timestamp <= ?",
            (a_id, halt),
        )[0][0]
        late = query(
            db,
            "SELECT client_order_id FROM live_orders WHERE session_id = ? AND iteration >= ?",
            (a_id, (before or 0) + 2),
        )
        if late:
            failures.append(
                f"the first session sent {len(late)} order(s) more than a cycle after the "
                f"other's halt ({halt}, its cycle {before}): {[r[0] for r in late][:5]}"
            )
        state = query(
            db, "SELECT state, halt_reason FROM risk_state WHERE account_key LIKE 'alpaca:%'"
        )
        if not state or state[0][0] != "halted":
            failures.append(f"risk_state after both ended: {state} (want halted)")
        restart = Child(folder, "restart", live_args(db, 3), env)
        restart.finish()
        sent = query(
            db, "SELECT count(*) FROM live_orders WHERE session_id = ?", (_session_id(db, 2),)
        )[0][0]
        if "HALTED" not in restart.output() or sent:
            failures.append(f"the restart sent {sent} order(s):\n{restart.tail()}")
        result = compare(sb, db)
    return result, failures


def limit_scenario(folder: Path) -> tuple[Figures, list[str]]:
    """Both sessions with ``--max-orders-per-day 4``: at most 4 broker orders a trading session.

    The two follow different strategies (momentum and mean reversion), as two desks sharing an
    account would: each wants orders of its own, more than the limit between them.
    """
    failures: list[str] = []
    db = folder / "shared.db"
    limit = ["--max-orders-per-day", str(ORDER_LIMIT)]
    with running_sandbox(faults="rate_limit=0", seed=SEED + 1) as sb:
        env = sandbox_child_env(folder, sb)
        a = Child(folder, "a", live_args(db, 0, *limit), env)
        b = Child(folder, "b", live_args(db, 0, *limit, weights="meanrev"), env)
        # Both have started (risk state read, header printed) before the market moves at all.
        for child in (a, b):
            wait_for(lambda c=child: "Database:" in c.output() or not c.alive(), 60, "a start")
        with Pump(sb, SEED + 1):
            # Until the two together could have sent twice the limit, or long enough to want it.
            wait_for(
                lambda: (
                    sb.admin.state()["orders"]["total"] >= 2 * ORDER_LIMIT
                    or min(a.cycles(), b.cycles()) >= 40
                    or not (a.alive() and b.alive())
                ),
                60,
                "orders or cycles",
            )
            _stop(a, b)
        # Counted per trading session of the orders' market time (from one 04:00 New York
        # pre-market to the next), the day the limit counts in: a bar every 40 ms moves the
        # sandbox's clock about an hour in a few seconds, and a run around 09:00 UTC in winter
        # saw the next session begin (4 orders on Friday's session, 4 on Monday's: no overrun).
        # ``compare`` checks that every order the broker has is one of these rows.
        per_session = orders_per_trading_day(db)
        if any(count > ORDER_LIMIT for count in per_session):
            failures.append(
                f"{per_session} orders per trading session reached the broker with "
                f"--max-orders-per-day {ORDER_LIMIT} in both sessions"
            )
        result = compare(sb, db)
    return result, failures


@pytest.mark.timeout(300)
def test_two_sessions_on_one_account_share_halts_and_the_order_limit(trial_dir: Path) -> None:
    """A halt in one session holds in the other and after both; the day's order limit is one
    counter for the account; every broker order is in the audit trail as the broker has it."""
    (trial_dir / "halt").mkdir()
    (trial_dir / "limit").mkdir()
    (halt, halt_failures), (limit, limit_failures) = side_by_side(
        lambda: halt_scenario(trial_dir / "halt"), lambda: limit_scenario(trial_dir / "limit")
    )
    halt.trials = limit.trials = 1
    figures.record("shared-account-halt", halt)
    figures.verdict("shared-account-halt", not halt_failures)
    figures.record("shared-account-limit", limit)
    figures.verdict("shared-account-limit", not limit_failures)
    problems = halt_failures + limit_failures
    assert not problems and halt.clean and limit.clean, "\n".join(
        [*problems, "halt: " + describe(halt), "limit: " + describe(limit)]
    )
