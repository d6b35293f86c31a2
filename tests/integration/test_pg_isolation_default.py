"""PostgreSQL: desks of one account on a database whose administrator set a stricter default
isolation (``ALTER DATABASE ... SET default_transaction_isolation = 'serializable'``, or
``repeatable read``, on the database or the role: a policy some shops apply to every database).

The desk's shared rows are written for READ COMMITTED: a desk locks its account's risk-state
row with an ``UPDATE`` that waits for another desk's commit and then works on the row as that
commit left it, and each order takes its slot with one conditional ``UPDATE`` that sees the
count other desks committed. Under a stricter default the waiting ``UPDATE`` fails instead
("could not serialize access due to concurrent update", SQLSTATE 40001): in the pg29 campaign
(five desks, one sandbox account, ``repeatable read`` on the database) two of five were
refused as they started (``cannot open the database ...: could not serialize access``, exit
2) and the other three stopped within 20 s with ``lost the audit store ... run it again once
the server answers``, words that sent the user to a server that was fine, the account halted
(``OperationalError: could not serialize access``). Now every connection of the desk sets
READ COMMITTED for itself, whatever the database's default: the desks trade side by side.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.account_processes import (
    PROCESSES_RUN_WITHIN_S,
    orders_per_trading_day,
    query,
    snapshots,
    start_live_paper,
    stop_all,
    wait_for,
)
from tests.pg_cluster import PgCluster
from tui_trader.sandbox.testing import SandboxHandle

pytestmark = pytest.mark.timeout(PROCESSES_RUN_WITHIN_S)

LIMIT = 3
"""``--max-orders-per-day`` of each desk: the account sends this many a trading day in all."""


@pytest.mark.parametrize("isolation", ["serializable", "repeatable read"])
def test_desks_share_an_account_on_a_database_with_a_stricter_default_isolation(
    isolation: str, pumped: SandboxHandle, tmp_path: Path, pg_cluster: PgCluster, pg_url: str
) -> None:
    """Three desks on one account, the database's default isolation ``isolation``: each
    keeps cycling past the day's order limit (before: they stopped, refused or "lost the
    audit store"), and the limit holds across the three."""
    name = pg_url.rsplit("/", 1)[1]
    pg_cluster.admin(f"ALTER DATABASE \"{name}\" SET default_transaction_isolation = '{isolation}'")
    procs = [
        start_live_paper(tmp_path, pumped, pg_url, desk, max_orders=LIMIT)
        for desk in ("a", "b", "c")
    ]
    try:
        wait_for(
            "three desks to cycle",
            lambda: (
                query(pg_url, "SELECT count(DISTINCT session_id) FROM live_account_snapshots")
                == [(3,)]
            ),
            procs,
        )
        wait_for(
            "the day's order limit to be reached",
            lambda: query(pg_url, "SELECT max(orders_today) FROM risk_state")[0][0] >= LIMIT,
            procs,
        )
        for (sid,) in query(pg_url, "SELECT id FROM sessions"):
            start = snapshots(pg_url, sid)
            wait_for(
                "a few more cycles of each desk",
                lambda s=sid, n=start: snapshots(pg_url, s) >= n + 5,
                procs,
            )
        per_day = orders_per_trading_day(pg_url)
        assert max(per_day) <= LIMIT, f"the limit held across three: {per_day}"
        assert query(pg_url, "SELECT state FROM risk_state") == [("active",)]
    finally:
        stop_all(procs)
    outputs = [(tmp_path / f"{desk}.out").read_text() for desk in ("a", "b", "c")]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert not any("serialize" in text for text in outputs), outputs
