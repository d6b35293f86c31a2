"""Another desk's buy (or short sale) that a desk's listing still shows working after it ended.

A desk with exits places no exit beside an order that adds to the position: Alpaca refuses a
sell stop beside a working buy of the account as a wash trade, and the add's fill sizes the exit.
The orders other desks placed reach it through the broker's listing of open orders, which on
Alpaca may be half a minute old (``brokers.alpaca_reads``): another desk's buy cancelled (a halt)
or filled since still showed working, and the desk keeping the symbol's exit placed none, said
nothing, until its listing came round again (the ``crash28b`` campaign: 4 s of its cycles, up
to half a minute). Every desk writes its order's end in the store as the broker tells it, so a
listed add of another session whose row says it ended is asked at the broker, once, and an
order the broker says ended (final) no longer holds the exit back. Any doubt (no row, a row
still open, the broker silent or saying it works) holds it back, as before.
"""

from __future__ import annotations

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.orders import Order
from tui_trader.store.other_sales import ended_rows


def ended_adds(
    broker: Broker, account_key: str, session_id: int, adds: list[Order], gone: set[str]
) -> set[str]:
    """The client ids among ``adds`` (listed orders adding to a position, not this session's
    own) that have ended: another session's row says so and the broker, asked now, agrees.
    ``gone`` keeps those found so (a client id's end is for good), asked no more."""
    ask = [o.client_order_id for o in adds if o.client_order_id not in gone]
    for cid in sorted(ended_rows(account_key, session_id, ask)):
        try:
            found = broker.get_order(cid)
        except BrokerError:
            continue  # not answered: still held back, asked again next cycle
        if found is not None and found.status.is_final:
            gone.add(cid)
    return {o.client_order_id for o in adds} & gone
