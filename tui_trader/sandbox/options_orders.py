"""Multi-leg options orders on the sandbox account, placed from outside the desk.

A person can place a multi-leg options order (``order_class`` ``mleg``, a spread) in Alpaca's
web page on the account a desk trades. Alpaca lists it with the account's orders and announces
it on the trading stream, and its top level names no symbol and no side: its legs do (each an
option contract, a side and a ratio). The sandbox has no options market, so such an order is
kept here, apart from the matching engine: placed through ``POST /admin/options_order`` (not
Alpaca's API: the desk never sends one), listed by ``GET /v2/orders``, found by its ids,
announced (``pending_new``, ``new``, then ``canceled``), cancelled by ``DELETE /v2/orders/{id}``
and ``DELETE /v2/orders``, never filled.

A cryptocurrency order placed by hand the same way (``POST /admin/coin_order``: a simple limit
order, ``asset_class`` ``crypto``, its symbol the pair with its slash, ``BTC/USD``, where the
position says ``BTCUSD``; a fractional quantity; good till cancelled) is kept here too, for the
same reason (no market for it) and the same way: listed, found, announced, cancelled, never
filled.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tui_trader.sandbox.shapes import iso, num

MAX_AMOUNT = 1e6
"""The largest quantity or limit price such an order may have (a sane spread's are far below)."""
OPEN = ("pending_new", "new")
"""The statuses of such an order while it works (it never fills)."""


class OptionsOrders:
    """The account's multi-leg options orders, by id, as Alpaca shows them (JSON)."""

    def __init__(self, now: Callable[[], datetime], publish: Callable[[dict[str, Any]], None]):
        """``now``: the sandbox's clock; ``publish``: sends one trade update (its ``data``)."""
        self._now = now
        self._publish = publish
        self._lock = threading.Lock()
        self._orders: dict[str, dict[str, Any]] = {}
        self._created: dict[str, datetime] = {}

    def place(self, legs: list[tuple[str, str]], qty: float, limit_price: float) -> dict[str, Any]:
        """A new order of ``qty`` spreads at ``limit_price``, its legs ``(contract, side)``;
        announced ``pending_new`` then ``new``; answered as listed."""
        if not legs or any(side not in ("buy", "sell") or not c for c, side in legs):
            raise ValueError("legs must be [contract, buy|sell] pairs")
        if not all(0 < x <= MAX_AMOUNT for x in (qty, limit_price)):  # NaN, inf too
            raise ValueError(f"qty and limit_price must be above 0 and at most {MAX_AMOUNT:g}")
        now = self._now()
        order_id = str(uuid.uuid4())
        order = _shape(order_id, now, None, qty, limit_price, "pending_new")
        order["legs"] = [
            _shape(str(uuid.uuid4()), now, (contract, side), qty, None, "pending_new")
            for contract, side in legs
        ]
        with self._lock:
            self._orders[order_id] = order
            self._created[order_id] = now
        for status in OPEN:
            self._set(order_id, status, status)
        return self.get(order_id) or {}

    def place_coin(self, symbol: str, side: str, qty: float, limit_price: float) -> dict[str, Any]:
        """A cryptocurrency limit order (``symbol`` ``BTC/USD``), announced ``pending_new``
        then ``new``; answered as listed."""
        if "/" not in symbol or side not in ("buy", "sell"):
            raise ValueError("a coin order names a pair (BTC/USD) and a side (buy or sell)")
        if not all(0 < x <= MAX_AMOUNT for x in (qty, limit_price)):  # NaN, inf too
            raise ValueError(f"qty and limit_price must be above 0 and at most {MAX_AMOUNT:g}")
        now = self._now()
        order_id = str(uuid.uuid4())
        order = _shape(order_id, now, (symbol.upper(), side), qty, limit_price, "pending_new")
        order |= {"order_class": "simple", "asset_class": "crypto", "qty": num(qty)}
        order |= {"position_intent": None, "ratio_qty": None, "time_in_force": "gtc"}
        with self._lock:
            self._orders[order_id] = order
            self._created[order_id] = now
        for status in OPEN:
            self._set(order_id, status, status)
        return self.get(order_id) or {}

    def get(self, order_id: str) -> dict[str, Any] | None:
        """The order under this id or client id (a copy), None if it is not one of these."""
        with self._lock:
            for order in self._orders.values():
                if order_id in (order["id"], order["client_order_id"]):
                    return _copy(order)
        return None

    def listed(self, status: str, after: datetime | None, until: datetime | None) -> list:
        """``(created, order)`` of the orders a ``GET /v2/orders`` with these filters lists."""
        out = []
        with self._lock:
            for order_id, order in self._orders.items():
                created = self._created[order_id]
                is_open = order["status"] in OPEN
                if (status == "open" and not is_open) or (status == "closed" and is_open):
                    continue
                if (after and created <= after) or (until and created >= until):
                    continue
                out.append((created, _copy(order)))
        return out

    def cancel(self, order_id: str) -> bool | None:
        """Cancel one: True if cancelled, False if it had ended, None if not one of these."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                return None
            if order["status"] not in OPEN:
                return False
        self._set(order_id, "canceled", "canceled")
        return True

    def cancel_all(self) -> list[str]:
        """Cancel every working one (``DELETE /v2/orders``); their ids."""
        with self._lock:
            working = [i for i, o in self._orders.items() if o["status"] in OPEN]
        return [i for i in working if self.cancel(i)]

    def _set(self, order_id: str, status: str, event: str) -> None:
        """Move an order (and its legs) to ``status`` and announce ``event``."""
        now = self._now()
        with self._lock:
            order = self._orders[order_id]
            for part in [order, *(order["legs"] or [])]:
                part["status"] = status
                part["updated_at"] = iso(now)
                if status == "canceled":
                    part["canceled_at"] = iso(now)
            snapshot = _copy(order)
        self._publish({"event": event, "timestamp": iso(now), "order": snapshot})


def _shape(
    order_id: str,
    now: datetime,
    leg: tuple[str, str] | None,
    qty: float,
    limit_price: float | None,
    status: str,
) -> dict[str, Any]:
    """One order as Alpaca shows a multi-leg one: the parent without symbol or side (``leg``
    None), a leg with its contract, side and a ratio of 1."""
    contract, side = leg if leg is not None else (None, None)
    body: dict[str, Any] = {
        "id": order_id,
        "client_order_id": str(uuid.uuid4()),
        "created_at": iso(now),
        "updated_at": iso(now),
        "submitted_at": iso(now),
        "filled_at": None,
        "expired_at": None,
        "canceled_at": None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": None if leg is None else str(uuid.uuid5(uuid.NAMESPACE_URL, contract or "")),
        "symbol": contract,
        "asset_class": None if leg is None else "us_option",
        "notional": None,
        "qty": num(qty) if leg is None else None,
        "filled_qty": "0",
        "filled_avg_price": None,
        "order_class": "mleg",
        "order_type": "limit",
        "type": "limit",
        "side": side,
        "position_intent": None if side is None else f"{side}_to_open",
        "ratio_qty": None if leg is None else "1",
        "time_in_force": "day",
        "limit_price": num(limit_price),
        "stop_price": None,
        "status": status,
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }
    return body


def _copy(order: dict[str, Any]) -> dict[str, Any]:
    """An order's JSON copied (its legs too), safe to hand out of the lock."""
    out = dict(order)
    if order.get("legs"):
        out["legs"] = [dict(leg) for leg in order["legs"]]
    return out
