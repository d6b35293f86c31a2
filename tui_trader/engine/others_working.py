"""The working orders the position limit counts: the broker's listing, plus the orders other
live desks of the account sent that the listing does not show yet.

A desk reads the orders other desks placed through the broker's listing of open orders, which
on Alpaca may be half a minute old while the trade-updates stream reports the desk's own
(``brokers.alpaca_reads``). The position limit counts working orders (``risk.holdings``), so
two desks of one store buying the same symbol by hand a few seconds apart each found the whole
limit free: two limit buys of 20 SPY at about $479 on a $100,000 account, each the whole 10%,
together twice the limit once both fill. Every order a desk sends has its row in the store
before it goes out, so before the gate measures, the desk reads there too (one small read) and
counts another live desk's working order the listing lacks as working (asked of the broker
first: below).

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

A row is only what its desk last recorded: an order filled at the broker keeps its row ``new``
until its desk records the fill (at that desk's next cycle for a strategy order), while the
positions read already hold the shares. Counted from the row, such an order counted twice: desk
two's 10 SPY bought and filled, desk one's buy by hand was refused (``no room under the position
limit``) with room for 10 more. So each row the listing lacks is asked of the broker by its
client id (``Broker.get_order``, a few at most: orders of the last half minute, or rows not
brought up yet), before the positions are read: ended there (filled, cancelled), it is not
counted (a fill is in the positions read after); still working, counted with what it has left;
unknown there yet (its send still on the way), or a look-up not answered (the request budget
spent, the broker silent), counted as its row says: the stricter reading, and a close by hand
still goes out.

Orders by hand only: the strategies' orders in a symbol are one desk's at a time (the symbol's
claim, ``engine.claims``), and the rebalance measures its target against the listing alone. What
remains: a desk's strategy buy in a symbol it trades, in the half minute after a hand buy on
another desk of the store, does not count that hand buy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tui_trader.brokers import BrokerError
from tui_trader.core.orders import Order, OrderStatus, Side
from tui_trader.store.liveness import MIN_WINDOW
from tui_trader.store.other_sales import WorkingRow, live_working_rows
from tui_trader.store.stop_rows import row_order_type

LookUp = Callable[[str], Order | None]
"""An order at the broker by its client id, ``None`` when the broker does not know it."""
LISTING_AGE = 30.0
"""Seconds the broker's listing of open orders may be old (``brokers.alpaca_reads``'
``OPEN_ORDERS_TTL``; a test holds them equal)."""
ENDED_WITHIN = LISTING_AGE + MIN_WINDOW
"""Seconds after a desk's last sign of life during which its working rows still count: the
listing's age, and the shortest heartbeat window (its last heartbeat may precede its last
order by up to that much)."""


def counted_working(
    working: Sequence[Order],
    claims: object | None,
    session: Any,
    look_up: LookUp | None = None,
    symbol: str | None = None,
) -> list[Order]:
    """What the position limit counts as working: ``working`` (the broker's listing) with the
    account's other live desks' orders it lacks (in ``symbol`` alone, when given: only those
    are asked of the broker), where desks may share the account (``claims`` present, the
    session's row ``session`` known); else ``working`` as it is. Called before the positions
    are read (see the module's docstring)."""
    if claims is None or session is None:
        return list(working)
    return with_others(working, session.account_key, session.id, look_up, symbol)


def with_others(
    working: Sequence[Order],
    account_key: str,
    session_id: int,
    look_up: LookUp | None = None,
    symbol: str | None = None,
) -> list[Order]:
    """``working`` plus every working order of the account's other live sessions (or ended
    within ``ENDED_WITHIN``) in ``symbol`` (every symbol: ``None``), as their rows in the
    store say, that it lacks (by client id); each as the broker says it now where ``look_up``
    asks it (one that ended there left out)."""
    listed = {order.client_order_id for order in working}
    extra = []
    for row in live_working_rows(account_key, session_id, symbol, ended_within=ENDED_WITHIN):
        if row.client_order_id in listed or row.remaining <= 1e-9:
            continue
        order = _as_order(row)
        found = None if look_up is None else _asked(look_up, row.client_order_id)
        if found is not None:
            if found.status.is_final:  # filled (in the positions read after) or cancelled
                continue
            order = found  # what is left of it at the broker
        extra.append(order)
    return [*working, *extra] if extra else list(working)


def _asked(look_up: LookUp, client_order_id: str) -> Order | None:
    """The order as the broker says it now; ``None`` when it does not know it, or does not
    answer (then the row counts as it says)."""
    try:
        return look_up(client_order_id)
    except BrokerError:
        return None


def _as_order(row: WorkingRow) -> Order:
    """A working row as an order still working with its remaining shares (``holdings`` reads
    the symbol, side, remaining quantity, client id and type)."""
    kind = row_order_type(row.order_type)  # no known type: counted, never taken for an exit
    side = Side.BUY if row.side == "buy" else Side.SELL
    return Order(row.client_order_id, row.symbol, side, row.remaining, kind, OrderStatus.NEW)
