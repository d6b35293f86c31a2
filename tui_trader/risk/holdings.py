"""What the risk gate measures of one symbol: the shares committed, and the shares a sell may take.

Three measures, from the same positions and working orders, for different questions:

- ``committed``: held plus what every working order will add when it fills, buys and sells
  netted: where the rebalance stands (what it still has to send to reach its target).
- ``bought``: held plus every working buy, no working sell: the longest the position can get.
  The position limit measures a buy against it, so that a burst of buys cannot together pass
  the limit, and a working sell (a limit far above the market may never fill) frees no room.
- ``sellable``: held minus what working sells will take, no working buy: the shortest the
  position can get. The short-sale check counts it (a working buy is not a share held: it may
  still be cancelled or never fill, so it never lets a sell through while short selling is
  off), and the position limit measures a sell against it.

Before ``bought``, the limit measured every order against ``committed``: 22 shares of SPY held
(the whole 10%) and a GTC limit sell of them at twice the price working, a buy of 22 more went
out whole and filled: 44 shares, 19% of equity, the sell never filling.

Orders in doubt (their answer lost, the broker not knowing them yet: ``engine.settlement``) are
counted as if they had filled wherever that is the stricter reading, and nowhere else: a buy in
doubt adds to what a further buy is measured against (``InDoubt.facing``), a sell in doubt takes
from ``sellable`` and from what a further sell is measured against; neither frees room for an
order the other way (a sell in doubt may never have reached the broker: the shares it would sell
are still held). Once the order settles (recorded from the broker, or ``not_received``) it is an
ordinary order again or nothing, and the measures are what they were without it.

Protective exits (stops, take-profits) are left out of both: they are insurance, not intended
trades, and the engine releases them before an order that closes the shares they hold.
One rule for every caller (the strategies' orders, manual tickets); pure values only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, replace

from tui_trader.core.domain import Position
from tui_trader.core.order_ids import read_order_id
from tui_trader.core.orders import Order, Side
from tui_trader.risk.stops import is_protective


@dataclass(frozen=True, slots=True)
class Holding:
    """One symbol's signed quantities as the gate sees them."""

    committed: float = 0.0
    """Held plus what working orders (buys and sells) will add: where the rebalance stands."""
    sellable: float = 0.0
    """Held minus working sells (and sells in doubt); a buy never counts: the short-sale
    check's measure, and what a sell is measured against."""
    bought: float = 0.0
    """Held plus working buys; a sell never counts: what a buy is measured against."""

    def facing(self, sign: int) -> float:
        """What an order in direction ``sign`` (+1 a buy) is measured against: the position
        should every working order its way fill and none the other way (``bought`` for a buy,
        ``sellable`` for a sell; with no order in doubt in the symbol, see ``InDoubt``). An
        order the other way may never fill (a limit far from the market), so it frees no room
        under the position limit, and a sell beside a working buy is judged as if the buy
        never filled (halted, it must not turn the position over)."""
        return self.bought if sign > 0 else self.sellable

    def closable(self, sign: int, held: float) -> float:
        """How many shares an order in direction ``sign`` can take off the ``held`` position
        (the broker's) and only ever shrink it, whichever working orders fill: a sell at most
        ``sellable`` (held less every working sell), a buy at most the short less every working
        buy; 0 when the order would add to the position. The day's order limit lets a manual
        order this size pass (``RiskManager.check_order``)."""
        if sign < 0:
            return max(self.sellable, 0.0)
        working_buys = self.committed - self.sellable  # committed less sellable: buys only
        return max(-(held + working_buys), 0.0)


@dataclass(frozen=True, slots=True)
class InDoubt(Holding):
    """A symbol with orders in doubt: what they would add if they filled, kept apart."""

    doubt_buys: float = 0.0
    """Shares that buys in doubt would add if they filled (not in ``committed``)."""
    doubt_sells: float = 0.0
    """Shares that sells in doubt would take if they filled (not in ``committed``; already
    taken from ``sellable``)."""

    def facing(self, sign: int) -> float:
        """``Holding.facing`` with every order in doubt that goes the same way as the new
        order counted as filled, none that goes against it (a fill of those could only leave
        the new order more room): sells in doubt are already out of ``sellable``."""
        if sign > 0:
            return self.bought + self.doubt_buys
        return self.sellable

    def closable(self, sign: int, held: float) -> float:
        """``Holding.closable`` with every order in doubt counted as filled where it shrinks
        the position too: sells in doubt are already out of ``sellable``; a buy covering a
        short also leaves out the buys in doubt."""
        if sign < 0:
            return max(self.sellable, 0.0)
        working_buys = self.committed - self.sellable - self.doubt_sells
        return max(-(held + working_buys + self.doubt_buys), 0.0)


NOTHING = Holding()
"""A symbol with no position and no working order."""

