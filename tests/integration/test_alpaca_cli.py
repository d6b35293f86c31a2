"""``tui-trader live ...`` as a user runs it: against the sandbox, in a child process."""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env
from tests.integration.cli_helpers import cli_env
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox
from tui_trader.store.db import open_database

SECRET = "zz-SECRET-never-shown-7c1f9e2b"
LIVE_PAPER = [sys.executable, "-m", "tui_trader", "live", "paper"]
HOURS_OFF = ["--ignore-market-hours"]


@pytest.fixture
def stepped() -> Iterator[SandboxHandle]:
    """A sandbox with a distinctive secret, its market stepped (rallying) by a thread."""
    with running_sandbox(secret=SECRET) as sb:
        stop = threading.Event()

        def pump() -> None:
            n = 0
            while not stop.wait(0.03):
                shock = {"SPY": 1.0, "QQQ": 1.0, "IWM": 1.0} if n < 8 else None
                sb.admin.step(shock=shock)
                n += 1

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        yield sb
        stop.set()
        thread.join(timeout=5)


def live(tmp_path: Path, sb: SandboxHandle | None, *args: str, stdin=None, extra_env=None, **kw):
    """Run ``python -m tui_trader live ARGS`` with the sandbox's variables exported (and
    ``extra_env``)."""
    env = cli_env(tmp_path)
    if sb is not None:
        env.update(sandbox_env(sb))
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "tui_trader", "live", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        **kw,
    )


def test_live_paper_runs_20_iterations_and_never_leaks_the_secret(
    stepped: SandboxHandle, tmp_path: Path
) -> None:
    """Header as the document shows it, 20 lines, orders and fills in the database; the
    secret is nowhere: not in the output, the database, its WAL, or the log file."""
    db = tmp_path / "live.db"
    fast = ("--every", "0.05", *FAST_BUDGET)  # no wait for the desk's request budget
    out = live(tmp_path, stepped, "paper", "--iterations", "20", *fast, "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert "[LIVE] Paper Trading Mode on Alpaca" in out.stdout
    assert f"[LIVE] Connected to: {stepped.base_url} (not an Alpaca URL" in out.stdout
    assert "Pattern day trader:" in out.stdout
    assert len([x for x in out.stdout.splitlines() if x.startswith("iter=")]) == 20
    with sqlite3.connect(db) as con:
        orders = con.execute("SELECT count(*) FROM live_orders").fetchone()[0]
        fills = con.execute("SELECT count(*) FROM live_fills").fetchone()[0]
        mode, account = con.execute("SELECT mode, account_key FROM sessions").fetchone()
        reasons = [r for (r,) in con.execute("SELECT rationale FROM live_orders") if r]
    assert orders >= 3 and fills >= 3
    assert mode == "paper" and account.startswith("alpaca:")
    log = tmp_path / "state" / "tui-trader" / "log" / "tui-trader.log"
    assert log.is_file()
    places = {"stdout": out.stdout, "stderr": out.stderr}
    for path in [db, Path(f"{db}-wal"), log]:
        if path.exists():
            places[path.name] = path.read_bytes().decode("latin-1")
    for name, text in places.items():
        assert SECRET not in text, f"the secret leaked into {name}"
    history = live(tmp_path, None, "history", "--db", str(db), "--orders", "--verbose")
    assert history.returncode == 0 and "(paper, alpaca" in history.stdout
    # each order's reason, as the strategy that sent it gave it (which strategy traded depends
    # on how the pumped market's steps fell between the desk's cycles: not always SMA10's)
    assert reasons and any(r.split(";")[0][:24] in history.stdout for r in reasons), reasons
    pnl = live(tmp_path, None, "pnl", "--db", str(db), "--period", "7d")
    assert pnl.returncode == 0 and "total" in pnl.stdout


def test_live_status_shows_account_clock_and_risk(stepped: SandboxHandle, tmp_path: Path):
    """``live status`` reads the account, positions, orders and the market clock."""
    out = live(tmp_path, stepped, "status")
    assert out.returncode == 0, out.stderr
    assert "account PA" in out.stdout and "market OPEN (exchange calendar: " in out.stdout
    assert "position(s)" in out.stdout and SECRET not in out.stdout


def test_live_status_reads_the_database_named_by_the_environment(
    stepped: SandboxHandle, tmp_path: Path
) -> None:
    """``$TUI_TRADER_DB`` is where every other command finds the store; ``live status`` left
    the risk state out unless ``--db`` was typed (hostile28b)."""
    db = tmp_path / "env.db"
    open_database(db).close()
    out = live(tmp_path, stepped, "status", extra_env={"TUI_TRADER_DB": str(db)})
    assert out.returncode == 0, out.stderr
    assert "risk state: ACTIVE; orders today 0" in out.stdout


def test_live_trading_refuses_without_enable_live_before_connecting(tmp_path: Path) -> None:
    """No flag: refused in one line, exit 2, with no credentials even needed."""
    out = live(tmp_path, None, "trading")
    assert out.returncode == 2
    assert "--enable-live" in out.stderr and "no connection was made" in out.stderr


def _live_trading_on_a_terminal(
    tmp_path: Path, sb: SandboxHandle, typed: bytes, gate: tuple[str, ...] = ("--skip-readiness",)
):
    """Run ``live trading --enable-live`` with a pseudo-terminal as its standard input (past the
    paper-to-live gate unless ``gate`` is empty), without the desk's request budget wait."""
    master, slave = pty.openpty()
    env = cli_env(tmp_path) | sandbox_env(sb)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui_trader",
            "live",
            "trading",
            "--enable-live",
            "--iterations",
            "2",
            "--every",
            "0.05",
            "--db",
            str(tmp_path / "t.db"),
            *FAST_BUDGET,
            *gate,
        ],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    os.close(slave)
    os.write(master, typed)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("typed", [b"yes i understand\n", b"YES\n", b"\n", b"YES I UNDERSTAND \n"])
