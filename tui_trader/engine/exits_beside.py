"""Another live desk's protective exits a halt's flatten may not see: asked of the broker.

A flatten cancels every order on the account, other live desks' exits too, and sizes each
close on the positions and the listing read after. Alpaca's positions may lag a fill and its
listing (fed by the stream) may be half a minute old, and the desk that owns the exit records
its fill only at its own next look. So an exit of a desk not halted yet (it kept protecting
its position as the halt began) that filled just before the flatten's pass was in none of the
flatten's reads: the close sold the shares the stop had sold (``crash30``, run 3009: session
1's stop placed at 25.85 s, the flatten's close at 26.67 s, short 22, then 11 IWM for 32 s).

Right before each close, the other live desks' exit rows still open in the store and closing
the position are each asked of the broker (by client id; the listing may show one that has
filled, and the close's sizing leaves exits out, as they were to be cancelled first): one
working (a cancel still pending may lose to a fill), or filled in whole or in part, has its
shares left out of the close; one cancelled unfilled (the halt's own cancel: its owner has not
recorded it yet) is not. One the broker does not know (sent a moment ago: on its way) or that
could not be asked counts in full (fail closed). A close that comes out smaller than what is
held (the positions held that fill already) leaves the rest for the flatten's next pass, said
among what it did not close. Counting the open rows without asking left a position neither
closed nor protected while its owner had not recorded the halt's cancel (``crash30``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.risk.stops import is_protective
from tui_trader.store.other_sales import live_working_rows
from tui_trader.store.stop_rows import row_order_type

if TYPE_CHECKING:
    from tui_trader.brokers import Broker


def exits_beside(
    broker: Broker, account_key: str, session_id: int, symbol: str, held: float
) -> float:
    """The shares of ``held`` (signed) that other live desks' exits in ``symbol`` hold or
    sold, as the broker says now of each whose row is open in the store."""
    closing_side = "sell" if held > 0 else "buy"
    shares = 0.0
    for row in live_working_rows(account_key, session_id, symbol):
        if row.side != closing_side:
            continue
        if not is_protective(row.client_order_id, row_order_type(row.order_type)):
            continue  # another desk's sale: ``engine.sales_beside``
        try:
            found = broker.get_order(row.client_order_id)
        except BrokerError:
            found = None
        if found is None:  # on its way, or not asked: it may sell them all
            shares += row.remaining + row.filled
        elif found.status.is_final:
            shares += found.filled_qty  # what it sold before it ended
        else:  # still working, or its cancel pending: it may sell what it has left
            shares += found.qty
    return shares
