"""Every sandbox fault switch, with a ``live paper`` session running through it.

Each switch gets its own run: the session starts, trades a cycle, the switch goes on at run time
(``POST /admin/faults``) until orders went out under it or ``FAULT_PHASE`` passed, then off again;
the session trades on for a few cycles and is stopped with Ctrl+C (SIGINT). The next switch's
run is the previous run's next start (it reconciles first). A last run ends each group; then
every broker order is compared with the audit trail. Three groups run side by side, each with
its own sandbox, account and database.
"""

from __future__ import annotations

import signal
from dataclasses import fields
from pathlib import Path

import pytest

from tests.reliability import figures
from tests.reliability.audit_check import Figures, compare, describe
from tests.reliability.harness import (
    Child,
    Pump,
    live_args,
    query,
    sandbox_child_env,
    side_by_side,
    wait_until_or,
)
from tests.reliability.test_stream_disorder import ALL as DISORDER_SPEC
from tui_trader.sandbox.faults import FaultSettings
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox

SEED = 4242
FAULTS = {
    "latency": "latency=0.2",
    "error_rate": "error_rate=0.3",
    "error_status": "error_rate=0.3,error_status=502",
    "burst_429": "burst_429=4",
    "rate_limit": "rate_limit=30",
    "hang_rate": "hang_rate=0.1",
    "trickle": "trickle=0.004",
    "lost_ack_rate": "lost_ack_rate=1",
    "lost_ack_mode": "lost_ack_rate=1,lost_ack_mode=drop",
    "reject_rate": "reject_rate=0.5",
    "review_rate": "review_rate=0.5",
    "partial_rate": "partial_rate=1",
    "stream_only_rate": "stream_only_rate=1",
    "ws_drop": "ws_drop=0.3",
    "order_fail_rate": "order_fail_rate=0.5",
    "cancel_refuse_rate": "cancel_refuse_rate=1",
    "slow_cancel_rate": "slow_cancel_rate=1",
    "slow_cancel_fill_rate": "slow_cancel_rate=1,slow_cancel_fill_rate=1",
    "slow_cancel_refuse_rate": "slow_cancel_rate=1,slow_cancel_refuse_rate=1",
    "ws_mute": "ws_mute=1",
    "rate_hold": "rate_limit=30,rate_hold=1",
    "activities_fail_rate": "activities_fail_rate=1",
}
"""The spec each switch is tried with (``error_status`` and ``lost_ack_mode`` qualify a rate).
A name the sandbox does not have is left out of the groups (and fails
``test_every_fault_switch_has_a_trial``). ``trickle`` at 4 ms a byte, under the runs' 3-s
``--timeout``: a short answer arrives, an account (about 1,000 bytes) or an order's is cut at
the request's deadline (a read retried, an order in doubt looked up by its client id).
``rate_hold`` (the key's minute held spent, as by a neighbour that keeps spending it) with a
small limit: no order goes out for the phase, then the session trades again. The
stream's and REST's disorder switches (``ws_duplicate``, ``ws_reorder``, ``stale_rest``) have
their trial in ``test_stream_disorder``: all at once for a whole session, which costs one run,
not three. The slow fills
(``partial_bars``, ``position_lag``) and the replace race (``replace_fill_rate``, ``race_bars``)
have theirs in ``test_slow_fills``: they need orders working across cycles at the desk's pace,
and protective stops."""
SWITCHES = {f.name for f in fields(FaultSettings)}
GROUPS = tuple(
    tuple(name for name in group if name in SWITCHES)
    for group in (
        (
            "latency",
            "lost_ack_rate",
            "burst_429",
            "ws_drop",
            "trickle",
            "slow_cancel_rate",
            "ws_mute",
        ),
        (
            "error_status",
            "reject_rate",
            "lost_ack_mode",
            "rate_limit",
            "cancel_refuse_rate",
            "slow_cancel_fill_rate",
            "rate_hold",
        ),
        (
            "error_rate",
            "partial_rate",
            "stream_only_rate",
            "order_fail_rate",
            "hang_rate",
            "slow_cancel_refuse_rate",
            "activities_fail_rate",
            "review_rate",
        ),
    )
)
"""Three groups of about equal length, the test's length being its longest group's: the three
switches under which no order goes out for the whole ``FAULT_PHASE`` (``hang_rate``,
``rate_limit``, ``burst_429``: 10-13 s each) in three groups, the others (2-9 s) dealt to even
them out. Grouped as before (one of them with all three) the groups took 21, 33 and 40 s."""
FAULT_PHASE = 8.0
"""Longest time a switch stays on (and the session then gets to recover)."""
WIDE_LIMITS = ("--max-drawdown", "50", "--max-daily-loss", "50")
"""The market's swings must not halt the runs: a halt is sticky and the next switch needs a
session that trades."""
OFF = {"reset": True, "rate_limit": 0}
"""Faults off; the suite's sessions run far faster than Alpaca's 200 requests a minute allow."""


def _rows(db: Path) -> int:
    """Order rows in the database."""
    rows = query(db, "SELECT count(*) FROM live_orders")
    return rows[0][0] if rows else 0