def test_live_trading_wrong_phrase_sends_nothing(
    stepped: SandboxHandle, tmp_path: Path, typed: bytes
) -> None:
    """Anything but the exact phrase aborts: exit 2, no order at the sandbox."""
    code, out, err = _live_trading_on_a_terminal(tmp_path, stepped, typed)
    assert code == 2
    assert "LIVE TRADING WARNING" in out and "Max drawdown (kill switch): 5.0%" in out
    assert "not confirmed" in err
    assert stepped.admin.state()["orders"]["total"] == 0


def test_the_live_warning_says_the_limits_are_of_the_equity_cap(
    stepped: SandboxHandle, tmp_path: Path
) -> None:
    """With ``--start-cash`` (the equity cap) every percentage limit is of the desk's cap, not
    of the whole account (``risk.gate``): the real-money warning says which; before, it said
    "of equity" over limits that then let the desk lose half its money."""
    capped = ("--skip-readiness", "--start-cash", "10000")
    code, out, _ = _live_trading_on_a_terminal(tmp_path, stepped, b"no\n", gate=capped)
    assert code == 2
    assert "Percentages are of: the desk's $10,000.00 equity cap (the account's equity if" in out
    code, out, _ = _live_trading_on_a_terminal(tmp_path, stepped, b"no\n")
    assert code == 2 and "Percentages are of: the account's equity" in out


def test_live_trading_with_the_phrase_trades_and_names_the_url(
    stepped: SandboxHandle, tmp_path: Path
) -> None:
    """The exact phrase on a terminal starts live trading, which says where it connected."""
    code, out, err = _live_trading_on_a_terminal(tmp_path, stepped, b"YES I UNDERSTAND\n")
    assert code == 0, err
    assert "LIVE TRADING (real money)" in out
    assert f"Connected to: {stepped.base_url} (not an Alpaca URL" in out
    assert "not ready: no Alpaca paper sessions" in out and "--skip-readiness:" in out
    with sqlite3.connect(tmp_path / "t.db") as conn:
        skipped = conn.execute(
            "SELECT account_key, detail FROM live_risk_events WHERE event_type = ?",
            ("readiness_skipped",),
        ).fetchall()
    assert len(skipped) == 1 and skipped[0][0].startswith("alpaca:")
    assert skipped[0][1].startswith("not ready: no Alpaca paper sessions")


def test_live_trading_refuses_without_a_ready_paper_record(
    stepped: SandboxHandle, tmp_path: Path
) -> None:
    """No paper record and no --skip-readiness: the verdict is shown, the phrase never asked,
    exit 1, nothing sent."""
    code, out, err = _live_trading_on_a_terminal(tmp_path, stepped, b"YES I UNDERSTAND\n", ())
    assert code == 1
    assert "LIVE TRADING WARNING" in out and "not ready: no Alpaca paper sessions" in out
    assert "live trading refused: the paper record is not ready" in err
    assert "Type YES I UNDERSTAND" not in out
    assert stepped.admin.state()["orders"]["total"] == 0


def test_live_trading_without_a_terminal_aborts(stepped: SandboxHandle, tmp_path: Path) -> None:
    """Piped input (no TTY) is refused even if it holds the phrase."""
    out = subprocess.run(
        [sys.executable, "-m", "tui_trader", "live", "trading", "--enable-live"],
        input="YES I UNDERSTAND\n",
        capture_output=True,
        text=True,
        env=cli_env(tmp_path) | sandbox_env(stepped),
        cwd=tmp_path,
        timeout=60,
    )
    assert out.returncode == 2 and "on a terminal" in out.stderr
    assert stepped.admin.state()["orders"]["total"] == 0


