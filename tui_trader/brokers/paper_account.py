"""The paper broker's account: cash, positions, equity and buying power, and what a fill costs.

``PaperAccount`` is the half of ``PaperBroker`` (``brokers/paper``) that keeps the books: a fill
moves cash and the position here, and the account, the positions and the buying power the order
checks use are read from here. Buying power is cash less what open buy orders have reserved (no
margin); with short selling on, it is equity less gross exposure and reservations. The order
book and the matching stay in ``brokers/paper``, the order checks in ``brokers/paper_admission``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui_trader.brokers.paper_matching import Working, reserve_price
from tui_trader.core.domain import Account, Position, local_account
from tui_trader.core.orders import OrderType, Side

_BUY, _MARKET = Side.BUY, OrderType.MARKET
"""Named once: an enum's member costs a metaclass look-up each time it is named (3.11), and
the working buys are summed for every order."""


@dataclass(frozen=True, slots=True)
class PaperCosts:
    """What a fill costs beyond the price."""

    slippage_bps: float = 5.0
    commission_per_share: float = 0.005
    commission_min: float = 1.0

    def commission(self, qty: float) -> float:
        """Commission for one fill of ``qty`` shares."""
        return round(max(qty * self.commission_per_share, self.commission_min), 2)


class PaperAccount:
    """Cash and positions of the paper broker, and the equity and buying power read from them.

    A mixin: ``PaperBroker`` sets the attributes below in its ``__init__``.
    """

    cash: float
    costs: PaperCosts
    allow_short: bool
    _positions: dict[str, Position]
    _last: dict[str, float]
    _working: list[Working]
    _account_memo: tuple[float, float, float, Account] | None
    _reserve_memo: tuple[list[Working], int, Working, Any, float] | None = None
    """The last sum of the working buys (``_reserved_for_buys``)."""
    """The last ``account()``: the raw cash, equity and buying power it was built from."""

    def account(self) -> Account:
        """Cash, equity at the last prices, and buying power net of open buy orders: the same
        (immutable) object again while none of the three moved (read every cycle, and a flat
        account's figures stay put)."""
        equity = self._equity()
        cash = self.cash
        buying_power = self._buying_power(equity)
        memo = self._account_memo
        if memo is not None and memo[0] == cash and memo[1] == equity and memo[2] == buying_power:
            return memo[3]
        # Account(cash, equity, buying power) with account id "local", slot by slot
        account = local_account(round(cash, 6), round(equity, 6), round(buying_power, 6))
        self._account_memo = (cash, equity, buying_power, account)
        return account

    def positions(self) -> dict[str, Position]:
        """Open positions marked at the last close."""
        return dict(self._positions)

    def _released(self) -> float:
        """Gross exposure that working orders will close when they fill (at the last prices)."""
        closing: dict[str, float] = {}
        for w in self._working:
            o = w.order
            held = self._positions.get(o.symbol)
            if held and held.qty * o.side.sign < 0:
                closing[o.symbol] = closing.get(o.symbol, 0.0) + o.remaining_qty
        released = 0.0
        for symbol, qty in closing.items():
            held = self._positions[symbol]
            released += min(qty, abs(held.qty)) * self._last.get(symbol, held.last_price)
        return released

    def _equity(self) -> float:
        """Cash plus the positions at their last prices."""
        return self.cash + sum([p.qty * p.last_price for p in self._positions.values()])

    def _buying_power(self, equity: float) -> float:
        """Cash less open buys (long-only) or equity less gross exposure (with shorting)."""
        reserved = self._reserved_for_buys()
        if not self.allow_short:
            return max(self.cash - reserved, 0.0)
        gross = sum(abs(p.market_value) for p in self._positions.values())
        return max(equity - gross - reserved, 0.0)

    def _reserved_for_buys(self) -> float:
        """What the working buy orders hold back, summed in their order.

        Each order a cycle sends is checked against buying power, so a cycle of 40 orders
        summed over a growing list 40 times (issue 17). While the list only grew since the
        last sum (the same objects first, none of them changed: prices and fills move only in
        ``on_bars``, which drops the memo), the sum goes on from where it stopped: the same
        additions in the same order, so the same number."""
        working = self._working
        memo = self._reserve_memo
        start, reserved = 0, 0.0
        if memo is not None and memo[0] is working:
            count, last, order, total = memo[1:]
            if count <= len(working) and working[count - 1] is last and last.order is order:
                start, reserved = count, total
        slippage = 1 + self.costs.slippage_bps / 1e4
        for w in working[start:] if start else working:
            o = w.order
            if o.side is _BUY:
                if o.order_type is _MARKET:  # reserve_price's answer for it: the last price
                    price = self._last.get(o.symbol, 0.0)
                else:
                    price = reserve_price(o.order_type, o.limit_price, o.stop_price)
                    price = price or self._last.get(o.symbol, 0.0)
                reserved += o.remaining_qty * price * slippage
        if working:
            self._reserve_memo = (working, len(working), working[-1], working[-1].order, reserved)
        return reserved

    def _apply_fill(self, symbol: str, side: Side, qty: float, price: float, fee: float) -> None:
        """Move cash and the position; the average entry changes only when exposure grows."""
        signed = qty * side.sign
        self.cash -= signed * price + fee
        held = self._positions.get(symbol)
        old_qty = held.qty if held else 0.0
        new_qty = old_qty + signed
        if abs(new_qty) < 1e-9:
            self._positions.pop(symbol, None)
            return
        if held is None or old_qty * signed > 0:
            basis = (held.cost_basis if held else 0.0) + signed * price
            avg = basis / new_qty
        elif old_qty * new_qty < 0:
            avg = price
        else:
            avg = held.avg_entry_price
        self._positions[symbol] = Position(symbol, new_qty, avg, price)
