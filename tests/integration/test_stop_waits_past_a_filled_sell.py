"""An ended desk's stop waiting on a sell that fills still waits on another sell of the same
shares that works yet: it goes back for what is held once that sell ends unfilled.

A desk that keeps no exits cancels an ended desk's stop before a sell and follows the sell; a
stop that could not go back beside working sells follows the largest of them. Once that sell
filled, the stop was forgotten, though another sell still worked: when that one was cancelled,
the shares it had not sold were left without a stop, and nothing said so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.ended_stop import (
    cancel,
    ended_desks_stop,
    limit_sell,
    spy_held,
    working_stops,
)
from tui_trader.engine.session import TradingSession
from tui_trader.risk.limits import RiskLimits
from tui_trader.sandbox.testing import SandboxHandle


def _ended_desks_stop(sandbox: SandboxHandle, db: Path) -> TradingSession:
    """``ended_desks_stop`` whose desk two has a 1% position limit: it keeps the last share
    but leaves no room to buy SPY back after the jump that fills its sell."""
    return ended_desks_stop(sandbox, db, limits=RiskLimits(max_position_pct=1.0))


def _two_sells_the_stop_waits_on(
    two: TradingSession, sandbox: SandboxHandle, trading: Any
) -> tuple[float, str]:
    """Desk two sells all by hand (desk one's stop cancelled), cancels it, and sells one share
    far above the market and the rest just above it (0.4%); a cycle: the stop waits on those
    sells, none beside them. The market then jumps. Desk one's stop price, and the client id
    of the one-share sell."""
    [(qty, price)] = working_stops(trading)
    held = spy_held(trading)
    assert qty == held >= 3
    market = float(sandbox.admin.state()["prices"]["SPY"])
    first = limit_sell(two, sandbox, held, round(market * 1.3, 2))
    cancel(two, sandbox, first)
    one_share = limit_sell(two, sandbox, 1, round(market * 1.3, 2))
    limit_sell(two, sandbox, held - 1, round(market * 1.004, 2))
    sandbox.admin.step()
    two.run_iteration()
    assert working_stops(trading) == [], "the sells close every share: no stop beside them"
    sandbox.admin.step(shock={"SPY": 1.5})
    return price, one_share


def test_a_stop_whose_sell_filled_goes_back_once_the_other_sell_is_cancelled(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The larger sell fills at the jump: no stop beside the one-share sell still working.
    Once that sell is cancelled, the stop is back for the share held, at its price (before:
    the share had no stop)."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        price, one_share = _two_sells_the_stop_waits_on(two, sandbox, trading)
        notes = two.run_iteration().notes
        assert spy_held(trading) == 1, "the larger sell filled"
        assert working_stops(trading) == [], ("a stop beside the sell of the last share", notes)
        cancel(two, sandbox, one_share)
        sandbox.admin.step()
        notes = two.run_iteration().notes
        assert spy_held(trading) == 1
        assert working_stops(trading) == [(1, price)], notes
        [said] = [n for n in notes if "placed again" in n]
        assert said.startswith("sell 1 SPY ended canceled, nothing filled"), said
        sandbox.admin.step()
        two.run_iteration()
        assert working_stops(trading) == [(1, price)], "a second stop"
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_desk_stopping_after_the_fill_names_the_share_left_without_its_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The larger sell fills at the jump and desk two stops before its next cycle: its end
    finds the fill, puts no stop beside the one-share sell still working, and says the position
    has no stop until that sell ends (before: nothing said)."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        price, _one_share = _two_sells_the_stop_waits_on(two, sandbox, trading)
    finally:
        two.finish("stopped")
        two.broker.close()
    assert spy_held(trading) == 1, "the larger sell filled"
    assert working_stops(trading) == []
    assert two.stops_left == (
        f"SPY: its stop at {price:.2f} was cancelled for sell 1 SPY, still working at the "
        "broker: the position has no stop until that sell ends; this desk is stopping",
    )
