"""Alpaca's market data answering a bar stamped in the future (year 2199).

hostile29 held each new Alpaca bar to ``market.validate``'s rules, whose times run to 2200; a
bar passing them counts as seen, and only bars later than the last one seen are new. A bar
stamped 2199 passed, became SPY's last seen, and every real bar after it was older: SPY had no
new bar again, without a word, and the desk went on with the old price (its stop, its sizing,
its daily loss all measured on it). Now such a bar fails the cycle that fetched it, once,
naming it; it never counts as seen, and the bars after it trade, even while every answer holds it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.test_alpaca_trading import RALLY
from tui_trader.market import MarketDataError
from tui_trader.sandbox.testing import SandboxHandle


def add_bar_in_2199(session: Any) -> None:
    """Every answer of the data API holding SPY bars holds one more, stamped 2199, after its
    newest (the answer came over HTTP from the sandbox)."""
    http = session.market.client._session
    send = http.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = send(method, url, *args, **kwargs)
        bars = response.json().get("bars") if "/bars" in url else None
        if bars and bars.get("SPY"):
            bars["SPY"].append({**bars["SPY"][-1], "t": "2199-01-01T14:30:00Z"})
            response._content = json.dumps({**response.json(), "bars": bars}).encode()
        return response

    http.request = request


def test_a_bar_stamped_in_2199_is_refused_once_and_later_bars_trade(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    session = alpaca_session(sandbox, tmp_path / "f.db")
    try:
        sandbox.admin.step(shock=RALLY)
        session.run_iteration()
        add_bar_in_2199(session)
        failures = []
        prices = []
        for _ in range(4):
            sandbox.admin.step(shock={"SPY": 3.0})
            try:
                session.run_iteration()
            except MarketDataError as exc:
                failures.append(str(exc))
            prices.append(session.last_prices["SPY"])
        # on main: no failure, and SPY's price stayed where it was before the 2199 bar
        assert len(failures) == 1, failures
        assert "a new bar of SPY at 2199-01-01 14:30 UTC stamped more than" in failures[0]
        assert prices[-1] == float(sandbox.admin.state()["prices"]["SPY"]), prices
        assert prices[-1] > prices[-2] > prices[-3]  # each bar after it taken
    finally:
        session.broker.close()
