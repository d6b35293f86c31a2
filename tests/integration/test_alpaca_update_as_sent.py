"""A trade update for one of the desk's orders in another symbol, or on the other side.

Alpaca's word on an order the desk sent was taken whole: a fill event for a QQQ buy that named
TSLA was written to the audit trail as a TSLA fill (QQQ then looked changed outside the session,
and TSLA, never traded, held 24 in the books); one that said ``sell`` was written as a sale.
Now the order keeps the symbol and side it was sent with, and the update is a contradiction: the
session halts (``broker_contradiction``) and says what the broker claimed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.test_alpaca_trading import RALLY
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveFill, RiskEventRow, RiskStateRow


def spoil_first_fill_message(session: Any, change: dict[str, str]) -> list[str]:
    """Change the order in the first fill message of the desk's stream (as received over the
    sandbox's websocket, before alpaca-py reads it); return its client id."""
    stream = session.broker.feed.stream
    dispatch = stream._dispatch
    spoiled: list[str] = []

    async def spoil(msg: dict[str, Any]) -> None:
        data = msg.get("data") or {}
        if msg.get("stream") == "trade_updates" and data.get("event") == "fill" and not spoiled:
            data["order"].update(change)
            spoiled.append(data["order"]["client_order_id"])
        await dispatch(msg)

    stream._dispatch = spoil
    return spoiled


@pytest.mark.parametrize(
    ("change", "claim"),
    [({"symbol": "TSLA"}, "as a buy of TSLA"), ({"side": "sell"}, "as a sell of ")],
)
def test_an_update_in_another_symbol_or_side_halts_and_is_not_recorded(
    sandbox: SandboxHandle, tmp_path: Path, change: dict[str, str], claim: str
):
    """The rally's first fill names another symbol (or side): its fill is recorded as the order
    was sent, and the session halts naming what the broker said."""
    session = alpaca_session(sandbox, tmp_path / "a.db")
    spoiled = spoil_first_fill_message(session, change)
    try:
        for i in range(10):
            sandbox.admin.step(shock=RALLY if i < 6 else None)
            session.run_iteration()
            if RiskStateRow.get().state == "halted":
                break
        assert spoiled, "the rally filled nothing"
    finally:
        session.broker.close()
    fills = [(f.symbol, f.side) for f in LiveFill.select()]
    assert fills and all(sym != "TSLA" and side == "buy" for sym, side in fills), fills
    halts = [e.detail for e in RiskEventRow.select() if e.event_type == "broker_contradiction"]
    assert halts and f"the broker reports order {spoiled[0]} {claim}" in halts[0], halts
    assert RiskStateRow.get().state == "halted"
