"""``GET /v2/orders`` pages as Alpaca's OpenAPI document says: the desk's listings rely on it.

The document (``/work/shared/alpaca-openapi/trading-api.json``): ``direction`` orders by
submission time, ``asc`` or ``desc`` (the default); ``after`` and ``until`` are exclusive;
``limit`` is at most 500. The desk pages past 500 orders with ``direction=desc`` and ``until``
(``brokers/alpaca_pages.py``), so the sandbox must honour them exactly; before, an unknown
``direction`` (a typo) was silently taken as ascending: a client paging "newest
first" would have walked the oldest orders instead and never been told.
"""

from __future__ import annotations

import requests
from alpaca.common.enums import Sort
from alpaca.trading.enums import OrderSide, QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest

from tests.integration.sandbox_requests import limit


def _ids(trading, **query) -> list[str]:
    """The ids of the open orders a listing answers, in its order."""
    return [str(o.id) for o in trading.get_orders(GetOrdersRequest(status="open", **query))]


def test_orders_page_by_submission_time_with_exclusive_bounds(trading):
    placed = [trading.submit_order(limit("QQQ", 1, OrderSide.BUY, 1.0)) for _ in range(5)]
    ids = [str(o.id) for o in placed]
    at = {str(o.id): o.submitted_at for o in placed}
    newest = _ids(trading, limit=2, direction=Sort.DESC)
    assert newest == [ids[4], ids[3]]
    assert _ids(trading, limit=2) == newest  # desc is the default
    older = _ids(trading, limit=2, direction=Sort.DESC, until=at[ids[3]])  # exclusive
    assert older == [ids[2], ids[1]]
    assert _ids(trading, limit=2, direction=Sort.ASC, after=at[ids[0]]) == [ids[1], ids[2]]
    everything = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500))
    assert len(everything) == 5


def test_an_unknown_direction_or_a_limit_over_500_is_422(sandbox):
    headers = {"APCA-API-KEY-ID": sandbox.key_id, "APCA-API-SECRET-KEY": sandbox.secret}
    for query in ("direction=sideways", "direction=newest", "limit=501", "limit=0"):
        answer = requests.get(f"{sandbox.base_url}/v2/orders?{query}", headers=headers, timeout=5)
        assert answer.status_code == 422, query
    fine = requests.get(
        f"{sandbox.base_url}/v2/orders?direction=asc&limit=500", headers=headers, timeout=5
    )
    assert fine.status_code == 200 and fine.json() == []
