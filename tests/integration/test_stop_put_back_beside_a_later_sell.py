"""An ended desk's stop waiting to go back, found beside a later sell: it goes back once that
sell ends unfilled too, never lost.

A desk that keeps no exits cancels an ended desk's stop before its sell (``exit_dropped``) and
follows the sell: ended unfilled, the stop goes back. A sell by hand priced again (cancel the
limit, send a new one) put a second sell in the symbol before the stop went back: the put-back
found the new sell closing the shares, placed nothing, and forgot the stop. Once the new sell
was cancelled too, the position had no stop, and nothing said so.
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
from tui_trader.sandbox.testing import SandboxHandle


def test_a_stop_waiting_for_a_cancelled_sell_goes_back_once_the_next_sell_is_cancelled(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two sells by hand at a limit (desk one's stop is cancelled first), cancels that
    sell and sends another at a new price; a cycle runs; then it cancels the second sell too.
    Desk one's stop is back for the shares held at its price, once; before, the position was
    left without a stop."""
    two = ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(qty, price)] = working_stops(trading)
        held = spy_held(trading)
        assert qty == held > 0
        market = float(sandbox.admin.state()["prices"]["SPY"])
        first = limit_sell(two, sandbox, held, round(market * 1.3, 2))
        assert working_stops(trading) == [], "desk one's stop is cancelled before the sell"
        cancel(two, sandbox, first)
        second = limit_sell(two, sandbox, held, round(market * 1.25, 2))
        sandbox.admin.step()
        two.run_iteration()  # the first sell ended unfilled: its stop waits beside the second
        assert working_stops(trading) == [], "a stop beside a sell of the same shares"
        cancel(two, sandbox, second)
        sandbox.admin.step()
        notes = two.run_iteration().notes
        assert spy_held(trading) == held
        assert working_stops(trading) == [(held, price)], notes
        [said] = [n for n in notes if "placed again" in n]
        assert said.endswith(f"its stop at {price:.2f} placed again"), said
        sandbox.admin.step()
        two.run_iteration()
        assert working_stops(trading) == [(held, price)], "a second stop"
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_desk_stopping_beside_the_later_sell_names_the_position_left_without_its_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The same two sells by hand, and desk two stops while the second still works: its end
    says the position has no stop until that sell ends (before, nothing: the stop was
    forgotten), and puts no stop beside the sell."""
    two = ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_qty, price)] = working_stops(trading)
        held = spy_held(trading)
        market = float(sandbox.admin.state()["prices"]["SPY"])
        first = limit_sell(two, sandbox, held, round(market * 1.3, 2))
        cancel(two, sandbox, first)
        limit_sell(two, sandbox, held, round(market * 1.25, 2))
        sandbox.admin.step()
        two.run_iteration()
    finally:
        two.finish("stopped")
        two.broker.close()
    assert working_stops(trading) == []
    assert two.stops_left == (
        f"SPY: its stop at {price:.2f} was cancelled for sell {held:g} SPY, still working at "
        f"the broker: the position has no stop until that sell ends; this desk is stopping",
    )
