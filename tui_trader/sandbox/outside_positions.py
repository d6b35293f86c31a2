"""Positions the sandbox account holds outside the equities it trades: option contracts and
crypto, bought by hand.

A person can buy an option or a cryptocurrency by hand (Alpaca's web page) on the account a
desk trades. Alpaca lists such a holding with the account's positions and counts it in the
account's equity: an option contract under its OCC symbol (``SPY261218C00500000``,
``asset_class`` ``us_option``; one contract is 100 shares, so its ``market_value`` is qty ×
price × 100, the price being per share), a cryptocurrency under its pair without the slash
(``BTCUSD``, ``asset_class`` ``crypto``, fractional quantities; its orders name it
``BTC/USD``). The sandbox has no market for them, so such a holding is kept here, apart from
the matching engine: placed through ``POST /admin/outside_position`` (bought from the account's
cash at its price, which no bar moves), listed by ``GET /v2/positions`` after the equities
(the multiplier nowhere in the answer, as at Alpaca), valued in ``GET /v2/account``. Nothing
trades or closes it: it is there for a desk to leave alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from tui_trader.sandbox.shapes import asset_id, money, num

MULTIPLIERS = {"us_option": 100.0, "crypto": 1.0}
"""What one unit of quantity holds, by asset class: an option contract is 100 shares."""
MAX_AMOUNT = 1e6
"""The largest quantity or price such a holding may have."""


@dataclass(frozen=True, slots=True)
class OutsidePosition:
    """One holding bought by hand outside the equities: long only, at one price."""

    symbol: str
    asset_class: str
    qty: float
    price: float

    @property
    def value(self) -> float:
        """What it is worth: quantity × price × the class's multiplier."""
        return self.qty * self.price * MULTIPLIERS[self.asset_class]


class OutsidePositions:
    """The account's holdings outside the equities, by symbol."""

    def __init__(self) -> None:
        """None held."""
        self._lock = threading.Lock()
        self._held: dict[str, OutsidePosition] = {}

    def place(self, symbol: str, asset_class: str, qty: float, price: float) -> OutsidePosition:
        """Hold ``qty`` of ``symbol`` (replacing any held) at ``price``; the caller moves the
        cash. A symbol with a slash (an order's ``BTC/USD``) is listed as Alpaca lists the
        position: ``BTCUSD``."""
        if asset_class not in MULTIPLIERS:
            raise ValueError(f"asset_class must be one of {', '.join(MULTIPLIERS)}")
        if not symbol or not all(0 < x <= MAX_AMOUNT for x in (qty, price)):  # NaN, inf too
            raise ValueError(f"a symbol, and qty and price above 0 and at most {MAX_AMOUNT:g}")
        held = OutsidePosition(symbol.replace("/", "").upper(), asset_class, qty, price)
        with self._lock:
            self._held[held.symbol] = held
        return held

    def value(self) -> float:
        """The holdings' worth, for the account's equity."""
        with self._lock:
            return sum(p.value for p in self._held.values())

    def listed(self) -> list[dict[str, Any]]:
        """The holdings as ``GET /v2/positions`` lists them, by symbol."""
        with self._lock:
            held = sorted(self._held.values(), key=lambda p: p.symbol)
        return [_json(p) for p in held]


def _json(held: OutsidePosition) -> dict[str, Any]:
    """One holding as Alpaca lists a position (its price per share or per coin)."""
    return {
        "asset_id": asset_id(held.symbol),
        "symbol": held.symbol,
        "exchange": "CRYPTO" if held.asset_class == "crypto" else "",
        "asset_class": held.asset_class,
        "asset_marginable": False,
        "qty": num(held.qty),
        "qty_available": num(held.qty),
        "avg_entry_price": num(held.price),
        "side": "long",
        "market_value": money(held.value),
        "cost_basis": money(held.value),
        "unrealized_pl": "0",
        "unrealized_plpc": "0",
        "unrealized_intraday_pl": "0",
        "unrealized_intraday_plpc": "0",
        "current_price": num(held.price),
        "lastday_price": num(held.price),
        "change_today": "0",
    }
