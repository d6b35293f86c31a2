"""A desk keeping exits beside another desk of the account that fills in the same symbol every
cycle: its stop goes out at its first cycle, never larger than the shares held.

Desk one (``--stop-loss``) holds SPY, its stop gone (cancelled at the broker). Right before an
exit changes, a desk reads the store for other desks' sales the broker's listing lacks
(``engine.sales_beside``); a fill another desk recorded in the symbol after the positions were
read used to make the exit wait for the next look, whatever its side. A busy desk whose fills
land while desk one reads the positions (both desks act on the same bar) kept desk one's
position without a stop for as long as it traded, and nothing said so: a buy (which can only
leave the stop too small) held it back as much as a sale. Now such a sale's shares are left out
of the stop, and a buy beside a long changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.ended_stop import spy_held, working_stops
from tests.integration.test_stop_on_emptied_position import MOMENTUM, _held_without_its_stop
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.limits import RiskLimits
from tui_trader.sandbox.testing import SandboxHandle, wait_until

CYCLES = 4
"""Cycles of desk one, each with a fill of desk two's while desk one reads the positions."""


def _busy_beside(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, side: Side
) -> tuple[int, float, float]:
    """Desk one's cycles while desk two fills 1 share of SPY (``side``) in each of its reads of
    the positions before an exit, until a stop works: the cycles it took, the stop's shares and
    the shares held then."""
    db = tmp_path / "desk.db"
    one = _held_without_its_stop(sandbox, trading, db)
    room = RiskLimits(max_position_pct=50.0)  # (room for its buys)
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, limits=room)
    two.sync_orders()
    wait_until(lambda: two.broker.trading_ready() is None, what="desk two's stream")
    read = one.broker.positions

    def a_fill_beside_each_read() -> Any:
        """The positions as read; then desk two's fill of 1 share, recorded."""
        found = read()
        if sys._getframe(1).f_code.co_name == "_protect_each":
            two.request_manual_order(ManualOrder("SPY", side, qty=1))
            report = two.apply_kill_requests()
            assert report is not None and [o for o in report.orders if o.side is side]
            settle(sandbox, two)
        return found

    one.broker.positions = a_fill_beside_each_read  # type: ignore[method-assign]
    said: list[str] = []
    try:
        cycles = 0
        while cycles < CYCLES and not working_stops(trading):
            cycles += 1
            sandbox.admin.step()
            result = one.run_iteration()
            assert result is not None
            said += [f"{e.action_taken} {e.detail}" for e in result.risk_events]
            settle(sandbox, one)
        stops = working_stops(trading)
        assert stops, f"no stop after {CYCLES} cycles beside a desk filling each cycle: {said}"
        return cycles, sum(qty for qty, _price in stops), spy_held(trading)
    finally:
        for desk in (one, two):
            desk.finish("stopped")
            desk.broker.close()


def test_a_busy_desks_buys_do_not_hold_the_stop_back(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two buys 1 share of SPY each cycle: desk one's stop goes out at its first cycle,
    sized from the positions it read (a share short of the account's, until the next look)."""
    cycles, stop, held = _busy_beside(sandbox, trading, tmp_path, Side.BUY)
    assert cycles == 1
    assert stop == held - 1


def test_a_busy_desks_sales_do_not_hold_the_stop_back(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two sells 1 share of SPY each cycle, after desk one read the positions: desk one's
    stop goes out at its first cycle for the shares left, not one more (the share sold is left
    out of it: a stop for it would be refused, or sell shares the account no longer holds)."""
    cycles, stop, held = _busy_beside(sandbox, trading, tmp_path, Side.SELL)
    assert cycles == 1
    assert stop == held > 0
