"""Upgrading a PostgreSQL store while desks of an older release write to it: the upgrade never
ends an older desk's transaction, and one kept waiting refuses in one line."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from tests.integration.test_schema_versions import PREVIOUS_SCHEMA
from tests.pg_cluster import ADMIN_PASSWORD, PgCluster
from tui_trader.store import ownership, pg_schema
from tui_trader.store.db import StoreError, open_database
from tui_trader.store.pg_url import PgUrl, parse_db_url


def _older_store(pg_cluster: PgCluster, pg_url: str) -> tuple[PgUrl, str]:
    """A PostgreSQL store as a release of schema 1 left it (no ``unsettled`` column); its URL
    and database name."""
    url = parse_db_url(pg_url)
    open_database(url).close()
    name = pg_url.rsplit("/", 1)[1]
    pg_cluster.admin('ALTER TABLE "live_account_snapshots" DROP COLUMN "unsettled"', name)
    pg_cluster.admin(
        f"UPDATE tui_trader_meta SET value = '{PREVIOUS_SCHEMA}' WHERE key = 'schema_version'", name
    )
    return url, name


def _older_desk(pg_cluster: PgCluster, name: str) -> psycopg.Connection:
    """A connection writing as an older desk does. It checks for deadlocks 50 ms into a wait
    (the server's default is 1 s): a deadlock the upgrade took part in ends this one's
    transaction at once, as it did an older desk's."""
    conn = psycopg.connect(
        host="127.0.0.1",
        port=pg_cluster.port,
        user="postgres",
        password=ADMIN_PASSWORD,
        dbname=name,
        autocommit=True,
    )
    conn.execute("SET deadlock_timeout = '50ms'")
    return conn


def _start_session(conn: psycopg.Connection, key: str) -> int:
    """The older desk's first writes in its transaction: its session row, and a fill."""
    row = conn.execute(
        "INSERT INTO sessions (key, mode, broker, data_source, symbols, parameters, account_key,"
        " started_at, status, iterations) VALUES (%s, 'local', 'paper', 'sim', 'SPY', '{}',"
        " 'local:old', now(), 'running', 0) RETURNING id",
        (key,),
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO live_fills (session_id, fill_key, symbol, side, quantity, price,"
        " commission, slippage, timestamp) VALUES (%s, %s, 'SPY', 'buy', 1, 500, 0, 0, now())",
        (row[0], f"{key}-fill"),
    )
    return int(row[0])


def _upgrade_waits(pg_cluster: PgCluster, name: str, tries: list[int]) -> None:
    """Poll (5 s deadline) until the upgrade has met the older desk's transaction: it tried and
    found a table in use, or it waits for a table lock."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        waiting = pg_cluster.rows(
            name,
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE NOT l.granted AND a.application_name = 'tui-trader'",
        )
        if waiting[0][0] or len(tries) > 1:
            return
        time.sleep(0.01)
    raise AssertionError("the upgrade never met the older desk's transaction")


def test_an_upgrade_never_ends_an_older_desks_transaction(
    pg_cluster: PgCluster, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desk of the older release is inside a cycle's transaction (a fill written) when a
    newer process opens the store and upgrades it; the desk then writes its snapshot. The
    upgrade took one table and waited for the desk's while the desk waited for that one: the
    server ended the desk's transaction ("deadlock detected"; the desk halted, exit 1).
    Now the desk's cycle commits whole and the upgrade is done after it."""
    url, name = _older_store(pg_cluster, pg_url)
    tries: list[int] = []
    once = getattr(pg_schema, "_migrate_once", None)  # one try (before the fix it waited)
    if once is not None:
        monkeypatch.setattr(pg_schema, "_migrate_once", lambda db: (tries.append(1), once(db))[1])
    desk = _older_desk(pg_cluster, name)
    opened: list[object] = []
    try:
        with desk.transaction():
            session_id = _start_session(desk, "older-desk")
            newer = threading.Thread(target=_open_into, args=(url, opened), daemon=True)
            newer.start()
            _upgrade_waits(pg_cluster, name, tries)
            desk.execute(
                "INSERT INTO live_account_snapshots (session_id, timestamp, cash, equity,"
                " buying_power, drawdown_pct, daily_pnl, state, positions)"
                " VALUES (%s, now(), 100, 100, 100, 0, 0, 'active', '[]')",
                (session_id,),
            )
        newer.join(15.0)
    finally:
        desk.close()
    assert not newer.is_alive()
    assert len(opened) == 1 and not isinstance(opened[0], BaseException), opened
    assert pg_cluster.rows(name, "SELECT count(*) FROM live_account_snapshots") == [(1,)]
    assert pg_cluster.rows(name, "SELECT fill_key FROM live_fills") == [("older-desk-fill",)]
    assert pg_cluster.rows(name, "SELECT key, status FROM sessions") == [("older-desk", "running")]
    version = "SELECT value FROM tui_trader_meta WHERE key = 'schema_version'"
    assert pg_cluster.rows(name, version) == [(str(ownership.SCHEMA_VERSION),)]
    columns = pg_cluster.rows(
        name,
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = 'live_account_snapshots' AND column_name = 'unsettled'",
    )
    assert columns == [("unsettled",)]


def _open_into(url: PgUrl, opened: list[object]) -> None:
    """Open the store (upgrading it) in a thread; what came of it into ``opened``."""
    try:
        db = open_database(url, create=False)
    except BaseException as exc:  # the test reads it
        opened.append(exc)
        return
    db.close()
    opened.append(db)


def test_an_upgrade_kept_waiting_refuses_in_one_line_and_the_desk_writes_on(
    pg_cluster: PgCluster, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older desk that keeps the tables in use past the wait: the newer process refuses in
    one line naming the cause and what to do, changes nothing, and the desk commits."""
    url, name = _older_store(pg_cluster, pg_url)
    monkeypatch.setattr(pg_schema, "UPGRADE_WAIT_S", 0.3)
    desk = _older_desk(pg_cluster, name)
    try:
        with desk.transaction():
            _start_session(desk, "older-desk")
            with pytest.raises(StoreError) as refused:
                open_database(url, create=False)
    finally:
        desk.close()
    message = str(refused.value)
    assert "\n" not in message and "stayed in use for 0.3 s" in message
    assert message.endswith("stop those desks, start this one once, then restart them with it")
    assert pg_cluster.rows(name, "SELECT key FROM sessions") == [("older-desk",)]
    version = "SELECT value FROM tui_trader_meta WHERE key = 'schema_version'"
    assert pg_cluster.rows(name, version) == [(str(PREVIOUS_SCHEMA),)]
    open_database(url, create=False).close()  # the desk gone, the upgrade goes through
    assert pg_cluster.rows(name, version) == [(str(ownership.SCHEMA_VERSION),)]
