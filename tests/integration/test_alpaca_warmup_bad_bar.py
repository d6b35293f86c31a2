"""A desk restarted over held shares, one bar of its Alpaca warm-up history spoiled: it starts.

Before, one bar no market makes among the ``--period`` history (here a close of NaN in SPY's,
over real HTTP from the sandbox) refused the whole start: the desk that would protect the
shares held never ran. Now the bar is dropped, named in one start note, and the desk starts,
its stop under the position.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.test_stop_taken_over import RALLY, RULE, _held, _working_stops
from tui_trader.learning.setup import LearningSettings
from tui_trader.market.alpaca import AlpacaMarketData
from tui_trader.sandbox.testing import SandboxHandle


def test_a_nan_close_in_the_warm_up_is_dropped_and_the_desk_protects_what_is_held(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.db"
    one = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    try:
        for _ in range(6):  # the rally: desk one (no exits) buys
            sandbox.admin.step(shock=RALLY)
            one.run_iteration()
            if _held(trading).get("SPY", 0.0) > 0:
                break
        settle(sandbox, one)
        assert _held(trading).get("SPY", 0.0) > 0
    finally:
        one.finish("stopped")
        one.broker.close()
    assert "SPY" not in _working_stops(trading)
    fetch = AlpacaMarketData._fetch
    spoiled: list[Any] = []

    def spoils_the_warm_up(
        self: AlpacaMarketData, start: Any, what: str, symbols: Any = None
    ) -> Any:
        bars = fetch(self, start, what, symbols)
        if what == "loading warm-up history" and not spoiled:
            series = bars["SPY"]
            middle = len(series) // 2
            series[middle] = dataclasses.replace(series[middle], close=float("nan"))
            spoiled.append(series[middle].timestamp)
        return bars

    monkeypatch.setattr(AlpacaMarketData, "_fetch", spoils_the_warm_up)
    # on main: MarketDataError (the history of SPY ... NaN ... close: not traded on)
    two = alpaca_session(sandbox, db, learning=LearningSettings("momentum"), stop_loss=RULE)
    try:
        assert spoiled
        (note,) = [n for n in two.startup_notes if "warm-up history" in n]
        assert f"SPY at {spoiled[0]:%Y-%m-%d %H:%M} UTC with a NaN" in note
        assert two.started
        sandbox.admin.step()
        two.run_iteration()
        stops = _working_stops(trading)
        assert "SPY" in stops and stops["SPY"][1] == _held(trading)["SPY"]
    finally:
        two.finish("stopped")
        two.broker.close()
