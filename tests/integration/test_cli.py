"""The headless command line: output format, determinism, bad input, Ctrl+C, reports."""

from __future__ import annotations

import re
import signal
import sqlite3
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli, start_cli

LINE = re.compile(r"^iter=\d+ cash=[\d,]+\.\d\d equity=[\d,]+\.\d\d fills=\d+$")


def iteration_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("iter=")]


def test_paper_prints_the_header_and_phase_4_lines(tmp_path: Path) -> None:
    """A 50-iteration run: [LOCAL] header, 50 lines in the documented form, a summary."""
    db = tmp_path / "a.db"
    out = run_cli(tmp_path, "paper", "--db", str(db), "--iterations", "50")
    assert out.returncode == 0, out.stderr
    lines = iteration_lines(out.stdout)
    assert len(lines) == 50 and all(LINE.match(line) for line in lines)
    assert lines[0] == "iter=1 cash=100,000.00 equity=100,000.00 fills=0"
    header = [line for line in out.stdout.splitlines() if line.startswith("[LOCAL]")]
    assert "[LOCAL] Symbols: SPY, QQQ, IWM" in header
    assert f"[LOCAL] Database: {db}" in header
    assert any(line.startswith("[LOCAL] Starting cash: $100,000.00") for line in header)
    assert "Session completed: 50 iterations" in out.stdout
    assert out.stderr == ""


def test_same_seed_same_lines_other_seed_other_lines(tmp_path: Path) -> None:
    """Determinism across processes: the seed alone decides the session."""
    runs = {}
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        out = run_cli(
            tmp_path,
            "paper",
            "--db",
            str(tmp_path / f"{name}.db"),
            "--seed",
            seed,
            "--iterations",
            "80",
        )
        runs[name] = iteration_lines(out.stdout)
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]
    assert any(not line.endswith("fills=0") for line in runs["a"]), "the session traded"


