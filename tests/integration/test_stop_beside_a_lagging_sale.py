"""A stop beside another desk's partly filled sale, the positions read lagging that sale's fills:
never sized past the shares that are free.

Desk one (``--stop-loss``) holds SPY, its stop gone (cancelled at the broker). Desk two, on the
same account and store, sells part of SPY by hand; the sale fills in part at once, the rest bars
later, and Alpaca's positions read lags the part filled (the sandbox's ``position_lag``). Desk
one sized its stop from that read, less what the sale still sells: the part already sold was
counted as held, the stop asked for more shares than were free and was refused ("insufficient
qty available") every cycle of the lag (the ``crash30`` campaign: four refusals in 8 s), and a
stop so sized that reaches the broker once the sale has filled is a sell stop on shares the
account no longer holds (a short sale at Alpaca; ``crash29`` saw one stand 0.46 s). The part of
another live desk's sale filled while it still works is now left out of the stop too: the stop
may be smaller by it while the sale works (a read that does not lag held those shares), and is
sized in full once the sale has ended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import settle
from tests.integration.ended_stop import working_stops
from tests.integration.test_stop_on_emptied_position import (
    _desk_without_exits,
    _held_without_its_stop,
)
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.sandbox.testing import SandboxHandle

REST_WAITS = 4
"""Bars the rest of desk two's sale waits, partly filled (``partial_bars``)."""


def _held(sandbox: SandboxHandle) -> float:
    """SPY the sandbox account really holds (its books, not a lagging read)."""
    return float(sandbox.admin.state()["positions"].get("SPY", 0.0))


def test_a_stop_beside_a_partly_filled_sale_fits_the_free_shares(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    one = _held_without_its_stop(sandbox, trading, db)
    two = _desk_without_exits(sandbox, db)
    try:
        held = _held(sandbox)
        sale = float(int(held // 2))
        sandbox.admin.set_faults(partial_rate=1, partial_bars=REST_WAITS, position_lag=1)
        two.request_manual_order(ManualOrder("SPY", Side.SELL, qty=sale))
        assert two.apply_kill_requests() is not None
        settle(sandbox, two)
        sold = held - _held(sandbox)
        assert 0 < sold < sale, "the sale filled in part, its rest works"
        refused: list[str] = []
        for _ in range(REST_WAITS - 2):  # the rest of the sale still works
            sandbox.admin.step()
            report = one.run_iteration()
            refused += [e.action_taken for e in report.risk_events if "qty" in e.action_taken]
            settle(sandbox, one)
            free = _held(sandbox) - (sale - sold)
            assert _held(sandbox) == held - sold, "the sale's rest still works"
            stops = [qty for qty, _price in working_stops(trading)]
            assert sum(stops) <= free, f"stops {stops} where {free:g} shares are free"
        assert refused == [], refused
        assert working_stops(trading), "no stop beside the sale"
        sandbox.admin.set_faults(partial_rate=0, position_lag=0)
        for _ in range(REST_WAITS + 3):  # the sale's rest fills: the stop covers what is held
            stops = [qty for qty, _price in working_stops(trading)]
            if _held(sandbox) == held - sale and stops == [held - sale]:
                break
            sandbox.admin.step()
            settle(sandbox, two)  # (desk two records its sale's rest)
            one.run_iteration()
            settle(sandbox, one)
        assert _held(sandbox) == held - sale
        assert [qty for qty, _price in working_stops(trading)] == [held - sale]
    finally:
        for desk in (one, two):
            desk.finish("stopped")
            desk.broker.close()
