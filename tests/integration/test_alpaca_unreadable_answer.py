"""An order Alpaca accepted whose answer the client cannot read: the desk finds it by client id.

A 200 answer whose body does not fit alpaca-py's model (a status it does not know, a field
missing: a new Alpaca version, a proxy rewriting the body) raised pydantic's ValidationError out
of the cycle. The order was live at the broker while its row said ``pending_new`` with no broker
id; the runner failed the session with a traceback and the order's fill never reached the
audit trail. The answer is now in doubt like a lost one: the order is looked up by client id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.test_alpaca_trading import RALLY, assert_books_agree
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder


def unreadable_order_answers(session: Any) -> list[str]:
    """Rewrite every accepted order's answer with a status alpaca-py does not know; return the
    client ids of the orders so answered (they did arrive at the sandbox)."""
    http = session.broker.client._session
    send = http.request
    mangled: list[str] = []

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = send(method, url, *args, **kwargs)
        if method == "POST" and url.endswith("/v2/orders") and response.status_code == 200:
            body = response.json()
            body["status"] = "accepted_for_review"
            response._content = json.dumps(body).encode()
            mangled.append(body["client_order_id"])
        return response

    http.request = request
    return mangled


def test_an_unreadable_order_answer_is_looked_up_not_a_crash(
    sandbox: SandboxHandle, tmp_path: Path
):
    """The rally's buys are accepted but their answers cannot be read: the cycle carries on,
    each order is found by client id, and its row and fill agree with the broker's books."""
    session = alpaca_session(sandbox, tmp_path / "a.db")
    mangled = unreadable_order_answers(session)
    try:
        for i in range(8):
            sandbox.admin.step(shock=RALLY if i < 6 else None)
            session.run_iteration()  # raised ValidationError on main
            if mangled:
                break
        assert mangled, "the rally sent no order"
        settle(sandbox, session)
    finally:
        session.broker.close()
    rows = {o.client_order_id: o for o in LiveOrder.select()}
    for client_id in mangled:
        assert rows[client_id].broker_order_id, f"{client_id} has no broker id"
        assert rows[client_id].status == "filled"
    assert_books_agree(sandbox)
