"""An order whose first send's answer was lost and whose second send the broker refused stays
in doubt: the first may still arrive.

Alpaca's send is at most once by client id (``brokers.alpaca_submit``): a lost answer is looked
up, and only if the order is absent is it sent again. Before, a refusal of that second send
(a 403: the account's trading suspended for the moment, "insufficient qty available") made the
order ``rejected``, final, though the first send's fate was still open (a slow gateway may yet
deliver it). A sell recorded rejected had its protective stop placed again beside it, and the
desk forgot it while it could still fill. Now the order is followed as in doubt (``unknown``)
and looked up until the broker has it or its settlement window has passed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.core.orders import OrderRequest, OrderStatus, Side
from tui_trader.sandbox.testing import SandboxHandle


def test_a_refused_second_send_leaves_the_order_in_doubt(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    session = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",))
    client = session.broker.client  # type: ignore[attr-defined]
    real = client.submit_order
    sends: list[str] = []

    def submit_order(order_data: Any) -> Any:
        """The first send's answer is lost (it never reached the sandbox: a slow gateway holds
        it); the second is refused, the account's trading suspended for that moment."""
        sends.append(order_data.client_order_id)
        if len(sends) == 1:
            raise requests.ConnectionError("connection reset by peer")
        sandbox.sandbox.engine.suspend_trade = True
        try:
            return real(order_data=order_data)
        finally:
            sandbox.sandbox.engine.suspend_trade = False

    client.submit_order = submit_order
    try:
        request = OrderRequest("SPY", Side.BUY, 1.0, session._order_id("SPY", "r"))
        ack = session.broker.submit(request)
        assert len(sends) == 2, "sent once more after the look-up found nothing"
        assert ack.status is OrderStatus.UNKNOWN, ack
    finally:
        client.submit_order = real
        session.finish("stopped")
        session.broker.close()
