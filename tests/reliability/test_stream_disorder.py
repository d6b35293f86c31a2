"""``live paper`` sessions on a broker that repeats, reorders and lags itself.

Alpaca's trade-update stream may deliver an update twice or out of order, and its REST API may
answer an order's previous state for a while. The run keeps all three sandbox switches on at
high rates for a whole session (``ws_duplicate``, ``ws_reorder``, ``stale_rest``; with half the
orders filling in two parts, so that there are ``partial_fill`` updates to reorder, and a few
stream drops, so that the desk reads orders over REST), then a run with the faults off and a
start that only reconciles. What a trader would check, then holds: every broker order once in
the audit trail with the broker's final status, its fills recorded exactly once (they add up to
the broker's filled quantity), the positions our fills add up to equal the broker's, no halt,
no traceback.
(``test_fault_switches`` also switches each one on alone under a running session;
``DISORDER`` runs one switch a session, for the README's figures.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability import figures
from tests.reliability.audit_check import QTY_EPS, Figures, compare, describe
from tests.reliability.harness import (
    Child,
    Pump,
    live_args,
    query,
    sandbox_child_env,
    trading_client,
)
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox

SEED = 5150
CYCLES = 8
"""Cycles of the run under the faults, at the desk's own request budget (about one a second):
the orders, and so the updates to repeat and reorder, come from the bars that pass meanwhile,
so this run keeps that pace (``live_args``'s ``budget=()``)."""
DISORDER = {
    "ws_duplicate": "ws_duplicate=0.5,partial_rate=0.5",
    "ws_reorder": "ws_reorder=0.5,partial_rate=0.5",
    "stale_rest": "stale_rest=1,partial_rate=0.5,ws_drop=0.05",
}
"""One switch a session (on top of ``rate_limit=0``: the runs ask faster than Alpaca allows)."""
ALL = "ws_duplicate=0.5,ws_reorder=0.5,stale_rest=1,partial_rate=0.5,ws_drop=0.05"
"""The suite's run: every switch at once (one sandbox and two sessions keep it short)."""
WIDE_LIMITS = ("--max-drawdown", "50", "--max-daily-loss", "50")
TRIES = 4
"""Runs under the faults at most, until one sends an order and meets the fault
(``disorder_run``)."""


def position_differences(sb: SandboxHandle, db: Path) -> list[str]:
    """Symbols whose position at the broker differs from what the recorded fills add up to
    (the account starts with cash only)."""
    broker = {str(p.symbol): float(p.qty) for p in trading_client(sb).get_all_positions()}
    ours = dict(
        query(
            db,
            "SELECT symbol, SUM(CASE side WHEN 'buy' THEN quantity ELSE -quantity END) "
            "FROM live_fills GROUP BY symbol",
        )
    )
    out = []
    for symbol in sorted(set(broker) | set(ours)):
        have, want = ours.get(symbol, 0.0), broker.get(symbol, 0.0)
        if abs(have - want) > QTY_EPS:
            out.append(f"position {symbol}: fills add up to {have:g}, the broker holds {want:g}")
    return out


Probe = Callable[[SandboxHandle, Child], tuple[int, str]]
"""How often a run met its fault, and what was counted (``disorder_run``'s ``probe``)."""


def disorder_run(
    folder: Path,
    seed: int,
    name: str,
    spec: str,
    extra: tuple[str, ...] = (),
    probe: Probe | None = None,
) -> Figures:
    """One session under the faults ``spec``, one without, then a start that only reconciles;
    the books against the broker (``name`` names the run's files). ``extra``: more options of
    the sessions; ``probe``: counts, once the faults are off, what of the fault the run under
    it met (none is a problem: a trial that never met its fault tried nothing)."""
    db = folder / "disorder.db"
    met: tuple[int, str] | None = None
    with running_sandbox(faults=f"rate_limit=0,{spec}", seed=seed) as sb, Pump(sb, seed):
        env = sandbox_child_env(folder, sb)
        under = live_args(db, CYCLES, *WIDE_LIMITS, *extra, budget=())
        tries = 0
        for run in range(1, TRIES + 1):
            tries = run
            # Which bars the strategies see, and when, depends on the start's and the
            # machine's pace against the pumped market: a run whose cycles sent no order, or
            # never met what ``probe`` looks for, tried nothing, so it goes again (on the same
            # store: what every run did is checked below).
            child = Child(folder, name if run == 1 else f"{name}-{run}", under, env)
            code = child.finish()
            # no table when the child could not start: its own words are in the problems below
            orders_under = (query(db, "SELECT count(*) FROM live_orders") or [(0,)])[0][0]
            if code != 0 or "Traceback" in child.errors():
                break
            if orders_under and (probe is None or probe(sb, child)[0] > 0):
                break
        sb.admin.set_faults(reset=True, rate_limit=0)
        final = Child(folder, f"{name}-final", live_args(db, 2, *WIDE_LIMITS, *extra), env)
        final_code = final.finish()
        # a last start reconciles and sends nothing (the day's orders are spent): an order the
        # run before sent in its last cycle may still be on its way when that run ends (its
        # fill recorded only by a next start), and the books compared below would differ for
        # that reason alone
        reconcile_only = (*WIDE_LIMITS, *extra, "--max-orders-per-day", "1")
        settled = Child(folder, f"{name}-settled", live_args(db, 1, *reconcile_only), env)
        settled_code = settled.finish()
        result = compare(sb, db)
        result.problems += position_differences(sb, db)
        if probe is not None:
            met = probe(sb, child)
    result.mismatches += sum(1 for p in result.problems if p.startswith("position "))
    for run, exit_code in ((child, code), (final, final_code), (settled, settled_code)):
        if exit_code != 0 or "Traceback" in run.errors():
            result.problems.append(f"{run.name} exited {exit_code}:\n{run.tail()}")
    halted = query(db, "SELECT halt_reason, halt_detail FROM risk_state WHERE state = 'halted'")
    if halted:
        result.problems.append(f"{name}: halted {halted[0]}")
    result.notes.append(
        f"{name}: {orders_under} order row(s) in {tries} run(s) of {CYCLES} cycles under the fault"
    )
    if met is not None:
        count, what = met
        line = f"{name}: {count} {what}"
        (result.notes if count else result.problems).append(line)
    return result


@pytest.mark.timeout(180)
def test_fills_statuses_and_positions_hold_on_a_broker_that_repeats_and_reorders(
    trial_dir: Path,
) -> None:
    result = disorder_run(trial_dir, SEED, "disorder", ALL)
    figures.record("stream-disorder", result)
    assert result.broker_orders >= 3, describe(result)  # the session traded
    assert result.clean and not result.problems, describe(result) + "\n" + "\n".join(result.notes)
