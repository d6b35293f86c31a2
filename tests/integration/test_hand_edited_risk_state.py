"""A session does not start from a hand-edited risk state nobody can read.

The risk state (drawdown peak, the day's opening equity, the last equity) is what a session's
limits are measured from. Hand-edited to ``inf``, text or ``1e308``, the session started on it
before: with a peak of ``inf`` every drawdown is 100 % (or, at ``-inf``, none ever is). Now it
refuses in one line naming the row, exit 2, before any order; ``risk reset`` likewise refuses to
take a hand-edited snapshot equity as the new peak.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import FAST_BUDGET, pumping, sandbox_env
from tests.integration.cli_helpers import run_cli
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox

LIVE = ("--iterations", "3", "--every", "0.1", "--period", "1d", *FAST_BUDGET)
"""Three quick cycles (no wait for the desk's request budget: ``FAST_BUDGET``)."""
BAD = {"inf": "9e999", "-inf": "-9e999", "text": "'xyzzy'", "1e308": "1e308"}


def _live_paper(tmp_path: Path, sb: SandboxHandle, db: Path) -> subprocess.CompletedProcess[str]:
    """Three cycles of ``live paper`` on the sandbox's account."""
    args = ("live", "paper", *LIVE, "--db", str(db))
    return run_cli(tmp_path, *args, stdin="", timeout=120, env=sandbox_env(sb))


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxHandle, Path]]:
    """A sandbox (no request-rate limit) and the database of a first session's three cycles
    on its account, run once for every value (each test edits a copy): the same first run,
    repeated, took ~2.5 s a value. The tests send nothing (the session refuses), so they leave
    it as they find it. Its market moves by itself during the first run only, so that the
    first session's cycles end: the refusals need no bars, and a pump left running for the
    whole module stepped the market ~30 times a second under every refusal."""
    with running_sandbox(faults="rate_limit=0") as sandbox:
        place = tmp_path_factory.mktemp("first-run")
        db = place / "live.db"
        with pumping(sandbox):
            first = _live_paper(place, sandbox, db)
        assert first.returncode == 0, first.stderr
        yield sandbox, db


@pytest.mark.parametrize("value", BAD, ids=list(BAD))
def test_a_session_refuses_to_start_on_an_unreadable_risk_state(
    first_run: tuple[SandboxHandle, Path], tmp_path: Path, value: str
) -> None:
    """Exit 2, one line naming the row and column, no order sent."""
    sandbox, template = first_run
    db = tmp_path / "live.db"
    shutil.copyfile(template, db)
    orders = sandbox.admin.state()["orders"]["total"]
    with sqlite3.connect(db) as con:
        assert con.execute("UPDATE risk_state SET peak_equity = " + BAD[value]).rowcount == 1
    out = _live_paper(tmp_path, sandbox, db)
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "risk_state row alpaca:" in lines[0] and "peak_equity" in lines[0], lines[0]
    assert "refusing" in lines[0]
    assert sandbox.admin.state()["orders"]["total"] == orders


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database of five local ``paper`` cycles, run once for every value (each test edits
    a copy): the same run, repeated, was a child process of ~1 s a value."""
    place = tmp_path_factory.mktemp("paper-run")
    db = place / "a.db"
    assert run_cli(place, "paper", "--db", str(db), "--iterations", "5").returncode == 0
    return db


@pytest.mark.parametrize("value", BAD, ids=list(BAD))
def test_risk_reset_refuses_a_hand_edited_equity_as_the_new_peak(
    paper_run: Path, tmp_path: Path, value: str
) -> None:
    """Exit 2, one line naming the snapshot row; the risk state keeps its peak."""
    db = tmp_path / "a.db"
    shutil.copyfile(paper_run, db)
    with sqlite3.connect(db) as con:
        con.execute(
            "UPDATE live_account_snapshots SET equity = "
            + BAD[value]
            + " WHERE id = (SELECT MAX(id) FROM live_account_snapshots)"
        )
        before = con.execute("SELECT peak_equity FROM risk_state").fetchone()
    out = run_cli(tmp_path, "risk", "reset", "--yes", "--db", str(db))
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "live_account_snapshots row" in lines[0], out.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT peak_equity FROM risk_state").fetchone() == before
