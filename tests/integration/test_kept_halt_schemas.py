"""A halt kept on disk for one schema's store is not taken by a desk on another schema.

Two stores of one account (an Alpaca account's two desks, each with its own store) may live in
two schemas of one PostgreSQL database, chosen in the URL
(``?options=-csearch_path%3Dalice``). The URL's name for a store (``store.halt_markers``)
leaves ``options`` out, so both stores had one name; a halt kept on disk by the desk on schema
``alice`` (its server gone as its drawdown kill switch tripped) matched the desk on ``bob`` by
that name, although the server said it is another schema (``store.server_identity``). Bob's
start wrote alice's halt into bob's store and removed the file: alice's next start, the halt
gone, traded after a drawdown kill.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_halt_kept_on_lost_store import (
    ACCOUNT,
    _crash_session,
    _store_lost_as_drawdown_trips,
)
from tests.pg_cluster import TRADER, TRADER_PASSWORD, PgCluster
from tui_trader.risk.gate import DRAWDOWN
from tui_trader.session import store_endings
from tui_trader.session.runner import SessionRunner
from tui_trader.store.models import database
from tui_trader.store.pg_url import parse_db_url
from tui_trader.store.statements import load_risk_state


def _schema_url(cluster: PgCluster, name: str, schema: str) -> str:
    """The URL of schema ``schema`` of database ``name`` (its password in it)."""
    return (
        f"postgresql://{TRADER}:{TRADER_PASSWORD}@127.0.0.1:{cluster.port}/{name}"
        f"?options=-csearch_path%3D{schema}"
    )


def test_a_halt_kept_for_one_schema_stays_for_it_and_not_for_the_next_schema(
    pg_cluster: PgCluster, pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    name = pg_url.rsplit("/", 1)[1]
    for schema in ("alice", "bob"):
        pg_cluster.admin(f"CREATE SCHEMA {schema} AUTHORIZATION {TRADER}", database=name)
    alice = _crash_session(parse_db_url(_schema_url(pg_cluster, name, "alice")))

    def lose() -> None:
        pg_cluster.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )

    with monkeypatch.context() as lost:
        lost.setattr(store_endings, "reconnect", lambda *_a, **_k: False)
        _store_lost_as_drawdown_trips(lost, lose)
        result = SessionRunner(alice, iterations=80).run()
    alice.audit.db.close()
    assert result.error is not None and "the halt (drawdown_kill_switch) is kept in" in (
        result.error
    ), result
    [path] = list((tmp_path / "state").rglob("*.json"))

    bob = _crash_session(parse_db_url(_schema_url(pg_cluster, name, "bob")))
    try:
        database.initialize(bob.audit.db)
        assert not load_risk_state(ACCOUNT).halted, "alice's halt was written to bob's store"
    finally:
        bob.audit.db.close()
    assert path.exists(), "bob's start took the halt kept for alice's schema"

    again = _crash_session(parse_db_url(_schema_url(pg_cluster, name, "alice")))
    try:
        database.initialize(again.audit.db)
        state = load_risk_state(ACCOUNT)
        assert (state.halted, state.halt_reason) == (True, DRAWDOWN), "alice traded again"
        report = again.run_iteration()
        assert report is not None and report.orders_sent == 0, "alice's next start traded"
    finally:
        again.audit.db.close()
    assert not path.exists(), "alice's start left the written halt's file"