@pytest.mark.parametrize(
    ("env", "words", "code"),
    [
        ({}, "Alpaca credentials not found", 2),
        (
            {
                "APCA_API_KEY_ID": "k",
                "APCA_API_SECRET_KEY": "s",
                "APCA_API_BASE_URL": "https://api.alpaca.markets",
            },
            "refusing to paper-trade",
            2,
        ),
        (
            {
                "APCA_API_KEY_ID": "k",
                "APCA_API_SECRET_KEY": "s",
                "APCA_API_BASE_URL": "http://127.0.0.1:9",
            },
            "cannot reach Alpaca at http://127.0.0.1:9 (paper)",
            2,
        ),
    ],
)
def test_live_paper_troubleshooting_messages(tmp_path: Path, env, words: str, code: int) -> None:
    """Missing keys, the live URL for paper, a refused connection: one plain line each."""
    full = cli_env(tmp_path) | env
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui_trader",
            "live",
            "paper",
            "--iterations",
            "1",
            "--timeout",
            "1",
            "--db",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        env=full,
        cwd=tmp_path,
        timeout=60,
    )
    assert out.returncode == code
    assert words in out.stderr and len(out.stderr.splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_live_trading_refuses_the_paper_url(tmp_path: Path) -> None:
    """Live with Alpaca's paper URL is refused before connecting."""
    env = cli_env(tmp_path) | {
        "APCA_API_KEY_ID": "k",
        "APCA_API_SECRET_KEY": "s",
        "APCA_API_BASE_URL": "https://paper-api.alpaca.markets",
    }
    out = subprocess.run(
        [sys.executable, "-m", "tui_trader", "live", "trading", "--enable-live"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert out.returncode == 2 and "PAPER host" in out.stderr


def test_credentials_come_from_a_dotenv_file(stepped: SandboxHandle, tmp_path: Path) -> None:
    """A .env in the working directory is enough; the process environment would win."""
    lines = [f"{k}={v}" for k, v in sandbox_env(stepped).items()]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    out = live(tmp_path, None, "status")
    assert out.returncode == 0, out.stderr
    assert SECRET not in out.stdout + out.stderr


def test_the_two_terminal_rehearsal_from_the_readme(tmp_path: Path) -> None:
    """``tui-trader sandbox`` in one process, its printed export line (the keys and
    APCA_API_BASE_URL only, what Alpaca's users set) in another: live paper derives the stream
    URL from the base URL, connects, streams and places orders (issue 15's acceptance)."""
    import re
    import signal

    env = cli_env(tmp_path)
    env["PYTHONUNBUFFERED"] = "1"
    server = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", "sandbox", "--port", "0", "--speed", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    db = tmp_path / "r.db"
    try:
        export = None
        for line in server.stdout:
            if line.strip().startswith("export "):
                export = line.strip()
                break
        assert export, "the sandbox printed an export line"
        exported = dict(re.findall(r"(APCA_\w+)=(\S+)", export))
        assert set(exported) == {"APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "APCA_API_BASE_URL"}
        out = subprocess.run(
            # equal weights: the learned blend may rightly stay in cash for 8 bars, and this
            # test is about the connection, so it needs a blend that trades
            [
                *LIVE_PAPER,
                "--iterations",
                "8",
                "--every",
                "0.5",
                *HOURS_OFF,
                "--db",
                str(db),
                "--weights",
                "equal",
            ],
            capture_output=True,
            text=True,
            env=cli_env(tmp_path) | exported,
            cwd=tmp_path,
            timeout=120,
        )
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
    assert out.returncode == 0, out.stderr
    assert len([x for x in out.stdout.splitlines() if x.startswith("iter=")]) == 8
    assert "stream is down" not in out.stdout
    with sqlite3.connect(db) as con:
        orders = con.execute("SELECT count(*) FROM live_orders").fetchone()[0]
    assert orders >= 1, out.stdout
    assert server.returncode == 0


def test_a_trade_updates_stream_that_cannot_connect_stops_the_session(tmp_path: Path) -> None:
    """REST answers but the stream URL leads nowhere: one plain line naming the stream, exit 2,
    no iteration (it used to run idle, printing "the trade-updates stream is down", exit 0).
    ``--timeout 2``: the stream is waited for the start's least 5 s, not the default timeout's
    10."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    db = tmp_path / "d.db"
    with running_sandbox() as sb:
        env = cli_env(tmp_path) | sandbox_env(sb)
        env["APCA_API_STREAM_URL"] = f"ws://127.0.0.1:{dead}/stream"
        quick = ["--iterations", "2", "--every", "0.1", "--timeout", "2", *HOURS_OFF]
        out = subprocess.run(
            [*LIVE_PAPER, *quick, "--db", str(db)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "iter=" not in out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "trade-updates stream" in lines[0], out.stderr
    assert f"127.0.0.1:{dead}/stream" in lines[0] and "Traceback" not in out.stderr
