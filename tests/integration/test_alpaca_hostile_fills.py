"""A trade update whose order holds a fill no broker makes: read from REST instead, never kept.

alpaca-py keeps an order's quantities and prices as the strings Alpaca sent. Before, a fill
event at a price of ``NaN`` (or a filled quantity of ``NaN``) crashed the audit trail's write
(``NOT NULL constraint failed: live_fills.price``) and the session with it; one at a price of
0 or 1e300 was recorded as the price paid: a buy of 24 QQQ for nothing in the audit trail.
Now the update is unreadable: the cycle that meets it is skipped and says which number, the
order is read again from REST (as after a stream reconnect), and its fill is recorded at the
price the broker's books hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.test_alpaca_trading import RALLY, assert_books_agree
from tui_trader.brokers import BrokerError
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveFill


def spoil_first_fill(session: Any, field: str, value: str) -> list[str]:
    """Set ``field`` of the order in the first fill event the desk's stream receives; return
    the client id so spoiled (the event came over the sandbox's websocket)."""
    stream = session.broker.feed.stream
    handler = stream._trade_updates_handler
    spoiled: list[str] = []

    async def on_update(update: Any) -> None:
        event = str(getattr(update.event, "value", update.event))
        if event in ("fill", "partial_fill") and not spoiled:
            setattr(update.order, field, value)
            spoiled.append(str(update.order.client_order_id))
        await handler(update)

    stream._trade_updates_handler = on_update
    return spoiled


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("filled_avg_price", "NaN"),
        ("filled_avg_price", "0"),
        ("filled_qty", "NaN"),
        ("filled_qty", "0"),  # review29b: "filled" with 0 shares, the 24 bought never recorded
    ],
)
def test_an_unreadable_fill_is_read_again_not_recorded(
    sandbox: SandboxHandle, tmp_path: Path, field: str, value: str
):
    """The rally's first fill arrives spoiled: one cycle fails naming it, no fill is written
    from it, the next cycles record the fill as the broker has it; the books agree."""
    session = alpaca_session(sandbox, tmp_path / "a.db")
    spoiled = spoil_first_fill(session, field, value)
    failures: list[str] = []
    try:
        for i in range(10):
            sandbox.admin.step(shock=RALLY if i < 6 else None)
            try:
                session.run_iteration()  # NaN: IntegrityError out of the cycle, on main
            except BrokerError as exc:
                failures.append(str(exc))
        assert spoiled, "the rally filled nothing"
        settle(sandbox, session)
    finally:
        session.broker.close()
    assert len(failures) == 1, failures
    assert failures[0].startswith(f"a trade update: order {spoiled[0]}")
    prices = [f.price for f in LiveFill.select()]
    assert prices and all(100 < p < 1_000 for p in prices), prices  # '0': a buy at 0.0
    assert_books_agree(sandbox)
