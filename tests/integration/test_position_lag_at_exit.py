"""A positions read lagging the desk's own sell at the exit step alone: the stop is never sized
past what the sell leaves.

Alpaca's positions endpoint can lag the fills of an order still working, and not every read
lags alike: the ``crash30`` campaign (``position_lag=0.5``) saw a cycle's check of the positions
read them as they were (the desk's fills agreed: no hold), then the exit step's own read, a
moment later, lag both of the desk's partly filled sells (16 SPY shown, 9 held, 9 still to
sell). The stop was sized from that read: 16 less the 9 still to sell, 7 shares where none were
free. It reached the broker once both sells had filled, on an empty position: a sell stop there
is a short sale, it triggered, and the account was short 7 SPY until the desk's buy stop for
the short filled 2 s later. The sandbox rehearses a read that lags at the exit step alone by
switching ``position_lag`` on right after the cycle's check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import settle
from tests.integration.broker_protection import buy_and_protect, open_stops
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox
from tui_trader.store.models import LiveOrder

REST_WAITS = 3
"""Bars the rest of the desk's sell waits, partly filled (``partial_bars``)."""


def _held(sb: SandboxHandle) -> float:
    """SPY the sandbox account really holds (its books, not a lagging read)."""
    return float(sb.admin.state()["positions"].get("SPY", 0.0))


def _lag_after_check(session: Any, sb: SandboxHandle) -> None:
    """Make the positions read lag from the cycle's check on: the check itself (and every read
    before it) sees them as they are, the exit step's read does not."""
    check = session._check_outside

    def check_then_lag(positions: Any) -> Any:
        events = check(positions)
        sb.admin.set_faults(position_lag=1)
        return events

    session._check_outside = check_then_lag


def test_a_stop_is_not_sized_from_a_read_lagging_only_at_the_exit_step(tmp_path: Path) -> None:
    with running_sandbox() as sb:
        session = buy_and_protect(sb, tmp_path / "stop.db", protected=open_stops, shock=1.0)
        try:
            held = _held(sb)
            sb.admin.set_faults(partial_rate=1, partial_bars=REST_WAITS)
            session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held / 2))
            assert session.apply_kill_requests() is not None
            settle(sb, session)
            _lag_after_check(session, sb)
            refused: list[str] = []
            for _ in range(REST_WAITS - 1):  # the rest of the sell still works
                sb.admin.set_faults(position_lag=0)  # the cycle's first reads: as they are
                sb.admin.step()
                report = session.run_iteration()
                refused += [e.action_taken for e in report.risk_events if "qty" in e.action_taken]
                settle(sb, session)
                assert 0 < _held(sb) < held, "the sell is partly filled, its rest works"
                assert session.broker.positions()["SPY"].qty == held, "the exit step's read lags"
                stops = [float(o.qty) for o in open_stops(sb)]
                assert sum(stops) <= held / 2, f"stops {stops}: the sell leaves {held / 2}"
            assert refused == [], refused
            rejected = LiveOrder.select().where(
                LiveOrder.client_order_id.contains("-ps") & (LiveOrder.status == "rejected")
            )
            assert [r.error for r in rejected] == []
            assert [float(o.qty) for o in open_stops(sb)] == [held / 2]
        finally:
            session.broker.close()
