"""What the sandbox's market data stream sends: Alpaca's bar, trade and quote messages.

Times are msgpack Timestamps for msgpack clients (what alpaca-py expects) and RFC 3339 strings
for JSON clients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgpack

from tui_trader.core.domain import Bar
from tui_trader.sandbox.data_api import rfc3339
from tui_trader.sandbox.feed import Quote, trade_count, vwap


def stamp(when: datetime, msgpack_wire: bool) -> Any:
    """A time as a msgpack Timestamp (what alpaca-py expects) or an RFC 3339 string."""
    return msgpack.Timestamp.from_datetime(when) if msgpack_wire else rfc3339(when)


def bar_msg(bar: Bar, wire: bool) -> dict[str, Any]:
    """A stream bar (``T: b``) with ``n`` and ``vw``."""
    return {
        "T": "b",
        "S": bar.symbol,
        "o": bar.open,
        "h": bar.high,
        "l": bar.low,
        "c": bar.close,
        "v": round(bar.volume),
        "t": stamp(bar.timestamp, wire),
        "n": trade_count(bar),
        "vw": vwap(bar),
    }


def trade_msg(bar: Bar, wire: bool) -> dict[str, Any]:
    """A stream trade (``T: t``): 100 shares at the bar's close, at the bar's end."""
    return {
        "T": "t",
        "S": bar.symbol,
        "i": int(bar.timestamp.timestamp()),
        "x": "V",
        "p": bar.close,
        "s": 100,
        "c": ["@"],
        "z": "B",
        "t": stamp(bar.timestamp, wire),
    }


def quote_msg(quote: Quote, wire: bool) -> dict[str, Any]:
    """A stream quote (``T: q``)."""
    return {
        "T": "q",
        "S": quote.symbol,
        "bx": "V",
        "bp": quote.bid,
        "bs": quote.bid_size,
        "ax": "V",
        "ap": quote.ask,
        "as": quote.ask_size,
        "c": ["R"],
        "z": "B",
        "t": stamp(quote.timestamp, wire),
    }


def json_default(value: Any) -> Any:
    """JSON for msgpack Timestamps (never reached for JSON clients; kept for safety)."""
    if isinstance(value, msgpack.Timestamp):
        return rfc3339(value.to_datetime())
    raise TypeError(f"cannot encode {type(value).__name__}")
