"""``tui-trader fleet``, ``fleet halt`` and ``live monitor --all`` as a script would run them:
the listing marks dead sessions, ``--json`` is machine-readable, a halt is asked for, audited and
reaches the account's shared risk state, and bad input is one line and exit 2. The listing and
the halt also run on a PostgreSQL store (the ``store`` fixture: both engines)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.cli_helpers import run_cli
from tui_trader.core.clock import WallClock
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database, to_db_time
from tui_trader.store.liveness import window_for
from tui_trader.store.models import SessionRow, database
from tui_trader.store.pg_url import PgUrl

ALIVE_EVERY = 1200.0
"""Seconds between the alive session's cycles: its heartbeat window is then an hour
(``window_for``). The test's process stands in for that desk and never beats; with the
shortest window (30 s) a loaded machine, where each command here took some 5 s, aged its one
heartbeat past the window before the last listing, which then showed the session DIED."""


def _seed(db: Path | PgUrl) -> dict[str, str]:
    """Three sessions: one alive (this test's process, a desk with a long cycle whose window
    outlasts the test), one whose process is gone, one that ended; returns their keys by
    role."""
    audit = AuditLog(open_database(db), WallClock())
    keys = {}
    for role in ("alive", "gone", "ended"):
        row = audit.start_session("local", "paper", None, "test", ("SPY", "QQQ"), {})
        keys[role] = row.key
    SessionRow.update(heartbeat_window=window_for(ALIVE_EVERY)).where(
        SessionRow.key == keys["alive"]
    ).execute()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    SessionRow.update(pid=int(gone.stdout)).where(SessionRow.key == keys["gone"]).execute()
    ended = to_db_time(datetime.now(UTC) - timedelta(minutes=5))
    SessionRow.update(status="completed", ended_at=ended).where(
        SessionRow.key == keys["ended"]
    ).execute()
    database.close()
    return keys


def test_fleet_lists_every_session_and_marks_the_dead(tmp_path: Path, store: Path | PgUrl) -> None:
    """Plain columns with a header, the dead session marked with its reason; --running leaves
    out what ended; --json carries every field. On either engine."""
    db = store
    keys = _seed(db)
    out = run_cli(tmp_path, "fleet", "--db", str(db))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:5] == ["session", "state", "beat", "mode", "account"]
    by_key = {line.split()[0]: line for line in lines[1:]}
    assert by_key[keys["alive"]].split()[1] == "running"
    assert by_key[keys["gone"]].split()[1] == "DIED"
    assert "DEAD: process" in by_key[keys["gone"]] and "is gone from" in by_key[keys["gone"]]
    assert by_key[keys["ended"]].split()[1] == "stopped"
    running = run_cli(tmp_path, "fleet", "--running", "--db", str(db)).stdout
    assert keys["ended"] not in running and keys["alive"] in running
    rows = json.loads(run_cli(tmp_path, "fleet", "--json", "--db", str(db)).stdout)
    alive = next(r for r in rows if r["session"] == keys["alive"])
    assert alive["state"] == "running" and alive["symbols"] == ["SPY", "QQQ"]
    assert alive["account"] == f"local:{keys['alive']}" and alive["heartbeat_age_s"] >= 0
    assert next(r for r in rows if r["session"] == keys["gone"])["dead_why"].startswith("process")


def test_fleet_halt_asks_then_halts_the_account_with_who_and_where(
    tmp_path: Path, store: Path | PgUrl
) -> None:
    """Without a terminal or --yes it refuses (exit 2); with --yes it halts the session's
        account in the shared risk state and audits who asked, from which host and process; the
        listing then shows the session HALTED; a second halt says it already was; ``risk reset``
    lifts it as any other halt. On either engine."""
    db = store
    keys = _seed(db)
    refused = run_cli(tmp_path, "fleet", "halt", "--session", keys["alive"], "--db", str(db))
    assert refused.returncode == 2 and "confirmation" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    done = run_cli(tmp_path, "fleet", "halt", "--session", keys["alive"], "--yes", "--db", str(db))
    assert done.returncode == 0, done.stderr
    account = f"local:{keys['alive']}"
    assert f"{account}: HALTED (1 session(s))" in done.stdout
    open_database(db, create=False)
    try:
        state = database.execute_sql(
            "SELECT state, halt_reason FROM risk_state WHERE account_key = ?", (account,)
        ).fetchall()
        events = database.execute_sql(
            "SELECT event_type, detail FROM live_risk_events WHERE account_key = ?", (account,)
        ).fetchall()
    finally:
        database.close()
    assert state == [("halted", "manual_kill")]
    assert len(events) == 1 and events[0][0] == "manual_kill"
    assert "@" in events[0][1] and "(pid " in events[0][1] and "fleet halt" in events[0][1]
    listing = run_cli(tmp_path, "fleet", "--db", str(db)).stdout
    line = next(x for x in listing.splitlines() if x.startswith(keys["alive"]))
    assert line.split()[1] == "HALTED" and "account halted (manual_kill)" in line
    again = run_cli(tmp_path, "fleet", "halt", "--account", account, "--yes", "--db", str(db))
    assert again.returncode == 0 and "was already halted (manual_kill)" in again.stdout
    reset = run_cli(tmp_path, "risk", "reset", "--account", account, "--yes", "--db", str(db))
    assert reset.returncode == 0, reset.stdout + reset.stderr  # the usual way out of a halt
    listing = run_cli(tmp_path, "fleet", "--db", str(db)).stdout
    line = next(x for x in listing.splitlines() if x.startswith(keys["alive"]))
    assert line.split()[1] == "running"


def test_fleet_halt_all_halts_running_and_dead_looking_sessions(tmp_path: Path) -> None:
    """--all halts the account of every session that runs or looks dead (in doubt, halt), not
    that of a session that ended."""
    db = tmp_path / "fleet.db"
    keys = _seed(db)
    done = run_cli(tmp_path, "fleet", "halt", "--all", "--yes", "--db", str(db))
    assert done.returncode == 0, done.stderr
    halted = {
        line.split(":")[0] + ":" + line.split(":")[1]
        for line in done.stdout.splitlines()
        if "HALTED" in line
    }
    assert halted == {f"local:{keys['alive']}", f"local:{keys['gone']}"}


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """No database (a missing file, a PostgreSQL server nobody runs), an unknown session, --all
    with --session: one line on stderr, exit 2."""
    missing = tmp_path / "none.db"
    nobody = "postgresql://trader@127.0.0.1:1/desk"  # port 1: refused at once
    for args in (
        ("fleet", "--db", str(missing)),
        ("live", "monitor", "--all", "--db", str(missing)),
        ("fleet", "--db", nobody),
        ("fleet", "halt", "--all", "--yes", "--db", nobody),
        ("live", "monitor", "--all", "--db", nobody),
        ("fleet", "halt", "--all", "--session", "x", "--db", str(missing)),
    ):
        out = run_cli(tmp_path, *args)
        assert out.returncode == 2, args
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    db = tmp_path / "fleet.db"
    _seed(db)
    out = run_cli(tmp_path, "fleet", "halt", "--session", "nosuch", "--yes", "--db", str(db))
    assert out.returncode == 2 and "no session 'nosuch'" in out.stderr


def _halted_accounts(db: Path | PgUrl) -> list[str]:
    open_database(db, create=False)
    try:
        rows = database.execute_sql(
            "SELECT account_key FROM risk_state WHERE state = 'halted' ORDER BY account_key"
        ).fetchall()
    finally:
        database.close()
    return [key for (key,) in rows]


def test_fleet_halt_of_an_account_the_store_never_saw_is_refused_naming_the_known_ones(
    tmp_path: Path, store: Path | PgUrl
) -> None:
    """A typo in --account (an account no session traded and no risk state names) is refused in
    one line, exit 2, naming the accounts the database knows, before asking and with nothing
    halted: it halted the typo, silently, while the account meant traded on. --new halts such
    an account on purpose (its first session starts halted); after that it is known, and a halt
    of a known account is never refused. On either engine."""
    db = store
    keys = _seed(db)
    typo = run_cli(tmp_path, "fleet", "halt", "--account", "local:nope", "--yes", "--db", str(db))
    assert typo.returncode == 2, typo.stdout
    assert len(typo.stderr.strip().splitlines()) == 1 and "'local:nope'" in typo.stderr
    assert f"local:{keys['alive']}" in typo.stderr and "--new" in typo.stderr
    assert _halted_accounts(db) == []
    new = "alpaca:PA-NEW"
    first = run_cli(tmp_path, "fleet", "halt", "--account", new, "--new", "--yes", "--db", str(db))
    assert first.returncode == 0 and f"{new}: HALTED (0 session(s))" in first.stdout
    again = run_cli(tmp_path, "fleet", "halt", "--account", new, "--yes", "--db", str(db))
    assert again.returncode == 0 and "was already halted" in again.stdout
    known = run_cli(
        tmp_path, "fleet", "halt", "--account", f"local:{keys['ended']}", "--yes", "--db", str(db)
    )
    assert known.returncode == 0 and "HALTED" in known.stdout  # an ended session's account too
    assert _halted_accounts(db) == sorted([new, f"local:{keys['ended']}"])
    alone = run_cli(tmp_path, "fleet", "halt", "--all", "--new", "--yes", "--db", str(db))
    assert alone.returncode == 2 and "--new goes with --account" in alone.stderr


def test_fleet_halt_of_a_session_that_ended_days_ago_halts_its_account(tmp_path: Path) -> None:
    """--session names a session the listing no longer shows (it ended two days ago): its
    account is known, and a halt of a known account is never refused. It was refused as 'no
    session ... in the fleet', exit 2, and the account (which a new session may trade at any
    moment) stayed unhalted."""
    db = tmp_path / "fleet.db"
    keys = _seed(db)
    open_database(db, create=False)
    long_ago = to_db_time(datetime.now(UTC) - timedelta(days=2))
    SessionRow.update(ended_at=long_ago, heartbeat_at=long_ago, started_at=long_ago).where(
        SessionRow.key == keys["ended"]
    ).execute()
    database.close()
    assert keys["ended"] not in run_cli(tmp_path, "fleet", "--db", str(db)).stdout
    done = run_cli(tmp_path, "fleet", "halt", "--session", keys["ended"], "--yes", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert f"local:{keys['ended']}: HALTED (0 session(s))" in done.stdout
    assert _halted_accounts(db) == [f"local:{keys['ended']}"]


def test_fleet_db_before_halt_is_the_store_halted(tmp_path: Path) -> None:
    """``fleet --db desk.db halt --all`` (the form ``fleet``'s usage shows) halts desk.db's
    accounts. Before, the halt's own ``--db`` (unset) overrode it: the default store's
    accounts were halted, the command said HALTED, and desk.db's desks traded on. Two
    different ``--db`` around ``halt``: one line, exit 2, nothing halted."""
    default, desk = tmp_path / "default.db", tmp_path / "desk.db"
    mine = _seed(default)
    theirs = _seed(desk)
    env = {"TUI_TRADER_DB": str(default)}
    done = run_cli(tmp_path, "fleet", "--db", str(desk), "halt", "--all", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert f"local:{theirs['alive']}: HALTED" in done.stdout
    assert _halted_accounts(desk) == sorted(f"local:{theirs[r]}" for r in ("alive", "gone"))
    assert _halted_accounts(default) == [], f"the default store halted instead: {mine}"
    both = ("fleet", "--db", str(default), "halt", "--db", str(desk), "--all", "--yes")
    two = run_cli(tmp_path, *both)
    assert two.returncode == 2 and len(two.stderr.strip().splitlines()) == 1
    assert "two different --db" in two.stderr and "nothing halted" in two.stderr
    assert _halted_accounts(default) == []


def test_fleet_halt_counts_a_dead_looking_session_as_dead_not_running(tmp_path: Path) -> None:
    """A session whose process is gone (a desk killed on its machine) is halted with the
    others, in doubt, but it stops at no next cycle: the words say so. Before, `HALTED (1
    session(s))` and a halt event saying `1 running session(s) on the account stop at their
    next cycle` for a dead desk (7 "running" where 6 ran, in the pg29 campaign)."""
    db = tmp_path / "fleet.db"
    keys = _seed(db)
    done = run_cli(tmp_path, "fleet", "halt", "--all", "--yes", "--db", str(db))
    assert done.returncode == 0, done.stderr
    gone, alive = f"local:{keys['gone']}", f"local:{keys['alive']}"
    assert f"{gone}: HALTED (0 session(s) running, 1 looks dead)" in done.stdout, done.stdout
    assert f"{alive}: HALTED (1 session(s))" in done.stdout, done.stdout
    open_database(db, create=False)
    try:
        details = dict(
            database.execute_sql(
                "SELECT account_key, detail FROM live_risk_events WHERE event_type = 'manual_kill'"
            ).fetchall()
        )
    finally:
        database.close()
    assert "1 running session(s) on the account stop" in details[alive], details
    assert "running session(s)" not in details[gone], details