_new = object.__new__
_SET_COMMITTED, _SET_SELLABLE, _SET_BOUGHT = (
    Holding.__dict__[f.name].__set__ for f in fields(Holding)
)


def holdings(
    positions: Mapping[str, Position],
    working: Collection[Order],
    in_doubt: Collection[Order] = (),
) -> dict[str, Holding]:
    """Each symbol's ``Holding`` from its position, the working orders and the orders in doubt
    (``Unsettled.in_doubt``; a symbol with any gets an ``InDoubt``), protective exits left out.
    An order in doubt the working listing shows too (it reached the broker meanwhile) is
    counted once, as the broker lists it."""
    committed = {symbol: p.qty for symbol, p in positions.items()}
    sellable = dict(committed)
    bought = dict(committed)
    for order in working:
        if is_protective(order.client_order_id, order.order_type):
            continue
        symbol, left = order.symbol, order.remaining_qty
        if order.side is Side.BUY:
            committed[symbol] = committed.get(symbol, 0.0) + left
            bought[symbol] = bought.get(symbol, 0.0) + left
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
        _SET_BOUGHT(holding, bought.get(symbol, 0.0))
    if in_doubt:  # rare: an answer lost; the usual cycle pays one test for it
        _add_doubts(book, working, in_doubt)
    return book


def _add_doubts(
    book: dict[str, Holding], working: Collection[Order], in_doubt: Collection[Order]
) -> None:
    """Replace the ``Holding`` of each symbol with orders in doubt by its ``InDoubt``: sells
    in doubt taken from ``sellable``, both ways kept for ``facing``."""
    listed = {order.client_order_id for order in working}
    doubts: dict[str, tuple[float, float]] = {}
    for order in in_doubt:
        cid = order.client_order_id
        if cid in listed or is_protective(cid, order.order_type):
            continue
        buys, sells = doubts.get(order.symbol, (0.0, 0.0))
        if order.side is Side.BUY:
            doubts[order.symbol] = (buys + order.remaining_qty, sells)
        else:
            doubts[order.symbol] = (buys, sells + order.remaining_qty)
    for symbol, (buys, sells) in doubts.items():
        held = book.get(symbol, NOTHING)
        book[symbol] = InDoubt(held.committed, held.sellable - sells, held.bought, buys, sells)


def lagging_fills(working: Collection[Order], symbol: str, sign: int) -> float:
    """The shares already filled of the orders listed working in ``symbol`` on the side
    ``sign`` (-1 sales, +1 buys), which a sale (or a cover) sized from the positions leaves out
    as it leaves out what they have left (``Holding.closable``). Alpaca's positions may leave out
    the fills of an order still working (the sandbox's ``position_lag``): an order sized as held
    less such a sale's rest sold its filled shares a second time once the rest filled. A halt's
    flatten (short 3 SPY for 17 s, ``exits31``'s re-run of the ``crash30b`` campaign's seed
    3009; -10 SPY on the sandbox), and a sale by hand or by a strategy beside another desk's
    partly filled sale (``holds32``: the broker refused it, or, the rest filling in the
    milliseconds before the send, it opened a short). Where the positions do hold those fills,
    the order comes out smaller by them (or waits) until that order has ended. Pure: the
    local paper broker never fills in part, so this is 0 there."""
    return sum(
        o.filled_qty
        for o in working
        if o.symbol == symbol and o.side.sign == sign and o.status.is_open and o.filled_qty > 0
    )


def less_sales_filled(
    book: dict[str, Holding], working: Collection[Order], session_key: str | None
) -> dict[str, Holding]:
    """``book`` with each symbol's ``sellable`` also less what the working sales of others
    (another desk's, or placed outside any desk) have filled already (``lagging_fills``): what
    a strategy's or a hand sale may take, as a halt's flatten's close leaves them out. The
    session's own (client ids of ``session_key``) are left: its positions are taken at what its
    own fills make where they lag (``engine.manual_book.as_fills_make``). Symbols with no such
    sale keep their ``Holding``."""
    filled = [o for o in working if o.side is Side.SELL and o.filled_qty > 0 and o.status.is_open]
    others = [o for o in filled if not _sent_by(o, session_key)]
    out = book
    for symbol in sorted({o.symbol for o in others}):
        sold = lagging_fills(others, symbol, -1)
        held = book.get(symbol)
        if sold <= 0 or held is None:
            continue
        if out is book:
            out = dict(book)
        out[symbol] = replace(held, sellable=held.sellable - sold)
    return out


def _sent_by(order: Order, session_key: str | None) -> bool:
    """Whether ``order`` is the session's of ``session_key`` (its client id says so)."""
    parts = read_order_id(order.client_order_id)
    return parts is not None and session_key is not None and parts.session_key == session_key
