"""Local sessions and reports on one database at the same time (issue 12, part 4).

Three ``paper`` sessions start together on one file while ``status`` and ``history`` read it;
every one of them must finish (no ``database is locked``), the file must stay whole, and each
session's rows must add up.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability import figures
from tests.reliability.audit_check import compare_local, describe
from tests.reliability.harness import Child, local_env, wait_for

SESSIONS = 3


@pytest.mark.timeout(300)
def test_sessions_and_reports_on_one_database_all_finish(trial_dir: Path) -> None:
    """Three sessions and two reports at once on one file: all exit 0, integrity ok."""
    db = trial_dir / "t.db"
    env = local_env(trial_dir)
    children = [
        Child(
            trial_dir,
            f"paper{n}",
            [
                "paper",
                "--iterations",
                "200",
                "--interval",
                "5m",
                "--period",
                "5d",
                "--seed",
                str(n),
                "--db",
                str(db),
            ],
            env,
        )
        for n in range(SESSIONS)
    ]
    first = children[0]
    wait_for(lambda: first.cycles() >= 1 or not first.alive(), 60, "the first session's cycle")
    children += [
        Child(trial_dir, "status", ["status", "--db", str(db)], env),
        Child(trial_dir, "history", ["history", "--db", str(db), "--session", "all"], env),
    ]
    codes = {child.name: child.finish(120) for child in children}
    failed = [f"{c.name} exited {codes[c.name]}:\n{c.tail()}" for c in children if codes[c.name]]
    result = compare_local(db)
    result.trials = 1
    figures.record("shared-database", result)
    figures.verdict("shared-database", not failed)
    assert not failed, "\n".join(failed)
    assert result.clean, describe(result)
