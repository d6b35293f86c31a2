"""A PostgreSQL server that still answers but refuses the desk's writes: its disk full, or the
server switched read-only (a failover to a standby, maintenance).

Before, the session died with the driver's own text and a crash log (``tui-trader: error:
InternalError: cannot execute UPDATE in a read-only transaction (details in .../crash.log)``,
or ``OperationalError: could not extend file ...: No space left on device``): no halt said, no
summary, its row left ``running``; ``fleet halt`` and ``risk reset`` the same. Now each says
what happened to the store in one plain line, and a session halts and ends (exit 1) as on a
full or read-only SQLite file, sending no order without its row.

Real processes against the throwaway cluster. Read-only is the real switch
(``default_transaction_read_only`` reloaded for the whole cluster: the worker's own, reset
after the test). A full disk needs a small file system under the server (root-only), so the
server raises the very error itself instead: a trigger answers the desk's inserts with SQLSTATE
53100, what PostgreSQL says when it cannot extend a table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env, sandbox_view
from tests.integration.cli_helpers import cli_env, run_cli
from tests.pg_cluster import PgCluster
from tui_trader.sandbox.testing import SandboxHandle, wait_until

DEADLINE = 60.0
READ_ONLY = "takes no writes (the server is read-only"
DISK_FULL = "is out of disk space"
FULL_TRIGGER = """
CREATE FUNCTION tt_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
END $$;
CREATE TRIGGER tt_orders_full BEFORE INSERT ON live_orders
    FOR EACH ROW EXECUTE FUNCTION tt_disk_full();
CREATE TRIGGER tt_snapshots_full BEFORE INSERT ON live_account_snapshots
    FOR EACH ROW EXECUTE FUNCTION tt_disk_full();
"""
"""The server's answer to the desk's next order row or account snapshot: its disk is full."""
STALL_TRIGGER = """
CREATE FUNCTION tt_stall() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(20);
    RETURN NEW;
END $$;
CREATE TRIGGER tt_snapshots_stall BEFORE INSERT ON live_account_snapshots
    FOR EACH ROW EXECUTE FUNCTION tt_stall();
"""
"""The desk's next account snapshot stalls on the server (a slow disk, a long lock)..."""
CANCEL_STALLED = """
SELECT pg_cancel_backend(pid) FROM pg_stat_activity
WHERE datname = '{database}' AND wait_event = 'PgSleep'
"""
"""...until an administrator (or a watchdog tool) cancels it."""


def _start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m tui_trader ARGS`` in the background (a cycle every 0.05 s, for ever)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tui_trader", *args, "--iterations", "0", "--every", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli_env(tmp_path) | (env or {}) | {"PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
    )


def _count(cluster: PgCluster, database: str, table: str) -> int:
    """Rows in ``table`` (0 before the desk made it)."""
    rows = cluster.rows(database, f"SELECT count(*) FROM pg_tables WHERE tablename = '{table}'")
    return cluster.rows(database, f"SELECT count(*) FROM {table}")[0][0] if rows[0][0] else 0


