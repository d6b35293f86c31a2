"""The desk's own sale filling between the exit step's two reads (the positions, then the open
orders): no exit is sized for shares that sale has already sold.

Seen in the ``campaign32`` campaign (run pg6003: stream faults, partial fills): a desk with
exits sold its 20 SPY; the sale filled in two parts. The exit step read the positions after
the first part (10 held), then the open orders: a fresh listing (read every half minute, or
while the stream is down) no longer showed the sale, whose second part had filled meanwhile,
and the look-up of the unlisted order told the desk it had ended. Counting no sale working,
the step placed an exit for the 10 the read showed, on a position that was empty by then: Alpaca
takes a sell there as a short sale, and the OCO pair stood ~1 s on the empty position until the
next cycle cancelled it (had its stop triggered, the account would have been short 10). The
open orders are read before the positions now: a fill between the two can only make the
position smaller than the sale still counted (an exit too small for a cycle, never one past the
shares held).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import settle
from tests.integration.broker_protection import buy_and_protect, open_sells, open_stops
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox, wait_until

REST_WAITS = 3
"""Bars the rest of the desk's sale waits, partly filled (``partial_bars``)."""


def _held(sb: SandboxHandle) -> float:
    """SPY the sandbox account really holds."""
    return float(sb.admin.state()["positions"].get("SPY", 0.0))


def _streaming(broker: Any) -> bool:
    """Whether the broker takes its own orders' states from the stream (up and synced)."""
    feed = broker.feed
    return bool(feed.connected and feed.connects == broker._synced_connects)


def _fill_the_rest_after_the_positions_read(session: Any, sb: SandboxHandle) -> list[float]:
    """From now on, right after the exit step reads the positions (once), the rest of the
    sale fills at the broker: the read shows the shares that rest has just sold. Returns the
    list the read's SPY is put in."""
    protect_each = session._protect_each
    positions = session.broker.positions
    seen: list[float] = []
    armed: list[bool] = []

    def protect_with_the_race(*args: Any, **kwargs: Any) -> Any:
        armed.append(True)
        try:
            return protect_each(*args, **kwargs)
        finally:
            armed.clear()

    def positions_then_the_fill() -> Any:
        read = positions()
        if armed and not seen:
            seen.append(read["SPY"].qty if "SPY" in read else 0.0)
            sb.admin.step(bars=REST_WAITS)
            wait_until(lambda: _held(sb) == 0.0, what="the rest of the sale filled")
            sb.admin.drop_streams()  # the stream drops: the listing is Alpaca's own now
            wait_until(lambda: not _streaming(session.broker), what="the stream down")
        return read

    session._protect_each = protect_with_the_race
    session.broker.positions = positions_then_the_fill
    return seen


def test_no_exit_for_shares_the_own_sale_sold_between_the_two_reads(tmp_path: Path) -> None:
    with running_sandbox() as sb:
        session = buy_and_protect(sb, tmp_path / "race.db", protected=open_stops, shock=1.0)
        try:
            held = _held(sb)
            assert held >= 2
            sb.admin.set_faults(partial_rate=1, partial_bars=REST_WAITS)
            session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held))
            assert session.apply_kill_requests() is not None
            settle(sb, session)
            assert 0 < _held(sb) < held, "the sale is partly filled, its rest works"
            seen = _fill_the_rest_after_the_positions_read(session, sb)
            sb.admin.step()  # a bar: the rest still waits
            session.run_iteration()
            settle(sb, session)
            assert seen and seen[0] > 0, "the exit step read the shares the sale still sold"
            assert _held(sb) == 0.0
            assert open_stops(sb) == [], "a sell stop on the position the sale emptied"
            assert open_sells(sb) == []
        finally:
            session.broker.close()
