"""A 429 without rate headers answering an order: the session waits, it does not halt.

Alpaca's (or a gateway's) 429 without ``X-RateLimit-*`` headers makes the request budget pause
for ``DEFAULT_PAUSE_S``; the broker's look-up of the order by client id is then refused by the
budget (``Throttled``: nothing sent). The look-up wrapped that refusal as a failed look-up, so
the order's fate counted as unknown after a broker error and the session halted until a person
reset it. The order is now unsettled (looked up again later, no new orders for its symbol) and
the cycle's later orders are recorded as not sent; trading is not halted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.test_alpaca_trading import RALLY
from tui_trader.engine.session import BROKER_ERROR
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox
from tui_trader.store.models import LiveOrder, RiskEventRow


@pytest.fixture
def headerless() -> Iterator[SandboxHandle]:
    """A sandbox without a request-rate limit: its 429s carry no ``X-RateLimit-*`` headers."""
    with running_sandbox(faults="rate_limit=0") as handle:
        yield handle


def test_a_429_on_an_order_leaves_it_unsettled_without_a_halt(
    headerless: SandboxHandle, tmp_path: Path
):
    """The rally's first order meets a bare 429: no halt, no broker_error event, the order is
    unsettled, the cycle's next order is recorded as not sent, and nothing reached the broker."""
    sb = headerless
    session = alpaca_session(sb, tmp_path / "a.db")
    http = session.broker.client._session
    send = http.request
    fired: list[str] = []

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if method == "POST" and url.endswith("/v2/orders") and not fired:
            fired.append(url)
            sb.admin.set_faults(burst_429=1)  # this order's answer is the 429
        return send(method, url, *args, **kwargs)

    http.request = request
    try:
        for i in range(8):
            sb.admin.step(shock=RALLY if i < 6 else None)
            report = session.run_iteration()
            if fired:
                break
        assert fired, "the rally sent no order"
    finally:
        session.broker.close()
    assert not session.risk.state.halted, session.risk.state.halt_reason
    assert not RiskEventRow.select().where(RiskEventRow.event_type == BROKER_ERROR).exists()
    statuses = [o.status for o in LiveOrder.select().order_by(LiveOrder.id)]
    assert statuses[0] == "unknown"  # looked up again later
    assert all(s == "rejected" for s in statuses[1:])  # refused by the budget: never sent
    assert any("until it is settled" in note for note in report.notes)
    assert sb.admin.state()["orders"]["total"] == 0
