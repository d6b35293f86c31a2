"""The store read before a sell: another desk's halt flatten close in the symbol whose row is
still open (``engine.live_exits.live_flatten_close``, ``crash30b``).

A sale waits beside another live desk's close, or that of a desk which ended a moment ago (its
close works on at the broker; the listing may not show it yet); never for good behind a row no
desk will end: a desk that ended, or died, longer ago than ``ENDED_WITHIN`` holds nothing
(unless the broker, asked, says its close still works), nor a close that has ended, one of
another account, this desk's own, a rebalance sale, or a flatten's buy (the cover of a short),
which holds a buy instead (``holds32``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tui_trader.brokers import BrokerError
from tui_trader.core.order_ids import make_order_id
from tui_trader.core.orders import Order, OrderStatus, OrderType, Side
from tui_trader.engine.live_exits import flatten_close_hold, live_flatten_close
from tui_trader.store.db import open_database
from tui_trader.store.models import LiveOrder, SessionRow
from tui_trader.store.pg_url import PgUrl


def _session(key: str, account: str = "acct", status: str = "running", age: float = 0.0) -> Any:
    """A session row whose last heartbeat is ``age`` seconds old."""
    beat = datetime.now(UTC) - timedelta(seconds=age)
    return SessionRow.create(
        key=key, mode="paper", broker="alpaca", data_source="alpaca", symbols="SPY",
        parameters="{}", account_key=account, started_at=beat, status=status, heartbeat_at=beat,
        heartbeat_window=60.0,
    )  # fmt: skip


def _order(session: Any, leg: str, side: str = "sell", status: str = "partially_filled") -> str:
    """An order row of ``session`` in SPY (leg ``flat``: a halt flatten's close)."""
    cid = make_order_id(session.key, 7, "SPY", leg)
    now = datetime.now(UTC)
    LiveOrder.create(
        session=session, client_order_id=cid, symbol="SPY", side=side, quantity=8.0,
        order_type="market", status=status, timestamp=now, updated_at=now, filled_qty=4.0,
    )  # fmt: skip
    return cid


def test_a_live_desks_open_flatten_close_holds_a_sale_until_it_has_ended(
    store: Path | PgUrl,
) -> None:
    open_database(store)
    me, other = _session("aaaa0001_t1"), _session("bbbb0002_t1")
    _order(me, "flat")  # this desk's own close: its flatten's business
    _order(other, "r")  # a rebalance sale: counted where it is sized, not held
    cover = _order(other, "flat", side="buy")  # the cover of a short: no sale to hold
    assert live_flatten_close("acct", "SPY", me.id) is None
    # ... but a buy beside it waits: both would buy the short back (``holds32``)
    assert live_flatten_close("acct", "SPY", me.id, "buy") == (cover, "bbbb0002")
    said = flatten_close_hold("acct", "SPY", me.id, "buy")
    assert said is not None and f"close {cover} still buys back SPY" in said, said
    assert "a buy beside it could close the same shares" in said, said
    cid = _order(other, "flat2")
    assert live_flatten_close("acct", "SPY", me.id) == (cid, "bbbb0002")
    said = flatten_close_hold("acct", "SPY", me.id)
    assert said is not None and said.startswith(f"session bbbb0002's halt flatten close {cid}")
    assert said.endswith("so none goes out until that close has ended"), said
    assert live_flatten_close("acct", "QQQ", me.id) is None
    assert live_flatten_close("acct-2", "SPY", _session("cccc0003_t1", "acct-2").id) is None
    LiveOrder.update(status="filled").where(LiveOrder.client_order_id == cid).execute()
    assert flatten_close_hold("acct", "SPY", me.id) is None, "ended: the sale goes out"


def test_a_close_of_a_desk_ended_long_ago_holds_nothing_one_ended_just_now_does(
    store: Path | PgUrl,
) -> None:
    open_database(store)
    me = _session("aaaa0001_t1")
    gone = _session("dddd0004_t1", status="died", age=3600.0)
    _order(gone, "flat")
    assert live_flatten_close("acct", "SPY", me.id) is None, "never frozen behind a dead row"
    just = _session("eeee0005_t1", status="stopped", age=1.0)
    cid = _order(just, "flat")
    assert live_flatten_close("acct", "SPY", me.id) == (cid, "eeee0005")


def test_a_close_of_a_desk_ended_long_ago_holds_while_the_broker_says_it_works(
    store: Path | PgUrl,
) -> None:
    """Past ``ENDED_WITHIN`` the broker is asked about a dead desk's close whose row is open:
    held while it works, or while the broker does not answer; once it says the close ended,
    nothing, and that close is asked no more (``holds32``)."""
    open_database(store)
    me = _session("aaaa0001_t1")
    gone = _session("dddd0004_t1", status="died", age=3600.0)
    cid = _order(gone, "flat")
    asked: list[str] = []
    answer: dict[str, Any] = {"status": OrderStatus.PARTIALLY_FILLED}

    def look_up(client_order_id: str) -> Order | None:
        """The broker's word on the close: ``answer``, or no answer at all."""
        asked.append(client_order_id)
        if answer["status"] is None:
            raise BrokerError("timed out")
        return Order(
            client_order_id, "SPY", Side.SELL, 8.0, OrderType.MARKET, answer["status"],
            filled_qty=4.0,
        )  # fmt: skip

    ended: set[str] = set()
    said = flatten_close_hold("acct", "SPY", me.id, "sell", look_up, ended)
    assert said is not None and said.startswith(f"session dddd0004's halt flatten close {cid}")
    assert "may still sell SPY: its desk has ended, and the broker says the close still works" in (
        said
    ), said
    assert "(4 of 8 filled;" in said, said
    assert flatten_close_hold("acct", "SPY", me.id, "buy", look_up, ended) is None, "a sale"
    answer["status"] = None
    said = flatten_close_hold("acct", "SPY", me.id, "sell", look_up, ended)
    assert said is not None and "the broker did not answer a look-up of it (timed out)" in said
    assert said.endswith("so none goes out until the broker says that close has ended"), said
    answer["status"] = OrderStatus.FILLED
    assert flatten_close_hold("acct", "SPY", me.id, "sell", look_up, ended) is None
    before = len(asked)
    assert flatten_close_hold("acct", "SPY", me.id, "sell", look_up, ended) is None
    assert len(asked) == before, "a close the broker said ended is asked no more"
