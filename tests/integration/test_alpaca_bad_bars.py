"""Alpaca's market data answering a bar no market makes: the desk does not trade on it.

Replay files, Yahoo's downloads and the cache are held to ``market.validate``'s rules; Alpaca's
bars (the sandbox's, or Alpaca's own through a proxy) were taken as they came. A close of -5
with shares held sold them all at the next cycle; a close of NaN crashed the cycle
(``cannot convert float NaN to integer``); a high under the low, or a close above the high,
became the last price. Now such a bar fails the cycle that fetched it, saying which bar, as the
market data's silence does (cycle skipped, no new orders), once: the next bar trades.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.test_alpaca_trading import RALLY
from tui_trader.market import MarketDataError
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder

BAD = {
    "a close of -5": {"c": -5.0, "l": -5.0},
    "a close of NaN": {"c": "NaN"},
    "a high under the low": {"h": 1.0},
}


def spoil_next_answer(session: Any, change: dict[str, Any]) -> list[str]:
    """Change SPY's newest bar in the next answer of the data API that has one; return the
    bars' times so spoiled (the answer came over HTTP from the sandbox)."""
    http = session.market.client._session
    send = http.request
    spoiled: list[str] = []

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = send(method, url, *args, **kwargs)
        bars = response.json().get("bars") if "/bars" in url else None
        if not spoiled and bars and bars.get("SPY"):
            bars["SPY"][-1].update(change)
            spoiled.append(bars["SPY"][-1]["t"])
            response._content = json.dumps({**response.json(), "bars": bars}).encode()
        return response

    http.request = request
    return spoiled


@pytest.mark.parametrize("bad", sorted(BAD))
def test_a_bar_no_market_makes_is_not_traded_on(sandbox: SandboxHandle, tmp_path: Path, bad: str):
    """SPY held; its next bar spoiled: that cycle fails naming the bar, nothing is sold, the
    last price stays a price; the next bar's cycle runs."""
    session = alpaca_session(sandbox, tmp_path / "a.db")
    try:
        for _ in range(8):
            sandbox.admin.step(shock=RALLY)
            session.run_iteration()
            if "SPY" in session.broker.positions():
                break
        assert "SPY" in session.broker.positions(), "the rally bought no SPY"
        sales = LiveOrder.select().where(LiveOrder.side == "sell").count()
        before = session.last_prices["SPY"]
        spoiled = spoil_next_answer(session, BAD[bad])
        sandbox.admin.step()
        with pytest.raises(MarketDataError, match=r"a new bar of SPY at .*: not traded on"):
            session.run_iteration()  # -5: sold SPY; NaN: ValueError, on main
        assert spoiled
        assert session.last_prices["SPY"] == before
        assert LiveOrder.select().where(LiveOrder.side == "sell").count() == sales
        sandbox.admin.step()
        assert session.run_iteration() is not None  # the next bar: a cycle as any
        assert session.last_prices["SPY"] > 1
    finally:
        session.broker.close()
