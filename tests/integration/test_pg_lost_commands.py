"""PostgreSQL: a command whose connection the server ends while it runs.

The server ends a command's backend (an administrator's ``pg_terminate_backend``, a restart, a
failover) between its opening of the store and its reads or writes. Before, every command (the
reports, ``fleet``, ``fleet halt``, ``risk reset``) ended with the driver's error and a crash
log (``tui-trader: error: OperationalError: terminating connection due to administrator
command (details in .../crash.log)``); ``fleet halt``, the fleet's kill switch, said nothing of
whether the account was halted. Now a report says in one line that the store went away and to
run it again (exit 1), and ``fleet halt`` reads the account's row back and says whether the halt
was written.

Real processes against the worker's cluster. The server itself ends the command's connection at
the exact moment: a row-level security policy on a table the command reads, or a trigger on
the row it writes, calls ``pg_terminate_backend`` on the statement's own backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli
from tests.pg_cluster import TRADER_PASSWORD, PgCluster

GONE = "CREATE FUNCTION tt_gone() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN " \
    "PERFORM pg_terminate_backend(pg_backend_pid()); RETURN true; END $$"  # fmt: skip
"""A function that ends the connection of the statement that calls it."""
READS_END = """
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tt_gone ON sessions USING (tt_gone());
"""
"""Every read of the sessions table ends its connection (the owner's reads included)."""
HALT_ENDS = """
CREATE FUNCTION tt_gone_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM tt_gone(); RETURN NEW; END $$;
CREATE TRIGGER tt_gone BEFORE UPDATE ON risk_state FOR EACH ROW EXECUTE FUNCTION tt_gone_row();
"""
"""A change of an account's risk state (a halt, a reset) ends its connection before it lands."""


def _seeded(cluster: PgCluster, tmp_path: Path) -> tuple[str, str]:
    """A new database after a short local session: its URL and the session's account."""
    url = cluster.url(cluster.new_database("lost"))
    done = run_cli(tmp_path, "paper", "--iterations", "2", "--db", url)
    assert done.returncode == 0, done.stderr
    ((account,),) = cluster.rows(url.rsplit("/", 1)[1], "SELECT account_key FROM risk_state")
    cluster.admin(GONE, url.rsplit("/", 1)[1])
    return url, account


@pytest.fixture(scope="module")
def reads_end(
    pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A store (shared by the module's read tests: nothing writes it) whose sessions table
    ends the connection of any command that reads it."""
    tmp = tmp_path_factory.mktemp("reads")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PGPASSWORD", TRADER_PASSWORD)
        url, _account = _seeded(pg_cluster, tmp)
        pg_cluster.admin(READS_END, url.rsplit("/", 1)[1])
        yield url, tmp
    pg_cluster.drop_database(url.rsplit("/", 1)[1])


def _one_plain_line(err: str) -> str:
    """``err`` is one line, neither the driver's error class nor a crash log."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "crash.log" not in err and "Traceback" not in err and "Error:" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [["fleet"], ["status"], ["history"], ["report"], ["live", "monitor"], ["live", "readiness"]],
)
def test_a_report_whose_store_goes_away_says_so_in_one_line(
    reads_end: tuple[str, Path], command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: ``OperationalError: terminating connection ...`` and a crash log, exit 1 (the
    monitor: 'nothing to follow in ...', exit 2, as if the store held no session; ``live
    readiness``, which reads on a connection of its own, until 2026-12-07)."""
    url, tmp = reads_end
    monkeypatch.setenv("PGPASSWORD", TRADER_PASSWORD)
    done = run_cli(tmp, *command, "--db", url)
    line = _one_plain_line(done.stderr)
    assert done.returncode == 1
    assert line.startswith(f"tui-trader: error: lost the audit store {url} ("), line
    assert f"before 'tui-trader {' '.join(command)}' finished; run it again once" in line, line


def test_the_fleets_halt_says_it_was_not_written_when_its_store_goes_away(
    pg_cluster: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    """Before: a crash line; the trader could not tell that the account was still trading."""
    url, account = _seeded(pg_cluster, tmp_path)
    database = url.rsplit("/", 1)[1]
    pg_cluster.admin(HALT_ENDS, database)
    done = run_cli(tmp_path, "fleet", "halt", "--db", url, "--account", account, "--yes")
    line = _one_plain_line(done.stderr)
    assert done.returncode == 1
    assert "The halt was NOT written" in line and url in line, line
    assert "Stop the sessions where they run" in line, line
    assert pg_cluster.rows(database, "SELECT state FROM risk_state") == [("active",)]
    pg_cluster.drop_database(database)


def test_a_risk_reset_whose_store_goes_away_says_so_in_one_line(
    pg_cluster: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    """Before: a crash line. The account stays halted (the reset never landed)."""
    url, account = _seeded(pg_cluster, tmp_path)
    database = url.rsplit("/", 1)[1]
    halted = run_cli(tmp_path, "fleet", "halt", "--db", url, "--account", account, "--yes")
    assert halted.returncode == 0, halted.stderr
    pg_cluster.admin(HALT_ENDS, database)
    done = run_cli(tmp_path, "risk", "reset", "--db", url, "--account", account, "--yes")
    line = _one_plain_line(done.stderr)
    assert done.returncode == 1
    assert f"lost the audit store {url} (" in line, line
    assert "before 'tui-trader risk reset' finished" in line, line
    assert pg_cluster.rows(database, "SELECT state FROM risk_state") == [("halted",)]
    pg_cluster.drop_database(database)
