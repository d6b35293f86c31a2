"""A halt kept on disk for a PostgreSQL store halts the account's next start on that database,
however that start spells the server.

A desk whose server went away as its drawdown kill switch tripped keeps the halt in a marker
file (``store.halt_markers``). The file was named after the URL's spelling: the next start
through ``localhost`` (the lost desk used ``127.0.0.1``), or through the server's socket
folder, is the same database, but found no halt and traded. Now the desk asks the server which
database it reached (``store.server_identity``) and the halt is kept and found under that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli
from tests.integration.test_halt_kept_on_lost_store import (
    ACCOUNT,
    _crash_session,
    _store_lost_as_drawdown_trips,
)
from tests.pg_cluster import TRADER_PASSWORD, PgCluster
from tui_trader.risk.gate import DRAWDOWN
from tui_trader.session import store_endings
from tui_trader.session.runner import SessionRunner
from tui_trader.store.halt_markers import find_markers
from tui_trader.store.models import database
from tui_trader.store.pg_url import parse_db_url
from tui_trader.store.statements import load_risk_state


def _spelled(cluster: PgCluster, name: str, how: str) -> str:
    """The URL of database ``name`` of ``cluster`` spelled ``how``."""
    if how == "localhost":
        return f"postgresql://trader@localhost:{cluster.port}/{name}"
    # the server's unix socket folder (libpq takes the query's host over the URL's)
    return f"postgresql://trader@localhost/{name}?host={cluster.folder}&port={cluster.port}"


def _keep_a_drawdown_halt(
    cluster: PgCluster, name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """A desk on ``127.0.0.1`` (its password in the URL) loses its server as the crash trips
    its kill switch: the server ends its connection and stays unreachable for its tries (the
    tries answered "gone"); the halt is kept on disk. The marker's path."""
    session = _crash_session(parse_db_url(cluster.url(name, password=True)))

    def lose() -> None:
        cluster.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )

    monkeypatch.setattr(store_endings, "reconnect", lambda *_a, **_k: False)
    _store_lost_as_drawdown_trips(monkeypatch, lose)
    result = SessionRunner(session, iterations=80).run()
    session.audit.db.close()
    assert result.status == "failed" and result.error is not None, result
    assert "the halt (drawdown_kill_switch) is kept in" in result.error, result.error
    [path] = [p for p in (tmp_path / "state").rglob("*.json")]
    assert TRADER_PASSWORD not in path.read_text() and TRADER_PASSWORD not in result.error
    return path


@pytest.mark.parametrize("how", ["localhost", "socket"])
def test_a_halt_kept_on_127_0_0_1_halts_the_next_start_through_another_spelling(
    pg_cluster: PgCluster,
    pg_url: str,
    how: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    name = pg_url.rsplit("/", 1)[1]
    path = _keep_a_drawdown_halt(pg_cluster, name, monkeypatch, tmp_path)
    url = _spelled(pg_cluster, name, how)
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "PGPASSWORD": TRADER_PASSWORD}
    listed = run_cli(tmp_path, "fleet", "--db", url, env=env)
    assert listed.returncode == 0, listed.stderr
    assert f"halt kept on disk for {ACCOUNT} (drawdown_kill_switch" in listed.stdout, listed.stdout
    following = _crash_session(parse_db_url(url))
    try:
        database.initialize(following.audit.db)
        state = load_risk_state(ACCOUNT)
        assert (state.halted, state.halt_reason) == (True, DRAWDOWN), f"a start via {how} traded"
        said = [e for e in following.startup_events if e.event_type == DRAWDOWN]
        assert said and str(path) in said[0].action_taken, following.startup_events
        assert not path.exists(), "the written halt's marker was left behind"
        report = following.run_iteration()
        assert report is not None and report.orders_sent == 0, "the next start traded"
    finally:
        following.audit.db.close()


def test_a_halt_kept_for_one_database_does_not_halt_another_on_the_same_server(
    pg_cluster: PgCluster, pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    name = pg_url.rsplit("/", 1)[1]
    path = _keep_a_drawdown_halt(pg_cluster, name, monkeypatch, tmp_path)
    other = pg_cluster.new_database()
    try:
        elsewhere = _crash_session(parse_db_url(_spelled(pg_cluster, other, "localhost")))
        try:
            database.initialize(elsewhere.audit.db)
            assert not load_risk_state(ACCOUNT).halted, "another database's desk was halted"
            assert find_markers(elsewhere.audit.db, ACCOUNT) == []
        finally:
            elsewhere.audit.db.close()
    finally:
        pg_cluster.drop_database(other)
    assert path.exists(), "another database's start took the halt"
