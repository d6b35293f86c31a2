"""A halt's flatten beside another desk's sale that filled in part and still works (its cancel
pending), the positions read lagging that sale's fills: the close never sells them again.

Desk one sells its SPY; half fills, the rest works on. Desk two, on the same store and account,
halts with flatten: its halt cancels desk one's sale, and that cancel stays pending (Alpaca
cancels asynchronously, and the order may still fill meanwhile). Desk two's positions read
leaves out the fills of orders still working (Alpaca's positions lag them); its listing shows
desk one's sale with what it has left. Before, the close was sized as held less that rest: the
half already sold was sold again once the sale's rest filled (the ``exits31`` re-run of the
``crash30b`` campaign's seed 3009: short 3 SPY, 17 s, a flatten of 7 beside a sale of 15 whose
first 7 had filled). Now a working sale's filled shares are left out of the close too; what
stays open is closed at the flatten's next pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.ended_stop import RALLY
from tui_trader.brokers import alpaca_reads
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until

MOMENTUM = LearningSettings("momentum")


def _held(sandbox: SandboxHandle) -> float:
    """SPY the sandbox account holds (its books)."""
    return float(sandbox.admin.state()["positions"].get("SPY", 0.0))


@contextmanager
def _half_sold(
    sandbox: SandboxHandle, db: Path, wins: bool
) -> Iterator[tuple[TradingSession, TradingSession]]:
    """Desk one's sale of its SPY, half filled and working (a cancel of it stays pending,
    then the sale fills, ``wins``, or is cancelled), and desk two on its store and account;
    desks one and two."""
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    two = None
    try:
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            one.run_iteration()
        settle(sandbox, one)
        held = _held(sandbox)
        assert held >= 2
        sandbox.admin.set_faults(partial_rate=1.0, partial_bars=5)  # half now, the rest later
        one.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held))
        assert one.apply_kill_requests() is not None
        fill_rate = 1.0 if wins else 0.0
        sandbox.admin.set_faults(reset=True, slow_cancel_rate=1.0, slow_cancel_fill_rate=fill_rate)
        assert 0 < _held(sandbox) < held, "desk one's sale filled in part, still works"
        two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
        two.sync_orders()
        wait_until(lambda: two.broker.trading_ready() is None, what="desk two's stream")
        yield one, two
    finally:
        for desk in (one, two):
            if desk is not None:
                desk.finish("stopped")
                desk.broker.close()


def test_a_flatten_beside_a_partly_filled_sale_never_sells_its_filled_shares_again(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    with _half_sold(sandbox, tmp_path / "desk.db", wins=True) as (_one, two):
        sandbox.admin.set_faults(position_lag=1.0)  # every read leaves out working fills
        beside = two._closed_beside
        filled: list[bool] = []

        def sale_fills_after_the_read(symbol: str, *args: Any) -> float:
            """The sale's cancel is pending; at the next bar the sale wins: its rest fills."""
            seen = beside(symbol, *args)
            if not filled:
                filled.append(True)
                sandbox.admin.step()
                wait_until(lambda: _held(sandbox) == 0, what="the sale's rest")
            return seen

        two._closed_beside = sale_fills_after_the_read  # type: ignore[method-assign]
        two.request_kill(reason="test", flatten=True)
        report = two.apply_kill_requests()
        assert report is not None and filled, "the flatten read the account"
        words = " ".join(e.action_taken for e in report.risk_events)
        assert "NOT closed" in words, words
        sandbox.admin.set_faults(reset=True)
        sandbox.admin.step()
        wait_until(lambda: sandbox.admin.state()["orders"]["open"] == 0, what="every fill")
        assert _held(sandbox) == 0, "the close sold the shares the sale had sold"


def test_a_flatten_beside_a_partly_filled_sale_cancelled_still_gets_flat(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The positions read holds the sale's fills and the sale's cancel wins: the first pass
    leaves the rest open (said), the next pass, the sale ended, closes it: one close, flat."""
    with _half_sold(sandbox, tmp_path / "desk.db", wins=False) as (one, two):
        left = _held(sandbox)
        two.request_kill(reason="test", flatten=True)
        first = two.apply_kill_requests()
        assert first is not None
        assert "NOT closed" in " ".join(e.action_taken for e in first.risk_events)
        sandbox.admin.step()  # the pending cancel ends the sale
        wait_until(lambda: sandbox.admin.state()["orders"]["open"] == 0, what="the cancel")
        assert _held(sandbox) == left
        monkeypatch.setattr(alpaca_reads, "OPEN_ORDERS_TTL", 0.0)  # the listing afresh
        one.sync_orders()  # desk one records its sale's end
        two.sync_orders()
        again = two.apply_kill_requests()
        assert again is not None
        closes = [o for o in again.orders if o.symbol == "SPY" and o.side is Side.SELL]
        assert [o.qty for o in closes] == [left], again.orders
        sandbox.admin.step()
        wait_until(lambda: _held(sandbox) == 0, what="the close's fill")
