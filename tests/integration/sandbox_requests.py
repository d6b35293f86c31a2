"""alpaca-py order requests and refusals, written short, for the sandbox's order tests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderClass, OrderSide
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
)


def refused(call) -> tuple[int, str]:
    """The status and message of the APIError ``call`` raises."""
    with pytest.raises(APIError) as err:
        call()
    return err.value.status_code, json.loads(str(err.value))["message"]


def market(symbol: str, qty: float, side: Any, tif: str = "day", **extra) -> MarketOrderRequest:
    """A market order (DAY unless ``tif`` says otherwise; ``extra``: order class, exits)."""
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=tif, **extra)


def limit(symbol: str, qty: float, side: Any, price: float, **extra) -> LimitOrderRequest:
    """A limit order (GTC unless ``time_in_force`` says otherwise)."""
    extra.setdefault("time_in_force", "gtc")
    return LimitOrderRequest(symbol=symbol, qty=qty, side=side, limit_price=price, **extra)


def exits(take: float | None = None, stop: float | None = None) -> dict[str, Any]:
    """The exits of a bracket, OCO or OTO order: a take-profit limit at ``take`` and a stop at
    ``stop``, each only if given (as ``take_profit=`` and ``stop_loss=`` keywords)."""
    legs: dict[str, Any] = {}
    if take is not None:
        legs["take_profit"] = TakeProfitRequest(limit_price=take)
    if stop is not None:
        legs["stop_loss"] = StopLossRequest(stop_price=stop)
    return legs


def bracket(
    symbol: str, qty: float, take: float, stop: float, entry: float | None = None, **extra
) -> MarketOrderRequest | LimitOrderRequest:
    """A GTC bracket buy: at market, or a limit at ``entry``; its exits at ``take`` and
    ``stop`` (``extra``: ``time_in_force`` and the like)."""
    extra.setdefault("time_in_force", "gtc")
    extra.update(order_class=OrderClass.BRACKET, **exits(take, stop))
    if entry is None:
        return MarketOrderRequest(symbol=symbol, qty=qty, side=OrderSide.BUY, **extra)
    return limit(symbol, qty, OrderSide.BUY, entry, **extra)
