"""A halt's cancel on an account whose open orders hold one with a number no order has.

hostile29 made an order whose quantity or price cannot be read (``NaN``, below zero, a fill at
0) an unreadable answer. A halt that keeps some orders (the kill switch without flattening:
other desks' exits, the user's own orders) lists the account's open orders and judges each
before cancelling: one such order in the listing, even one placed by hand outside the desk,
failed the whole listing, so the halt cancelled nothing, said "the broker did not answer", and
tried again every wake with the same result: the desk's working buy went on working after the
kill switch. The halt judges an order by what it is (its client id, type, symbol and side),
which its numbers do not change: the desk's order is cancelled, the user's kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, working_spy_limit
from tests.integration.test_alpaca_trading import client_for
from tui_trader.sandbox.testing import SandboxHandle


def spoil_listing(session: Any, client_order_id: str, field: str, value: str) -> None:
    """Every listing of orders the desk's alpaca-py session reads holds ``value`` in
    ``field`` of the order ``client_order_id`` (the bytes came over HTTP, one field changed)."""
    http = session.broker.client._session
    send = http.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = send(method, url, *args, **kwargs)
        if method == "GET" and url.split("?")[0].endswith("/v2/orders"):
            body = response.json()
            for order in body:
                if order.get("client_order_id") == client_order_id:
                    order[field] = value
            response._content = json.dumps(body).encode()
        return response

    http.request = request


def test_a_kill_cancels_the_desks_order_beside_a_hand_order_it_cannot_read(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import LimitOrderRequest

    session = alpaca_session(sandbox, tmp_path / "u.db")
    try:
        working_spy_limit(session, sandbox, qty=7)
        client_for(sandbox).submit_order(  # placed by hand at the broker: the halt keeps it
            LimitOrderRequest(
                symbol="SPY",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=1.0,
                client_order_id="by-hand-1",
            )
        )
        spoil_listing(session, "by-hand-1", "limit_price", "NaN")
        session.request_kill(reason="test")
        killed = session.apply_kill_requests()
        [halt] = [e for e in killed.risk_events if e.halts]
        # on main: "the broker did not answer (open orders may still be working): ...
        # unreadable answer: order by-hand-1 (SPY)'s limit price is 'NaN'", every wake
        assert "did not answer" not in halt.action_taken, halt.action_taken
        assert sandbox.admin.state()["orders"]["open"] == 1, "the hand order alone works on"
        [left] = [o for o in client_for(sandbox).get_orders() if o.status.value != "canceled"]
        assert left.client_order_id == "by-hand-1"
        assert "may still be working" not in killed.halt
    finally:
        session.broker.close()
