"""The store read a desk keeping exits makes right before it places or resizes an exit: other
live (or just ended) desks' working orders in the symbol (``store.other_sales``).

It runs once for every exit placed or resized, on the bar's path to its orders. Asked with the
symbol, SQLite walked the index on the symbol: every order the symbol ever had, 9 ms a read at
200,000 orders (measured, ``review28d``), past the cycle's 5 ms budget for a single exit and
growing with the store's history. Now the read goes through the index on the order's status (a
few working rows); its plan is checked here, never timed, and what it finds: another account's
sale, a sale in another symbol, a desk that ended long ago are not counted (one that ended a
moment ago is: its sale works on at the broker); a partly filled sale counts what it has left.
And the fills recorded since the positions were read that close the position
(``engine.sales_beside``): a short's buys to cover, a long's sales; not the other side's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tui_trader.engine.others_working import ENDED_WITHIN
from tui_trader.engine.sales_beside import sales_beside
from tui_trader.store.db import open_database
from tui_trader.store.models import LiveFill, LiveOrder, SessionRow
from tui_trader.store.other_sales import WorkingRow, live_working_rows, newest_fill_id
from tui_trader.store.pg_url import PgUrl

HISTORY = 300
"""Orders SPY had before, all filled."""


def _session(key: str, account: str, status: str = "running") -> SessionRow:
    """A session row whose heartbeat is fresh (alive while ``running``)."""
    now = datetime.now(UTC)
    return SessionRow.create(
        key=key, mode="paper", broker="alpaca", data_source="alpaca", symbols="SPY",
        parameters="{}", account_key=account, started_at=now, status=status, heartbeat_at=now,
        heartbeat_window=60.0,
    )  # fmt: skip


def _order(
    session: SessionRow, cid: str, symbol: str, qty: float, status: str, filled: float
) -> None:
    """A sell order row."""
    now = datetime.now(UTC)
    LiveOrder.create(
        session=session, client_order_id=cid, symbol=symbol, side="sell", quantity=qty,
        order_type="limit", status=status, timestamp=now, updated_at=now, filled_qty=filled,
    )  # fmt: skip


def _desks(where: Path | PgUrl) -> tuple[Any, SessionRow]:
    """The store: this desk's session and its own working sale; another live desk of the
    account with a long filled history in SPY, a partly filled sale of SPY (3.5, 1 filled) and
    a sale of QQQ; a desk of another account and an ended desk, each with a sale of SPY."""
    database = open_database(where)
    me, other = _session("me", "acct"), _session("other", "acct")
    elsewhere, ended = _session("elsewhere", "acct-2"), _session("ended", "acct", "stopped")
    for n in range(HISTORY):
        _order(other, f"old{n}", "SPY", 1.0, "filled", 1.0)
    _order(other, "sale", "SPY", 3.5, "partially_filled", 1.0)
    _order(other, "qqq", "QQQ", 2.0, "new", 0.0)
    _order(elsewhere, "other-account", "SPY", 4.0, "new", 0.0)
    _order(ended, "ended-desk", "SPY", 5.0, "new", 0.0)
    _order(me, "mine", "SPY", 6.0, "new", 0.0)
    return database, me


def test_only_another_live_desks_sale_of_the_account_counts_with_what_it_has_left(
    store: Path | PgUrl,
) -> None:
    _database, me = _desks(store)
    assert live_working_rows("acct", me.id, "SPY") == [
        WorkingRow("sale", "sell", "limit", 2.5, "SPY", 1.0)
    ]


def test_a_desk_ended_a_moment_ago_counts_for_the_position_limit_one_ended_long_ago_not(
    store: Path | PgUrl,
) -> None:
    """The read the position limit makes before an order by hand (``engine.others_working``):
    the desk that stopped just now has its sale counted (it works on at the broker, which the
    listing may not show yet); a desk ended an hour ago, another account's and this desk's own
    are not."""
    _database, me = _desks(store)
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    long_ago = _session("long-ago", "acct", "stopped")
    SessionRow.update(heartbeat_at=hour_ago).where(SessionRow.id == long_ago.id).execute()
    _order(long_ago, "long-ago-desk", "SPY", 7.0, "new", 0.0)
    rows = live_working_rows("acct", me.id, ended_within=ENDED_WITHIN)
    assert sorted(row.client_order_id for row in rows) == ["ended-desk", "qqq", "sale"]
    assert sorted(r.client_order_id for r in live_working_rows("acct", me.id)) == ["qqq", "sale"]


def test_other_desks_working_sales_are_read_without_walking_the_history(
    tmp_path: Path, monkeypatch: Any
) -> None:
    database, me = _desks(tmp_path / "audit.db")
    plans: list[str] = []
    run = database.execute_sql

    def explained(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Each statement's plan kept, then the statement run."""
        if sql.lstrip().upper().startswith("SELECT"):
            rows = run("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            plans.append(" | ".join(str(row[-1]) for row in rows))
        return run(sql, params, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", explained)
    rows = live_working_rows("acct", me.id, "SPY", ENDED_WITHIN)  # the read sales_beside makes
    assert sorted(rows, key=lambda row: row.client_order_id) == [
        WorkingRow("ended-desk", "sell", "limit", 5.0, "SPY", 0.0),
        WorkingRow("sale", "sell", "limit", 2.5, "SPY", 1.0),
    ]
    assert plans and not [p for p in plans if "live_orders_symbol" in p], plans


def _fill(
    session: SessionRow, key: str, side: str, qty: float, order: LiveOrder | None = None
) -> None:
    """A fill of SPY recorded for ``session`` (of ``order`` if given)."""
    LiveFill.create(
        session=session, order=order, fill_key=key, symbol="SPY", side=side, quantity=qty,
        price=500.0, timestamp=datetime.now(UTC),
    )  # fmt: skip


def test_a_short_counts_other_desks_buys_to_cover_and_a_long_their_sales(
    store: Path | PgUrl,
) -> None:
    """Recorded since the positions were read: another desk's buys (2.5 shares) are left out of
    a short's buy stop, its sales (1 share, and one before the read) out of a long's sell stop;
    another account's fill in the symbol counts for neither."""
    _database, me = _desks(store)
    other = SessionRow.get(SessionRow.key == "other")
    elsewhere = SessionRow.get(SessionRow.key == "elsewhere")
    _fill(other, "before", "sell", 7.0)
    since = newest_fill_id()
    _fill(other, "buy", "buy", 2.5)
    _fill(other, "sell", "sell", 1.0)
    _fill(elsewhere, "elsewhere", "buy", 9.0)
    _fill(me, "mine", "buy", 4.0)
    short = sales_beside("acct", me.id, "SPY", -10.0, set(), since)
    long = sales_beside("acct", me.id, "SPY", 10.0, {"sale", "ended-desk"}, since)
    assert (short.filled, short.working) == (2.5, 0.0)  # the working sale covers no short
    assert (long.filled, long.working) == (1.0, 0.0)  # those sales are in the listing


def test_a_working_sale_counts_its_filled_shares_too_and_once(store: Path | PgUrl) -> None:
    """Another desk's sale of 3.5 SPY works, 1 share of it filled and recorded before this desk
    read the positions. Alpaca's positions may not show that share yet (they lag a working
    order's fills): read so, the account holds 3.5, and a sell stop sized on it less the sale's
    2.5 left (1 share) stood on the position the sale's rest then emptied (``crash28b``: a sell
    stop for 8 QQQ for 0.46 s). The whole sale is left out now (no stop); a fill of it recorded
    after the read is not left out a second time."""
    _database, me = _desks(store)
    other = SessionRow.get(SessionRow.key == "other")
    sale = LiveOrder.get(LiveOrder.client_order_id == "sale")
    _fill(other, "sale-part", "sell", 1.0, sale)
    since = newest_fill_id()
    listed = {"ended-desk"}  # the ended desk's sale: in the listing (the test below has it not)
    beside = sales_beside("acct", me.id, "SPY", 3.5, listed, since)
    assert max(3.5 - beside.working - beside.filled, 0.0) == 0.0, "a stop on no shares"
    LiveOrder.update(filled_qty=2.0).where(LiveOrder.id == sale.id).execute()
    _fill(other, "sale-part-2", "sell", 1.0, sale)  # recorded after the read
    again = sales_beside("acct", me.id, "SPY", 3.5, listed, since)
    assert (again.working, again.filled) == (3.5, 0.0)


def test_a_desk_ended_a_moment_ago_has_its_partly_filled_sale_left_out_of_the_stop(
    store: Path | PgUrl,
) -> None:
    """The desk that stopped just now (or was killed) left its sale of 5 SPY working, 2 shares
    of it filled: the broker's listing (up to half a minute old) may not show it, nor the
    positions its fills. A stop sized as if it were not there was refused beside it, or stood
    on the position the sale emptied (``crash30``: a sell stop for 10 SPY for 1.8 s). Before,
    only live desks' sales counted; now the ended desk's counts too, its filled shares with it,
    for as long as the position limit counts it (``ENDED_WITHIN``); not one ended long ago."""
    _database, me = _desks(store)
    ended_sale = LiveOrder.client_order_id == "ended-desk"
    LiveOrder.update(status="partially_filled", filled_qty=2.0).where(ended_sale).execute()
    since = newest_fill_id()
    beside = sales_beside("acct", me.id, "SPY", 10.0, {"sale"}, since)  # the live one listed
    assert (beside.working, beside.filled) == (5.0, 0.0)
    assert max(5.0 - beside.working - beside.filled, 0.0) == 0.0, "a stop on no shares"
    ended = SessionRow.get(SessionRow.key == "ended")
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    SessionRow.update(heartbeat_at=hour_ago).where(SessionRow.id == ended.id).execute()
    assert sales_beside("acct", me.id, "SPY", 10.0, {"sale"}, since).working == 0.0