def _run_through(
    child: Child, db: Path, sb: SandboxHandle, name: str, folder: Path, env: dict[str, str]
) -> list[str]:
    """Switch ``name`` on under a running session, off again, stop the session; what happened."""
    child.wait_cycles(1)
    rows, cycles = _rows(db), child.cycles()
    sb.admin.set_faults(spec=FAULTS[name])
    # The fault lasts until orders went out under it, the session ended, or FAULT_PHASE seconds
    # (a session may rightly skip cycles all through an outage). No cycle count ends it: the
    # session runs without the desk's budget wait (``live_args``), and a dozen cycles, ~10 s
    # of bars at the desk's pace, now pass in about one; the orders under the fault are the
    # trial's material.
    wait_until_or(lambda: _rows(db) >= rows + 3 or not child.alive(), FAULT_PHASE)
    under = (_rows(db) - rows, child.cycles() - cycles)
    sb.admin.set_faults(**OFF)
    after = child.cycles()
    wait_until_or(lambda: child.cycles() >= after + 3 or not child.alive(), FAULT_PHASE)
    if child.alive():
        child.popen.send_signal(signal.SIGINT)
    code = child.finish(60)
    out = [f"{name}: {under[0]} order row(s) in {under[1]} cycle(s) under the fault; exit {code}"]
    if "Traceback" in child.errors():
        out.append(f"{name}: traceback\n{child.tail()}")
    halted = query(db, "SELECT halt_reason, halt_detail FROM risk_state WHERE state = 'halted'")
    if halted:
        # A person would look, then re-arm: the next switch needs a session that may trade.
        out.append(f"{name}: the run ended halted {halted[0]}; risk reset before the next")
        reset = Child(folder, f"{name}-reset", ["risk", "reset", "--yes", "--db", str(db)], env)
        assert reset.finish() == 0, reset.tail()
    return out


def run_fault_group(folder: Path, seed: int, switches: tuple[str, ...]) -> tuple[Figures, str]:
    """One run per switch, each the next start of the one before, then a last run; compare."""
    log = []
    db = folder / "faults.db"
    with running_sandbox(faults="rate_limit=0", seed=seed) as sb, Pump(sb, seed):
        env = sandbox_child_env(folder, sb)
        for name in switches:
            child = Child(folder, name, live_args(db, 0, *WIDE_LIMITS), env)
            log += _run_through(child, db, sb, name, folder, env)
        final = Child(folder, "final", live_args(db, 2, *WIDE_LIMITS), env)
        code = final.finish()
        result = compare(sb, db)
        if code != 0:
            result.problems.append(f"the last run exited {code}:\n{final.tail()}")
    result.trials = len(switches)
    result.problems += [line for line in log if "traceback" in line]
    result.notes += log
    return result, "\n".join(log)


def set_by(spec: str) -> set[str]:
    """The switches a fault spec sets (``name=value,...``)."""
    return {part.split("=")[0].strip() for part in spec.split(",") if part.strip()}


def tried() -> dict[str, set[str]]:
    """Every trial of the suite that runs a sandbox fault spec, and the switches it sets:
    one per ``FAULTS`` entry that a group runs, the stream-disorder run and the slow-fill
    trials (``test_slow_fills``)."""
    from tests.reliability.test_slow_fills import SPECS

    out = {f"fault-switches {name}": set_by(FAULTS[name]) for name in sum(GROUPS, ())}
    out["stream-disorder"] = set_by(DISORDER_SPEC)
    out |= {f"slow-fills {name}": set_by(spec) for name, spec in SPECS.items()}
    return out


def test_every_fault_switch_has_a_trial() -> None:
    """Every switch of the sandbox is set by the fault spec of a trial this suite runs (a new
    switch without one fails here), every spec names only switches the sandbox has (a renamed
    one is not dropped in silence), and each ``FAULTS`` entry sets its own switch. Judged from
    the specs the trials run, not from a list of names kept beside them: such a list (the
    switches "tried elsewhere", by tests that nothing here checked) let a switch pass with no
    trial of the suite at all."""
    trials = tried()
    covered = set().union(*trials.values())
    assert not SWITCHES - covered, f"no trial for {sorted(SWITCHES - covered)}"
    for trial, switches in trials.items():
        assert switches <= SWITCHES, f"{trial}: no such switch {sorted(switches - SWITCHES)}"
    assert set(FAULTS) <= SWITCHES, f"no such switch {sorted(set(FAULTS) - SWITCHES)}"
    for name, spec in FAULTS.items():
        assert name in set_by(spec), f"the trial of {name} does not set it: {spec}"
    assert sorted(sum(GROUPS, ())) == sorted(FAULTS), "every FAULTS entry runs in a group"


@pytest.mark.timeout(300)
def test_sessions_run_through_every_fault_switch(trial_dir: Path) -> None:
    """After each switch's run and the next start, every broker order is in the audit trail
    once, with the broker's status and fills; no traceback anywhere."""
    jobs = []
    for n, group in enumerate(GROUPS):
        folder = trial_dir / f"group{n}"
        folder.mkdir()
        jobs.append(lambda f=folder, g=group, s=SEED + n: run_fault_group(f, s, g))
    result, logs = Figures(), []
    for group_figures, log in side_by_side(*jobs):
        result.add(group_figures)
        logs.append(log)
    figures.record("fault-switches", result)
    assert result.clean and not result.problems, describe(result) + "\n" + "\n".join(logs)