def test_the_default_database_lives_in_the_user_data_directory(tmp_path: Path) -> None:
    """Without --db the session writes to the platform's data folder and says where."""
    out = run_cli(tmp_path, "paper", "--iterations", "2")
    assert out.returncode == 0
    assert str(tmp_path / "data" / "tui-trader" / "tui_trader.db") in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--symbols", ""], "empty symbol"),
        (["--symbols", "SPY,,QQQ"], "empty symbol"),
        (["--symbols", "SP Y"], "invalid symbol"),
        (["--symbols", "SPY,SPY"], "duplicate symbol"),
        (["--interval", "7x"], "unknown interval '7x'"),
        (["--period", "7x"], "unknown period '7x'"),
        (["--start-cash", "-5"], "greater than zero"),
        (["--start-cash", "lots"], "not a number"),
        (["--max-drawdown", "-1"], "percentage"),
        (["--max-daily-loss", "0"], "percentage"),
        (["--max-position", "150"], "percentage"),
        (["--max-orders-per-day", "0"], "at least 1"),
        (["--iterations", "-3"], "must not be negative"),
        (["--data", "bogus"], "unknown data source"),
        (["--data", "replay:/nonexistent/bars.csv"], "no such file"),
        (["--no-such-option"], "unrecognized arguments"),
        (["--batch"], "--batch replays a file"),
        (["--batch", "--data", "replay:/nonexistent/bars.csv"], "--iterations 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """Every mistake gets one line on stderr, exit code 2, and never a traceback."""
    out = run_cli(tmp_path, "paper", "--db", str(tmp_path / "x.db"), *args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("tui-trader: error:") and message in lines[0]
    assert "Traceback" not in out.stderr + out.stdout


def test_unusable_database_path_is_a_usage_error(tmp_path: Path) -> None:
    """A directory, or a path under a file, cannot be the database."""
    (tmp_path / "afile").write_text("x")
    for path in (tmp_path, tmp_path / "afile" / "db.sqlite"):
        out = run_cli(tmp_path, "paper", "--db", str(path), "--iterations", "1")
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.parametrize(
    ("before", "option"),
    [
        (["--db", "elsewhere.db"], "--db"),
        (["--config", "limits.toml"], "--config"),
        (["--enable-live"], "--enable-live"),
        (["--skip-readiness"], "--skip-readiness"),
    ],
)
def test_the_apps_options_before_a_command_are_refused_not_ignored(
    tmp_path: Path, before: list[str], option: str
) -> None:
    """``tui-trader --db X paper`` would write the session to the default database, and
    ``--config`` there would trade without the named settings: one line, exit 2, nothing run."""
    (tmp_path / "limits.toml").write_text("max_drawdown = 1.0\n")
    out = run_cli(tmp_path, *before, "paper", "--iterations", "1")
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert f"{option} before a command" in lines[0] and "tui-trader paper " in lines[0]
    assert not out.stdout and not list(tmp_path.rglob("*.db")), "nothing may run"


def test_a_corrupt_database_is_refused_in_one_line(tmp_path: Path) -> None:
    """A file that is not SQLite is reported, not traded on."""
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    out = run_cli(tmp_path, "paper", "--db", str(bad), "--iterations", "1")
    assert out.returncode == 2
    assert "is not a SQLite database" in out.stderr and "Traceback" not in out.stderr


def test_replay_file_runs_to_its_end_with_iterations_0(tmp_path: Path) -> None:
    """--iterations 0 on a replay file stops at its last bar."""
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    for d in range(40):
        px = 100 + d
        rows.append(f"2024-02-{1 + d % 28:02d}T14:30:00Z,SPY,{px},{px + 1},{px - 1},{px},100")
    rows = rows[:29]
    path = tmp_path / "bars.csv"
    path.write_text("\n".join(rows) + "\n")
    out = run_cli(
        tmp_path,
        "paper",
        "--db",
        str(tmp_path / "r.db"),
        "--data",
        f"replay:{path}",
        "--period",
        "5d",
        "--iterations",
        "0",
    )
    assert out.returncode == 0, out.stderr
    assert len(iteration_lines(out.stdout)) == 28 - 5
    assert "Session end_of_data" in out.stdout


def _minute_file(path: Path, days: int = 3) -> Path:
    """Two symbols' seeded random walks in 1-minute bars (390 a day) as a CSV file."""
    import random

    rng = random.Random(4)
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    prices = {"AAA": 100.0, "BBB": 50.0}
    for day in range(days):
        for minute in range(390):
            stamp = f"2024-03-{4 + day:02d}T{14 + (30 + minute) // 60:02d}:{(30 + minute) % 60:02d}"
            for symbol, prev in prices.items():
                close = round(prev * (1 + rng.gauss(0.0, 0.002)), 2)
                high, low = max(prev, close) + 0.01, min(prev, close) - 0.01
                rows.append(f"{stamp}:00Z,{symbol},{prev},{high:.2f},{low:.2f},{close},1000")
                prices[symbol] = close
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("stops", [[], ["--stop-loss", "0.5"]], ids=["plain", "stop-loss"])
def test_batch_replay_writes_what_the_cycle_by_cycle_replay_writes(
    tmp_path: Path, stops: list[str]
) -> None:
    """--batch leaves the same orders, trades and final equity as the same replay printed
    cycle by cycle (one money path: the engine's own cycle, protective stops included); it
    prints no line per cycle."""
    path = _minute_file(tmp_path / "minutes.csv")
    common = ["--data", f"replay:{path}", "--interval", "1m", "--period", "1d"]
    common += ["--iterations", "0", "--weights", "trend", *stops]
    common += ["--commit-every", "50", "--snapshot-every", "50"]
    facts = {}
    for name, extra in (("cycles", []), ("batch", ["--batch"])):
        db = tmp_path / f"{name}.db"
        out = run_cli(tmp_path, "paper", "--db", str(db), *common, *extra)
        assert out.returncode == 0, out.stderr
        with sqlite3.connect(db) as con:
            orders = con.execute("SELECT symbol, side, quantity, status FROM live_orders")
            trades = con.execute("SELECT symbol, pnl FROM live_trades")
            equity = con.execute(
                "SELECT equity FROM live_account_snapshots ORDER BY id DESC LIMIT 1"
            )
            facts[name] = (orders.fetchall(), trades.fetchall(), equity.fetchone())
        summary = [line for line in out.stdout.splitlines() if "Session end_of_data" in line]
        facts[name] += (summary,)
        if name == "batch":
            assert "Batch replay (no line per cycle)" in out.stdout
            assert iteration_lines(out.stdout) == []
    assert len(facts["cycles"][0]) > 10 and facts["batch"] == facts["cycles"]
    if stops:
        with sqlite3.connect(tmp_path / "batch.db") as con:
            protective = con.execute(
                "SELECT COUNT(*) FROM live_orders WHERE rationale LIKE 'protective stop%'"
            ).fetchone()[0]
        assert protective > 0


def test_batch_replay_of_the_adaptive_blend_replays_the_whole_file(tmp_path: Path) -> None:
    """--batch with the default learning blend replays the whole file, no line per cycle."""
    path = _minute_file(tmp_path / "minutes.csv", days=2)
    out = run_cli(
        tmp_path, "paper", "--db", str(tmp_path / "a.db"), "--data", f"replay:{path}",
        "--interval", "1m", "--period", "1d", "--iterations", "0", "--batch",
        "--commit-every", "50",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Batch replay (no line per cycle)" in out.stdout
    assert iteration_lines(out.stdout) == []
    assert "Session end_of_data: 390 iterations" in out.stdout


def test_bad_replay_file_names_the_file(tmp_path: Path) -> None:
    """A replay file with a problem stops before trading, naming the file."""
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,symbol,open,high,low,volume\n2024-01-02,SPY,1,2,1,1\n")
    out = run_cli(tmp_path, "paper", "--data", f"replay:{path}", "--db", str(tmp_path / "d.db"))
    assert out.returncode == 2
    assert str(path) in out.stderr and "missing column(s) close" in out.stderr


def _wait_for_lines(proc, count: int) -> list[str]:
    """Read stdout until ``count`` iteration lines have been printed."""
    seen = []
    for line in proc.stdout:
        if line.startswith("iter="):
            seen.append(line)
            if len(seen) >= count:
                return seen
    raise AssertionError("the session ended before printing enough lines")


def test_ctrl_c_finishes_the_iteration_and_prints_a_summary(tmp_path: Path) -> None:
    """One Ctrl+C: the session stops cleanly, writes its final state and summarizes."""
    db = tmp_path / "c.db"
    proc = start_cli(tmp_path, "paper", "--db", str(db), "--iterations", "0", "--every", "0.02")
    try:
        _wait_for_lines(proc, 3)
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Session stopped" in rest and "Traceback" not in err
    with sqlite3.connect(db) as con:
        status, iterations = con.execute("SELECT status, iterations FROM sessions").fetchone()
        snaps = con.execute("SELECT count(*) FROM live_account_snapshots").fetchone()[0]
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert status == "stopped" and snaps == iterations >= 3


def test_second_ctrl_c_exits_at_once_and_the_database_stays_whole(tmp_path: Path) -> None:
    """Two Ctrl+C in a row: exit code 130, no traceback, database integrity intact."""
    db = tmp_path / "d.db"
    proc = start_cli(tmp_path, "paper", "--db", str(db), "--iterations", "0", "--every", "5")
    try:
        _wait_for_lines(proc, 1)
        proc.send_signal(signal.SIGINT)
        for line in proc.stdout:
            if "stopping after this iteration" in line:
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    # 130: the second press left at once; 0: the session had already ended; -SIGINT: the press
    # met Python's interpreter shutdown, which restores the default handler (a shell shows 130
    # for it too). Each leaves the database whole and prints no traceback.
    assert proc.returncode in (0, 130, -signal.SIGINT)
    assert "Traceback" not in err and "Exception ignored" not in err
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_history_pnl_and_status_read_the_session(tmp_path: Path) -> None:
    """After a session, the three reports show its trades, days and account."""
    db = tmp_path / "r.db"
    run_cli(tmp_path, "paper", "--db", str(db), "--iterations", "150")
    history = run_cli(tmp_path, "history", "--db", str(db), "--limit", "5")
    assert history.returncode == 0 and "Trades: session" in history.stdout
    assert len(re.findall(r"^ ?\d+ +2024-", history.stdout, flags=re.M)) == 5
    orders = run_cli(tmp_path, "history", "--db", str(db), "--orders", "--limit", "3", "--verbose")
    assert "SMA10" in orders.stdout
    pnl = run_cli(tmp_path, "pnl", "--db", str(db), "--period", "7d")
    assert pnl.returncode == 0 and "total" in pnl.stdout
    assert len(re.findall(r"│ 2024-\d\d-\d\d", pnl.stdout)) == 5, "7 calendar days, 5 trading"
    status = run_cli(tmp_path, "status", "--db", str(db))
    assert status.returncode == 0
    assert "equity" in status.stdout and "risk: ACTIVE" in status.stdout
    assert "session OPEN" in status.stdout, "daily bars are stamped at the open"


@pytest.mark.parametrize("command", ["history", "pnl", "status"])
def test_reports_on_a_missing_database_fail_in_one_line(tmp_path: Path, command: str) -> None:
    """No database yet: one line saying so, exit 2."""
    out = run_cli(tmp_path, command, "--db", str(tmp_path / "none.db"))
    assert out.returncode == 2 and "no database" in out.stderr


def test_pnl_rejects_an_unknown_period(tmp_path: Path) -> None:
    """--period 7x is refused."""
    db = tmp_path / "p.db"
    run_cli(tmp_path, "paper", "--db", str(db), "--iterations", "2")
    out = run_cli(tmp_path, "pnl", "--db", str(db), "--period", "7x")
    assert out.returncode == 2 and "unknown period" in out.stderr


def test_risk_reset_needs_confirmation_and_is_audited(tmp_path: Path) -> None:
    """Without a terminal or --yes the reset is refused; with --yes it lifts the halt."""
    from tests.conftest import make_session

    db = tmp_path / "k.db"
    session = make_session(db, account_key="alpaca:PA1")
    session.request_kill(who="test")
    session.run_iteration()
    session.finish("stopped")
    refused = run_cli(tmp_path, "risk", "reset", "--db", str(db), stdin="reset\n")
    assert refused.returncode == 2 and "confirmation" in refused.stderr
    done = run_cli(tmp_path, "risk", "reset", "--db", str(db), "--yes")
    assert done.returncode == 0 and "trading ACTIVE" in done.stdout
    with sqlite3.connect(db) as con:
        state = con.execute("SELECT state FROM risk_state WHERE account_key='alpaca:PA1'")
        assert state.fetchone()[0] == "active"
        events = [r[0] for r in con.execute("SELECT event_type FROM live_risk_events")]
    assert events == ["manual_kill", "risk_reset"]
    shown = run_cli(tmp_path, "risk", "show", "--db", str(db))
    assert "alpaca:PA1" in shown.stdout and "ACTIVE" in shown.stdout


def test_replay_cadences_keep_every_order_and_thin_the_snapshots(tmp_path: Path) -> None:
    """--snapshot-every and --commit-every: the same lines and orders, fewer snapshots."""
    runs = {}
    for name, extra in (("a", []), ("b", ["--snapshot-every", "20", "--commit-every", "7"])):
        db = tmp_path / f"{name}.db"
        out = run_cli(tmp_path, "paper", "--db", str(db), "--iterations", "50", *extra)
        assert out.returncode == 0, out.stderr
        with sqlite3.connect(db) as con:
            orders = con.execute(
                "SELECT symbol, side, quantity, status FROM live_orders"
            ).fetchall()
            snaps = [i for (i,) in con.execute("SELECT iteration FROM live_account_snapshots")]
        runs[name] = (iteration_lines(out.stdout), orders, snaps)
    assert runs["a"][0] == runs["b"][0] and runs["a"][1] == runs["b"][1]
    assert len(runs["a"][2]) == 50
    assert {20, 40, 50} <= set(runs["b"][2]) and len(runs["b"][2]) < 10
