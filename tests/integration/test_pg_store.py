"""The audit store on a real PostgreSQL server (a throwaway cluster on loopback).

What a user of ``--db postgresql://...`` notices: two desks at once on one store both finish
and the reports read them back from the same URL; a bad URL, an unreachable server, a wrong
password or another program's database is one line and exit code 2, never the password; a
server that goes away mid-session halts trading loudly and keeps every row written before.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
import pytest

from tests.conftest import make_session
from tests.integration.cli_helpers import cli_env, run_cli, start_cli
from tests.pg_cluster import TRADER, TRADER_PASSWORD, PgCluster
from tui_trader.cli import main
from tui_trader.core.clock import FrozenClock
from tui_trader.core.domain import Account, TradingState
from tui_trader.core.orders import Fill, OrderRequest, Side
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import AccountSnapshot, LiveFill, LiveOrder, RiskStateRow
from tui_trader.store.pg import store_lost
from tui_trader.store.pg_url import PgUrl, parse_db_url

DEADLINE = 60.0


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``tui-trader ARGS`` in this process: exit code, stdout, stderr."""
    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(what: str, check: object) -> None:
    """Poll ``check`` until it is true, failing with ``what`` at the deadline."""
    deadline = time.monotonic() + DEADLINE
    pause = threading.Event()
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:  # the tables may not exist yet
            pass
        pause.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_paper_desks_at_once_on_one_postgresql_store(
    pg_cluster: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    """Two ``paper --iterations 80`` at once both complete; ``history``, ``pnl`` and ``status``
    read them from the same URL; the rows are in PostgreSQL."""
    procs = [
        start_cli(tmp_path, "paper", "--iterations", "80", "--seed", str(seed), "--db", pg_url)
        for seed in (1, 2)
    ]
    results = [p.communicate(timeout=DEADLINE) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, out[-500:] + err
        assert "Session completed: 80 iterations" in out
    database = pg_url.rsplit("/", 1)[1]
    sessions = pg_cluster.rows(database, "SELECT key, status, iterations FROM sessions")
    assert sorted((s, n) for _k, s, n in sessions) == [("completed", 80), ("completed", 80)]
    snaps = pg_cluster.rows(database, "SELECT count(*) FROM live_account_snapshots")
    assert snaps == [(160,)]
    trades = pg_cluster.rows(database, "SELECT count(*) FROM live_trades")[0][0]
    assert trades > 0, "the seeded sessions should close trades"

    history = run_cli(tmp_path, "history", "--session", "all", "--limit", "500", "--db", pg_url)
    assert history.returncode == 0, history.stderr
    shown = [line for line in history.stdout.splitlines() if " long " in line or " short " in line]
    assert len(shown) == trades
    pnl = run_cli(tmp_path, "pnl", "--session", "all", "--db", pg_url)
    assert pnl.returncode == 0, pnl.stderr
    assert "2024-" in pnl.stdout
    for key, _status, _n in sessions:
        status = run_cli(tmp_path, "status", "--session", key, "--db", pg_url)
        assert status.returncode == 0, status.stderr
        assert f"Session {key}" in status.stdout and "status=completed" in status.stdout


def test_bad_urls_and_servers_are_one_line_and_exit_2(
    pg_cluster: PgCluster, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another scheme, a server that does not answer, a wrong password, a missing database:
    one line on stderr, exit 2, no traceback, never the password. ``live readiness`` reads the
    record on a connection of its own: before, it ended with ``OperationalError: connection
    failed: ...`` and a crash log (and so did the gate of ``live trading``)."""
    secret = "Wr0ngPassw0rd-xyz"
    port = pg_cluster.port
    cases = {
        "mysql://u:p@127.0.0.1/x": "not supported",
        f"postgresql://{TRADER}@127.0.0.1:{_closed_port()}/desk": "cannot be reached",
        f"postgresql://{TRADER}:{secret}@127.0.0.1:{port}/postgres": "refused the password",
        f"postgresql://{TRADER}@127.0.0.1:{port}/no_such_db": "does not exist",
    }
    for command in (["history"], ["live", "readiness"]):
        for url, says in cases.items():
            code, out, err = _cli([*command, "--db", url], capsys)
            assert code == 2, (command, url, out, err)
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("tui-trader: error:"), err
            assert says in lines[0] and "crash.log" not in err, lines[0]
            assert secret not in err + out and "Traceback" not in err


def test_the_postgres_scheme_and_any_case_reach_the_server_the_url_names(
    pg_cluster: PgCluster, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``postgres://`` (libpq's other spelling, which the README accepts) and ``PostgreSQL://``
    went to the default local socket instead of the URL's host and port: a session on such a
    URL failed ("connection to server on socket /var/run/postgresql/.s.PGSQL.5432 failed")
    and an unreachable host was not said to be one. Now both reach the server named."""
    rest = pg_url.split("://", 1)[1]
    for scheme in ("postgres", "PostgreSQL"):
        url = f"{scheme}://{rest}"
        done = run_cli(tmp_path, "paper", "--iterations", "3", "--db", url)
        assert done.returncode == 0, done.stderr
        assert "Session completed: 3 iterations" in done.stdout
        closed = f"{scheme}://{TRADER}@127.0.0.1:{_closed_port()}/desk"
        code, _out, err = _cli(["status", "--db", closed], capsys)
        assert code == 2 and "the server cannot be reached" in err, err
    database = pg_url.rsplit("/", 1)[1]
    rows = pg_cluster.rows(database, "SELECT status, iterations FROM sessions")
    assert rows == [("completed", 3), ("completed", 3)]


def test_a_database_that_is_not_ours_is_refused_untouched(
    pg_cluster: PgCluster, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database holding another program's tables and no tui-trader mark: refused (exit 2),
    nothing created in it."""
    database = pg_url.rsplit("/", 1)[1]
    pg_cluster.admin(
        f"CREATE TABLE invoices (id int) ; ALTER TABLE invoices OWNER TO {TRADER}", database
    )
    code, _out, err = _cli(["paper", "--iterations", "1", "--db", pg_url], capsys)
    assert code == 2, err
    assert "is not a tui-trader database" in err and "invoices" in err
    tables = pg_cluster.rows(
        database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    )
    assert tables == [("invoices",)]


def test_a_newer_schema_is_refused(
    pg_cluster: PgCluster, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store a newer tui-trader wrote (schema version above ours): refused, left as it is."""
    make_session(parse_db_url(pg_url)).finish("stopped")
    database = pg_url.rsplit("/", 1)[1]
    pg_cluster.admin(
        "UPDATE tui_trader_meta SET value = '99' WHERE key = 'schema_version'", database
    )
    code, _out, err = _cli(["history", "--db", pg_url], capsys)
    assert code == 2 and "newer tui-trader (schema version 99" in err


def test_money_keeps_double_precision(pg_url: str) -> None:
    """Equity and prices come back as written (peewee's default float column is single
    precision: 1,234,567.89 read back as 1,234,567.9)."""
    session = make_session(parse_db_url(pg_url), account_key="acct:precision")
    session.run_iteration()
    RiskStateRow.update(peak_equity=1_234_567.89).where(
        RiskStateRow.account_key == "acct:precision"
    ).execute()
    assert (
        RiskStateRow.get(RiskStateRow.account_key == "acct:precision").peak_equity == 1_234_567.89
    )


def test_password_from_the_url_is_never_shown(
    pg_cluster: PgCluster, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A password written into the URL works, and neither the output nor the stored session
    shows it."""
    monkeypatch.delenv("PGPASSWORD")
    url = pg_url.replace(f"//{TRADER}@", f"//{TRADER}:{TRADER_PASSWORD}@")
    done = run_cli(tmp_path, "paper", "--iterations", "3", "--db", url)
    assert done.returncode == 0, done.stderr
    assert TRADER_PASSWORD not in done.stdout + done.stderr
    database = pg_url.rsplit("/", 1)[1]
    rows = pg_cluster.rows(database, "SELECT parameters, coalesce(endpoint, '') FROM sessions")
    assert rows and all(TRADER_PASSWORD not in a + b for a, b in rows)


def test_the_drivers_own_warnings_stay_off_the_terminal(pg_url: str, tmp_path: Path) -> None:
    """A store lost mid-pipeline is one line on stderr: psycopg's "error ignored terminating
    <psycopg.Pipeline [BAD]>" warning, which Python printed as a second line (and over the
    desk's screen), no longer reaches the terminal once the store is open."""
    code = (
        "import logging, sys\n"
        "from tui_trader.store.db import open_database\n"
        "from tui_trader.store.pg_url import parse_db_url\n"
        "open_database(parse_db_url(sys.argv[1])).close()\n"
        "logging.getLogger('psycopg').warning('error ignored terminating <psycopg.Pipeline>')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, pg_url],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_a_server_that_goes_away_mid_session_halts_loudly_and_keeps_the_rows(
    pg_cluster: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    """Every connection of the session is cut mid-run: it stops trading, says why in one line,
    the rows written before stay, and the session row tells how it ended."""
    database = pg_url.rsplit("/", 1)[1]
    proc = start_cli(tmp_path, "paper", "--iterations", "100000", "--every", "0.05", "--db", pg_url)
    count_sql = "SELECT count(*) FROM live_account_snapshots"
    try:
        _wait_for("a few cycles", lambda: pg_cluster.rows(database, count_sql)[0][0] >= 5)
        pg_cluster.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND usename = '{TRADER}'"
        )
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "lost the audit store" in lines[0], err
    assert "Traceback" not in err and "HALTED" in out
    assert pg_cluster.rows(database, count_sql)[0][0] >= 5
    assert pg_cluster.rows(database, "SELECT status FROM sessions") == [("failed",)]
    events = pg_cluster.rows(database, "SELECT detail FROM live_risk_events")
    assert any("lost the audit store" in d for (d,) in events)


def _as_peewee_raises(error: Exception) -> Exception:
    """``error`` as peewee hands it to the session (its driver error wrapped)."""
    try:
        with peewee.__exception_wrapper__:
            raise error
    except peewee.DatabaseError as wrapped:
        return wrapped
    raise AssertionError("peewee did not wrap the error")


def test_the_servers_goodbye_is_a_lost_store_before_the_socket_closes(pg_url: str) -> None:
    """The server's "terminating connection" can answer a statement while psycopg still calls
    the connection healthy (CI saw the mid-session test fail that way under load): it is a
    lost store all the same, so the session halts with the one line. A statement refused for
    another reason on a healthy connection is not."""
    import psycopg

    db = open_database(parse_db_url(pg_url))
    assert not db.connection().broken
    for goodbye in (
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CrashShutdown("terminating connection because of crash of another"),
        psycopg.errors.ConnectionFailure("connection to server was lost"),
    ):
        assert store_lost(db, _as_peewee_raises(goodbye)), goodbye.sqlstate
    busy = psycopg.errors.LockNotAvailable("could not obtain lock on row")
    assert not store_lost(db, _as_peewee_raises(busy))
    db.close()


def test_backups_of_a_postgresql_store_are_refused_in_one_line(
    pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``db backup``, ``db restore`` and ``--backup-every`` on a PostgreSQL store (given by
    ``--db`` or by ``TUI_TRADER_DB``) say to use pg_dump: exit 2, nothing written."""
    make_session(parse_db_url(pg_url)).finish("stopped")
    for args in (
        ["db", "backup", "--db", pg_url],
        ["db", "restore", "x.db", "--db", pg_url],
        ["paper", "--iterations", "1", "--backup-every", "5", "--db", pg_url],
    ):
        code, _out, err = _cli(args, capsys)
        assert code == 2 and "pg_dump" in err and len(err.strip().splitlines()) == 1, err
    monkeypatch.setenv("TUI_TRADER_DB", pg_url)
    code, _out, err = _cli(["db", "backup"], capsys)
    assert code == 2 and "pg_dump" in err


def test_the_environment_variable_names_the_store(
    pg_cluster: PgCluster,
    pg_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``TUI_TRADER_DB`` set, a session and the reports use that store without ``--db``."""
    monkeypatch.setenv("TUI_TRADER_DB", pg_url)
    code, out, err = _cli(["paper", "--iterations", "5", "--seed", "3"], capsys)
    assert code == 0, err
    database = pg_url.rsplit("/", 1)[1]
    [(key,)] = pg_cluster.rows(database, "SELECT key FROM sessions WHERE iterations = 5")
    code, out, err = _cli(["status"], capsys)
    assert code == 0 and f"Session {key}" in out, err


@pytest.mark.parametrize("commit_every", [1, 50])
def test_a_fill_recorded_twice_is_kept_once_and_the_cycle_goes_on(
    store: Path | PgUrl, commit_every: int
) -> None:
    """A replayed fill event inside a cycle is refused quietly and the cycle's other rows are
    written (on PostgreSQL a failed insert would abort the whole transaction), cycle by cycle
    and in a replay's batch."""
    start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    db = open_database(store)
    audit = AuditLog(db, FrozenClock(start, timedelta(seconds=1)), commit_every=commit_every)
    audit.start_session("local", "paper", None, "test", ("SPY",), {})
    req = OrderRequest("SPY", Side.BUY, 10.0, "tt-dup-1", rationale="t")
    fill = Fill("tt-dup-1", "SPY", Side.BUY, 10.0, 100.0, start, fill_id="f1")
    account = Account(cash=1e5, equity=1e5, buying_power=1e5, account_id="x")
    with audit.cycle():
        audit.order_pending(req, 1, start)
        assert audit.fill(fill, start) is True
        assert audit.fill(fill, start) is False
        audit.snapshot(1, account, {}, 0.0, 0.0, TradingState.ACTIVE, start)
    audit.end_session("completed", 1)
    assert LiveFill.select().count() == 1
    assert AccountSnapshot.select().count() == 1
    assert LiveOrder.get(LiveOrder.client_order_id == "tt-dup-1").fills.count() == 1


def test_a_server_lost_while_the_session_starts_is_one_line_and_exit_1(
    pg_cluster: PgCluster,
    pg_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The store goes away after the session row is written, before the first cycle (here:
    as start-up reconciliation begins): one plain line, no traceback, nothing traded, exit 1,
    as when it goes away mid-session."""
    import tui_trader.engine.lifecycle as lifecycle

    database = pg_url.rsplit("/", 1)[1]
    real_reconcile = lifecycle.reconcile

    def server_gone_first(*args: object) -> object:
        pg_cluster.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND usename = '{TRADER}'"
        )
        return real_reconcile(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(lifecycle, "reconcile", server_gone_first)
    code, out, err = _cli(["paper", "--iterations", "3", "--db", pg_url], capsys)
    lines = err.strip().splitlines()
    assert code == 1, (out, err)
    assert len(lines) == 1 and "lost the audit store" in lines[0], err
    assert "Traceback" not in err
    assert pg_cluster.rows(database, "SELECT count(*) FROM live_orders") == [(0,)]
    assert pg_cluster.rows(database, "SELECT status FROM sessions") == [("failed",)]


def test_a_connection_ended_with_a_command_in_flight_is_lost_and_rolls_back_quietly(
    pg_cluster: PgCluster, pg_url: str
) -> None:
    """The server ends the backend while a command of the desk's is still in flight (a batch's
    pipeline, a statement whose answer never came): every later statement fails with "another
    command is already in progress", and psycopg still calls the connection healthy. Before,
    that was not a lost store, and the rollback of a lost-store ending raised it: the session's
    end (halt written, session ``failed``) broke off with the driver's error (a loaded full run,
    ``test_lost_store_halt_retried``). Now it is a lost store, and the rollback leaves it."""
    db = open_database(parse_db_url(pg_url))
    db.execute_sql("SELECT 1")
    (pid,) = db.execute_sql("SELECT pg_backend_pid()").fetchone()
    db.connection().pgconn.send_query(b"SELECT 1")  # in flight: its answer is never read
    pg_cluster.admin(f"SELECT pg_terminate_backend({pid})", pg_url.rsplit("/", 1)[1])
    with pytest.raises(peewee.OperationalError) as lost:
        db.execute_sql("SELECT 1")
    assert "already in progress" in str(lost.value)
    assert store_lost(db, lost.value)
    db.rollback()  # nothing left to roll back: no error
    db.close()
