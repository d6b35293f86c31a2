"""What the risk gate measures of one symbol: the shares committed, and the shares a sell may take.

Two measures, from the same positions and working orders, for two different questions:

- ``committed``: held plus what every working order will add when it fills. The position limit
  counts it, so that a burst of buys cannot together pass the limit.
- ``sellable``: held minus what working sells will take. The short-sale check counts it: a
  working buy is not a share held (it may still be cancelled or never fill), so it never lets
  a sell through while short selling is off.

Protective exits (stops, take-profits) are left out of both: they are insurance, not intended
trades, and the engine releases them before an order that closes the shares they hold.
One rule for every caller (the strategies' orders, manual tickets); pure values only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

from tui_trader.core.domain import Position
from tui_trader.core.orders import Order, Side
from tui_trader.risk.stops import is_protective


@dataclass(frozen=True, slots=True)
class Holding:
    """One symbol's signed quantities as the gate sees them."""

    committed: float = 0.0
    """Held plus what working orders (buys and sells) will add: the position limit's measure."""
    sellable: float = 0.0
    """Held minus working sells; a working buy never counts: the short-sale check's measure."""


NOTHING = Holding()
"""A symbol with no position and no working order."""

_new = object.__new__
_SET_COMMITTED, _SET_SELLABLE = (Holding.__dict__[f.name].__set__ for f in fields(Holding))


def holdings(positions: Mapping[str, Position], working: Iterable[Order]) -> dict[str, Holding]:
    """Each symbol's ``Holding`` from its position and the working orders, protective exits
    left out."""
    committed = {symbol: p.qty for symbol, p in positions.items()}
    sellable = dict(committed)
    for order in working:
        if is_protective(order.client_order_id, order.order_type):
            continue
        symbol, left = order.symbol, order.remaining_qty
        if order.side is Side.BUY:
            committed[symbol] = committed.get(symbol, 0.0) + left
        else:
            committed[symbol] = committed.get(symbol, 0.0) - left
            sellable[symbol] = sellable.get(symbol, 0.0) - left
    # Holding(qty, sellable) slot by slot: once a cycle for every symbol held (about fifty a
    # bar time in a 100-symbol replay), where the frozen dataclass's ``__init__`` sets each field
    # through ``object.__setattr__`` at twice the cost. Not slotted any more: fails at import.
    book: dict[str, Holding] = {}
    for symbol, qty in committed.items():
        holding = book[symbol] = _new(Holding)
        _SET_COMMITTED(holding, qty)
        _SET_SELLABLE(holding, sellable.get(symbol, 0.0))
    return book