def _ended(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """The session's output once it ended by itself (killed if it did not, and failed)."""
    try:
        return proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
        raise AssertionError(f"the session went on against the refusing server: {err}") from None


def _wait_for_snapshots(cluster: PgCluster, database: str, proc: subprocess.Popen[str]) -> int:
    """Wait until the session has written a few cycles; their number."""

    def cycles() -> int:
        assert proc.poll() is None, proc.communicate()[1]
        seen = _count(cluster, database, "live_account_snapshots")
        return seen if seen >= 5 else 0

    return wait_until(cycles, DEADLINE, "a few cycles written")


def _one_plain_line(err: str, words: str) -> str:
    """``err`` is one line holding ``words``, neither the driver's error nor a crash log."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], err
    assert "crash.log" not in err and "Traceback" not in err and "Error:" not in err
    return lines[0]


def _set_read_only(cluster: PgCluster, on: bool) -> None:
    """Switch the whole cluster's writes off (or back on), for sessions already connected."""
    if on:
        cluster.admin("ALTER SYSTEM SET default_transaction_read_only = on")
    else:
        cluster.admin("ALTER SYSTEM RESET default_transaction_read_only")
    cluster.admin("SELECT pg_reload_conf()")
    wanted = "on" if on else "off"
    shown = "SHOW default_transaction_read_only"  # a new connection has the reloaded value
    wait_until(lambda: cluster.rows("postgres", shown)[0][0] == wanted, DEADLINE, "the reload")


def test_a_server_turned_read_only_stops_the_session_and_every_writer_in_one_line(
    pg_cluster: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    """Mid-session: halted, summary, one line, exit 1, the rows before kept. Then, while the
    server stays read-only: a new session, ``fleet halt`` and ``risk reset`` each one line."""
    database = pg_url.rsplit("/", 1)[1]
    proc = _start(tmp_path, "paper", "--db", pg_url)
    try:
        seen = _wait_for_snapshots(pg_cluster, database, proc)
        _set_read_only(pg_cluster, True)
        out, err = _ended(proc)
        assert proc.returncode == 1
        _one_plain_line(err, f"the audit store {pg_url} {READ_ONLY}")
        assert "HALTED" in out and "Session failed" in out
        assert _count(pg_cluster, database, "live_account_snapshots") >= seen
        for args, code in (
            (["paper", "--iterations", "2", "--db", pg_url], 1),
            (["fleet", "halt", "--all", "--yes", "--db", pg_url], 2),
            (["risk", "reset", "--yes", "--db", pg_url], 2),
        ):
            done = run_cli(tmp_path, *args)
            assert done.returncode == code, (args, done.stderr)
            _one_plain_line(done.stderr, READ_ONLY)
    finally:
        if proc.poll() is None:
            proc.kill()
        _set_read_only(pg_cluster, False)


def test_a_full_server_disk_halts_a_local_session_and_ends_its_row(
    pg_cluster: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    """The next snapshot is refused: halted, one line, exit 1; the halt and the session's end
    still fit (an update of rows the server already has), so the row says ``failed``."""
    database = pg_url.rsplit("/", 1)[1]
    proc = _start(tmp_path, "paper", "--db", pg_url)
    try:
        _wait_for_snapshots(pg_cluster, database, proc)
        pg_cluster.admin(FULL_TRIGGER, database)
        out, err = _ended(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    line = _one_plain_line(err, f"the PostgreSQL server of the audit store {pg_url} {DISK_FULL}")
    assert "HALTED" in out and "Session failed" in out
    assert pg_cluster.rows(database, "SELECT status FROM sessions") == [("failed",)]
    events = pg_cluster.rows(database, "SELECT event_type, detail FROM live_risk_events")
    assert ("audit_full", line.removeprefix("tui-trader: error: ")) in events


def test_a_statement_the_server_cancels_halts_the_session_in_one_line(
    pg_cluster: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    """``pg_cancel_backend`` on the session's stalled statement: halted, one line, exit 1,
    the halt and ``failed`` written (the connection is still there)."""
    database = pg_url.rsplit("/", 1)[1]
    proc = _start(tmp_path, "paper", "--db", pg_url)
    try:
        _wait_for_snapshots(pg_cluster, database, proc)
        pg_cluster.admin(STALL_TRIGGER, database)
        cancel = CANCEL_STALLED.format(database=database)
        wait_until(lambda: pg_cluster.admin(cancel), DEADLINE, "the stalled statement")
        out, err = _ended(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    line = _one_plain_line(err, f"the audit store {pg_url} cancelled a statement")
    assert "HALTED" in out and "Session failed" in out
    assert pg_cluster.rows(database, "SELECT status FROM sessions") == [("failed",)]
    events = pg_cluster.rows(database, "SELECT event_type, detail FROM live_risk_events")
    assert ("session_error", line.removeprefix("tui-trader: error: ")) in events


def test_a_full_server_disk_sends_no_alpaca_order_without_its_row(
    pumped: SandboxHandle, pg_cluster: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    """A ``live paper`` session on the sandbox: once the server refuses the next order row (or
    snapshot), the session stops in one line and the broker holds no order of it that has no
    row."""
    database = pg_url.rsplit("/", 1)[1]
    args = ["live", "paper", "--period", "1d", "--timeout", "2", *FAST_BUDGET, "--db", pg_url]
    proc = _start(tmp_path, *args, env=sandbox_env(pumped))
    try:
        _wait_for_snapshots(pg_cluster, database, proc)
        pg_cluster.admin(FULL_TRIGGER, database)
        out, err = _ended(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    _one_plain_line(err, DISK_FULL)
    assert "HALTED" in out
    rows = {cid for (cid,) in pg_cluster.rows(database, "SELECT client_order_id FROM live_orders")}
    assert set(sandbox_view(pumped)) <= rows
