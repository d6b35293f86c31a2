"""Orders as alpaca-py hands them back from Alpaca (prices and quantities as strings), for the
tests of the mapping between Alpaca's orders and the desk's, and a broker that sends nothing."""

from __future__ import annotations

from typing import Any


def raw_order(cid: str, kind: str, status: str, filled: str = "0", **kw: Any) -> Any:
    """An alpaca-py ``Order`` for 100 SPY, sell side, good till cancelled; ``kw`` adds or
    overrides fields (``id``, ``order_class``, ``stop_price``, ...)."""
    from alpaca.trading.models import Order as AlpacaOrder

    fields: dict[str, Any] = {
        "id": "61e69015-8549-4bfd-b9c3-01e75843f47d",
        "client_order_id": cid,
        "created_at": "2026-12-04T15:00:00Z",
        "updated_at": "2026-12-04T15:00:00Z",
        "submitted_at": "2026-12-04T15:00:00Z",
        "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
        "symbol": "SPY",
        "asset_class": "us_equity",
        "qty": "100",
        "filled_qty": filled,
        "order_type": kind,
        "type": kind,
        "side": "sell",
        "time_in_force": "gtc",
        "status": status,
        "extended_hours": False,
    }
    return AlpacaOrder(**{**fields, **kw})


def offline_broker() -> Any:
    """An ``AlpacaBroker`` without the stream, on an address nothing listens at: a request it
    sent would fail, so a test using it proves nothing goes out."""
    from tui_trader.brokers.alpaca import AlpacaBroker
    from tui_trader.brokers.alpaca_config import AlpacaEndpoint, Secret

    endpoint = AlpacaEndpoint(
        key_id="PKTEST",
        secret=Secret("not-a-secret"),
        base_url="http://127.0.0.1:9",
        data_url=None,
        stream_url="ws://127.0.0.1:9/stream",
        data_stream_url=None,
        source="test",
    )
    return AlpacaBroker(endpoint, use_stream=False, require_open_market=False)
