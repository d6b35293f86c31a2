"""kill -9 at seeded-random moments, then start again and compare order by order.

Sandbox trials run ``live paper`` through a proxy in front of the sandbox, one database, one
account, as a chain: each run is killed at its moment and the next run is the previous one's
restart (started at once, as a supervisor would); a last run ends normally, and then every order
the broker has is compared with the audit trail. The moments:

- ``cycles``: after a random number of decision cycles;
- ``delay``: a random time into the run;
- ``row``: as soon as a new order row is committed (before or while it is sent);
- ``post``: as soon as the order's POST reaches the proxy (its answer never gets back);
- ``held``: while the POST is held on the way; it reaches the broker only once the restarted run
  has reconciled and traded a cycle (issue 12, part 2: the order was not lost, only late).

Local trials kill ``paper`` (simulated broker) on one database at random cycles and times, then
check that the file is whole, every row's fills add up, and the next session and the reports
run on it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.reliability import figures
from tests.reliability.audit_check import (
    AuditRow,
    Figures,
    compare,
    compare_local,
    describe,
    in_doubt_rows,
)
from tests.reliability.harness import (
    Child,
    Pump,
    latest_session,
    live_args,
    local_env,
    query,
    sandbox_child_env,
    side_by_side,
    trading_client,
    wait_for,
)
from tests.reliability.proxy import Proxy
from tui_trader.sandbox.testing import running_sandbox

SEED = 1212
HELD_DEADLINE = 30.0
"""Seconds to wait for a released POST to reach the broker."""
SANDBOX_CHAINS = (("held", "row", "cycles"), ("post", "held", "delay"))
"""Two chains of kills, run side by side (each with its own sandbox, account and database)."""
LOCAL_KILLS = 4


def _session_rows(db: Path, key: str) -> int:
    """Order rows written by the session ``key``."""
    rows = query(
        db,
        "SELECT count(*) FROM live_orders o JOIN sessions s ON o.session_id = s.id WHERE s.key = ?",
        (key,),
    )
    return rows[0][0] if rows else 0


def _kill_after_cycles(child: Child, rng: random.Random, **_: object) -> str:
    n = child.cycles() + rng.randint(1, 6)
    child.wait_cycles(n, timeout=30)
    return f"after cycle {n}"


def _kill_after_delay(child: Child, rng: random.Random, **_: object) -> str:
    delay = rng.uniform(0.05, 1.0)
    threading.Event().wait(delay)  # a random moment, not a wait for anything to be ready
    return f"{delay:.2f} s into the run"


def _kill_at_row(child: Child, db: Path, key: str, rng: random.Random, **_: object) -> str:
    start = _session_rows(db, key)
    wait_for(lambda: _session_rows(db, key) > start, 30, "a new order row")
    return "right after an order row was committed"


def _kill_at_post(child: Child, proxy: Proxy, **_: object) -> str:
    proxy.order_seen.clear()
    wait_for(proxy.order_seen.is_set, 30, "an order POST")
    return "as the order POST reached the broker's door"


def _kill_while_held(
    child: Child, proxy: Proxy, rng: random.Random, held: list[threading.Event], **_: object
) -> str:
    held.append(proxy.hold_next_order())
    wait_for(proxy.order_seen.is_set, 30, "an order POST to hold")
    delay = rng.uniform(0.05, 0.5)
    threading.Event().wait(delay)  # a random moment inside the hold
    return f"{delay:.2f} s into the hold of its order POST"


KILLS: dict[str, Callable[..., str]] = {
    "cycles": _kill_after_cycles,
    "delay": _kill_after_delay,
    "row": _kill_at_row,
    "post": _kill_at_post,
    "held": _kill_while_held,
}


def _broker_knows(client: Any, cids: list[str]) -> bool:
    """The broker has every one of these orders."""
    for cid in cids:
        try:
            client.get_order_by_client_id(cid)
        except Exception:  # 404 (not yet) or any hiccup: ask again
            return False
    return True


def run_sandbox_chain(folder: Path, seed: int, moments: tuple[str, ...]) -> tuple[Figures, str]:
    """Kill one run per moment, restart at once, finish with a normal run; then compare."""
    rng = random.Random(seed)
    log: list[str] = []
    in_doubt: dict[str, AuditRow] = {}
    held: list[str] = []
    holds: list[threading.Event] = []
    db = folder / "chain.db"
    with (
        running_sandbox(faults="rate_limit=0", seed=seed) as sb,
        Proxy(sb.base_url) as proxy,
        Pump(sb, seed),
    ):
        env = sandbox_child_env(folder, sb, proxy.url)
        for i, moment in enumerate(moments):
            child = Child(folder, f"run{i}", live_args(db, 0), env)
            child.wait_cycles(1)
            while holds:  # the restart has reconciled and traded: now the broker gets it
                holds.pop().set()
            session = latest_session(db)
            assert session is not None
            how = KILLS[moment](
                child=child, db=db, key=session[1], proxy=proxy, rng=rng, held=holds
            )
            child.kill9()
            doubtful = in_doubt_rows(db, session[1])
            in_doubt |= doubtful
            if moment == "held":
                held += list(doubtful)
            log.append(f"run{i} ({session[1]}) killed {how}; unsettled rows: {sorted(doubtful)}")
        while holds:
            holds.pop().set()
        # The held orders reached the broker while later runs traded; the last run starts after.
        client = trading_client(sb)
        wait_for(lambda: _broker_knows(client, held), HELD_DEADLINE, "held orders at the broker")
        final = Child(folder, "final", live_args(db, 3), env)
        code = final.finish()
        log.append(f"final run exited {code}")
        result = compare(sb, db, in_doubt)
        if code != 0:
            result.problems.append(f"the run after the kills exited {code}:\n{final.tail()}")
    result.trials = len(moments)
    result.notes += log
    return result, "\n".join(log)


def run_local_chain(folder: Path, seed: int, kills: int) -> tuple[Figures, list[str]]:
    """Kill ``kills`` local sessions on one database, then run one to its end and the reports."""
    rng = random.Random(seed)
    db = folder / "local.db"
    env = local_env(folder)
    base = ["--db", str(db), "--interval", "1m", "--period", "1d", "--weights", "momentum"]
    failures = []
    for i in range(kills):
        child = Child(
            folder, f"local{i}", ["paper", *base, "--iterations", "0", "--seed", str(i)], env
        )
        child.wait_cycles(1)
        if rng.random() < 0.5:
            child.wait_cycles(rng.randint(2, 120), timeout=30)
        else:
            threading.Event().wait(rng.uniform(0.01, 0.4))  # a random moment
        child.kill9()
    after = [
        Child(folder, "after", ["paper", *base, "--iterations", "20"], env),
    ]
    for child in after:
        if child.finish() != 0:
            failures.append(f"paper after the kills failed:\n{child.tail()}")
    for report in (["status", "--db", str(db)], ["history", "--db", str(db), "--orders"]):
        child = Child(folder, report[0], report, env)
        if child.finish() != 0:
            failures.append(f"{report[0]} after the kills failed:\n{child.tail()}")
    result = compare_local(db)
    result.trials = kills
    return result, failures


@pytest.mark.timeout(300)
def test_kill_9_against_the_sandbox_loses_and_doubles_nothing(trial_dir: Path) -> None:
    """Six kills at seeded-random moments of ``live paper`` (two chains side by side): after
    the next start every broker order is in the audit trail once, with the broker's status and
    fills."""
    jobs = []
    for n, moments in enumerate(SANDBOX_CHAINS):
        folder = trial_dir / f"chain{n}"
        folder.mkdir()
        jobs.append(lambda f=folder, m=moments, s=SEED + n: run_sandbox_chain(f, s, m))
    result, logs = Figures(), []
    for figures_of_chain, log in side_by_side(*jobs):
        result.add(figures_of_chain)
        logs.append(log)
    figures.record("kill-sandbox", result)
    assert result.clean and not result.problems, describe(result) + "\n" + "\n".join(logs)


@pytest.mark.timeout(300)
def test_kill_9_of_local_sessions_leaves_a_whole_database(trial_dir: Path) -> None:
    """Four kills of ``paper`` on one database: integrity ok, every row's fills add up, and the
    next session and the reports run on the file."""
    result, failures = run_local_chain(trial_dir, SEED, LOCAL_KILLS)
    figures.record("kill-local", result)
    figures.verdict("kill-local", not failures)
    assert result.clean, describe(result)
    assert not failures, "\n".join(failures)
