"""The paper broker's admission: why an order is refused when it is submitted, or ``None``.

``PaperAdmission`` is the part of ``PaperBroker`` (``brokers/paper``) that checks each order
before it joins the book: a unique client id, trading not suspended, a known symbol, a positive
(and, unless fractional shares are on, whole) quantity, sane prices (``paper_matching``), shares
to sell that no working sell already holds (short selling off), and buying power for the part
that opens exposure (``PaperAccount``). A closing order is never refused for buying power.
"""

from __future__ import annotations

import math

from tui_trader.brokers.paper_account import PaperAccount
from tui_trader.brokers.paper_matching import price_problem, reserve_price
from tui_trader.core.orders import Order, OrderClass, OrderRequest, OrderType, Side

_MARKET, _SIMPLE, _SELL = OrderType.MARKET, OrderClass.SIMPLE, Side.SELL
"""Named once: an enum's member costs a metaclass look-up each time it is named (3.11), and
these are named for every order submitted."""


class PaperAdmission(PaperAccount):
    """The order checks of the paper broker, on its book and account.

    A mixin: ``PaperBroker`` sets the attributes below (and ``PaperAccount``'s) in its
    ``__init__``.
    """

    symbols: frozenset[str]
    fractional: bool
    _suspended: bool
    _orders_by_client_id: dict[str, Order]

    def _rejection(self, req: OrderRequest) -> str | None:
        """Why the order cannot be accepted, or ``None``."""
        if req.client_order_id in self._orders_by_client_id:
            return "client_order_id must be unique"
        if self._suspended:
            return "trading is suspended on this account"
        if req.symbol not in self.symbols or req.symbol not in self._last:
            return f"unknown symbol {req.symbol}"
        if not (req.qty > 0) or math.isinf(req.qty):
            return "quantity must be positive"
        if not self.fractional and req.qty != int(req.qty):
            return "fractional shares are off: quantity must be whole"
        symbol = req.symbol
        if req.order_type is _MARKET and req.order_class is _SIMPLE:
            price = self._last[symbol]  # no prices to check; reserved at the last close
        else:
            problem = price_problem(req)
            if problem:
                return problem
            price = reserve_price(req.order_type, req.limit_price, req.stop_price)
            price = price or self._last[symbol]
        held = self._positions.get(symbol)
        held_qty = held.qty if held else 0.0
        pending = sum(
            w.order.remaining_qty * w.order.side.sign
            for w in self._working
            if w.order.symbol == symbol
        )
        if req.side is _SELL and not self.allow_short:
            sellable = held_qty + min(pending, 0.0)
            if req.qty > sellable + 1e-9:
                return (
                    f"insufficient position: selling {req.qty:g} {req.symbol} but only "
                    f"{max(sellable, 0):g} held (short selling is off)"
                )
            return None
        # Only the part that opens exposure (beyond what working orders leave) needs buying
        # power: closing a position is never refused for it.
        before = held_qty + pending
        after = before + req.qty * req.side.sign
        opening = abs(after) if before * after < 0 else max(abs(after) - abs(before), 0.0)
        if opening > 1e-12:
            need = opening * price * (1 + self.costs.slippage_bps / 1e4)
            need += self.costs.commission(req.qty)
            # what account() reports, without summing every position when shorting is off,
            # plus the exposure that working closing orders give back when they fill
            equity = self._equity() if self.allow_short else 0.0
            buying_power = round(self._buying_power(equity), 6)
            if self.allow_short:
                buying_power += self._released()
            if need > buying_power + 1e-6:
                return f"insufficient buying power: need {need:,.2f}, have {buying_power:,.2f}"
        return None
