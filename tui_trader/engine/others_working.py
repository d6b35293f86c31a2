"""The working orders the position limit counts: the broker's listing, plus the orders other
live desks of the account sent that the listing does not show yet.

A desk reads the orders other desks placed through the broker's listing of open orders, which
on Alpaca may be half a minute old while the trade-updates stream reports the desk's own
(``brokers.alpaca_reads``). The position limit counts working orders (``risk.holdings``), so
two desks of one store buying the same symbol by hand a few seconds apart each found the whole
limit free: two limit buys of 20 SPY at about $479 on a $100,000 account, each the whole 10%,
together twice the limit once both fill. Every order a desk sends has its row in the store
before it goes out, so before the gate measures, the desk reads there too (one small read, no
broker call) and counts another live desk's working order the listing lacks as working.

Only where several desks may share the account and the store (``AccountClaims`` present: a
broker-backed session); a local paper session's account is its own. A desk on another store
writes its rows elsewhere: it is not seen (README: a desk on another database shares neither
the halts nor the count).

A desk that ended (quit, or killed) a moment after its order still has that order working at
the broker, which the listing may not show yet either: a desk of the account that ended within
``ENDED_WITHIN`` seconds counts too (before, only live desks did: a trader who quit desk one
right after its GTC limit buy of the whole 10% saw desk two buy the whole 10% again). Past that,
any listing was read after the desk ended and shows what it left working; an ended desk's rows
are not followed beyond (they may be long stale: an order that ended since, never recorded).

Orders by hand only: the strategies' orders in a symbol are one desk's at a time (the symbol's
claim, ``engine.claims``), and the rebalance measures its target against the listing alone. What
remains: a desk's strategy buy in a symbol it trades, in the half minute after a hand buy on
another desk of the store, does not count that hand buy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui_trader.core.orders import Order, OrderStatus, OrderType, Side
from tui_trader.store.liveness import MIN_WINDOW
from tui_trader.store.other_sales import WorkingRow, live_working_rows

LISTING_AGE = 30.0
"""Seconds the broker's listing of open orders may be old (``brokers.alpaca_reads``'
``OPEN_ORDERS_TTL``; a test holds them equal)."""
ENDED_WITHIN = LISTING_AGE + MIN_WINDOW
"""Seconds after a desk's last sign of life during which its working rows still count: the
listing's age, and the shortest heartbeat window (its last heartbeat may precede its last
order by up to that much)."""


def counted_working(working: Sequence[Order], claims: object | None, session: Any) -> list[Order]:
    """What the position limit counts as working: ``working`` (the broker's listing) with the
    account's other live desks' orders it lacks, where desks may share the account (``claims``
    present, the session's row ``session`` known); else ``working`` as it is."""
    if claims is None or session is None:
        return list(working)
    return with_others(working, session.account_key, session.id)


def with_others(working: Sequence[Order], account_key: str, session_id: int) -> list[Order]:
    """``working`` plus every working order of the account's other live sessions (or ended
    within ``ENDED_WITHIN``), as their rows in the store say, that it lacks (by client id)."""
    listed = {order.client_order_id for order in working}
    extra = [
        _as_order(row)
        for row in live_working_rows(account_key, session_id, ended_within=ENDED_WITHIN)
        if row.client_order_id not in listed and row.remaining > 1e-9
    ]
    return [*working, *extra] if extra else list(working)


def _as_order(row: WorkingRow) -> Order:
    """A working row as an order still working with its remaining shares (``holdings`` reads
    the symbol, side, remaining quantity, client id and type)."""
    try:
        kind = OrderType(row.order_type)
    except ValueError:  # a row with no known type: counted, never taken for an exit
        kind = OrderType.MARKET
    side = Side.BUY if row.side == "buy" else Side.SELL
    return Order(row.client_order_id, row.symbol, side, row.remaining, kind, OrderStatus.NEW)
