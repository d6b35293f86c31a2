"""An ended desk's stop waiting on a sell by hand is never forgotten for another sell in the
symbol: each sell it waits on is followed on its own.

A desk that keeps no exits cancels an ended desk's stop before a sell, and follows the sell:
ended unfilled, the stop goes back. It followed one sell per symbol: a stop placed again for the
shares a working sell leaves (the rest waiting on that sell), then cancelled before a new sell
by hand, replaced the first sell's entry with the new one. Once both sells were cancelled, the
stop went back for the new sell's part only; the shares of the first had no stop, unsaid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import sandbox_orders
from tests.integration.ended_stop import (
    cancel,
    ended_desks_stop,
    limit_sell,
    spy_held,
    working_stops,
)
from tui_trader.sandbox.testing import SandboxHandle


def test_a_stop_waiting_on_one_sell_is_not_forgotten_for_a_newer_sell(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two sells all by hand (desk one's stop cancelled), cancels it and sells one share;
    a cycle puts the stop back for the rest, the first share's part waiting on that sell. A new
    sell of the rest cancels the stop again. Both sells cancelled, the stop is back for every
    share held, at its price (before: only for the newer sell's part)."""
    two = ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(qty, price)] = working_stops(trading)
        held = spy_held(trading)
        assert qty == held >= 3
        far = round(float(sandbox.admin.state()["prices"]["SPY"]) * 1.3, 2)
        first = limit_sell(two, sandbox, held, far)
        cancel(two, sandbox, first)
        one_share = limit_sell(two, sandbox, 1, far)
        sandbox.admin.step()
        two.run_iteration()
        assert working_stops(trading) == [(held - 1, price)], "the rest protected beside the sell"
        rest = limit_sell(two, sandbox, held - 1, far)
        assert working_stops(trading) == [], "the stop is cancelled before the newer sell"
        for cid in (one_share, rest):
            two.request_cancel(cid)
            two.apply_kill_requests()
        notes: list[str] = []
        for _ in range(2):  # (a cancel may still be pending at the first)
            sandbox.admin.step()
            notes += two.run_iteration().notes
        assert spy_held(trading) == held
        stops = working_stops(trading)
        assert sum(q for q, _p in stops) == held, (stops, notes)
        assert {p for _q, p in stops} == {price}
        sandbox.admin.step()
        two.run_iteration()
        assert sorted(working_stops(trading)) == sorted(stops), "a stop beside the stops"
        assert all(o.status.value != "filled" for o in sandbox_orders(trading) if o.stop_price)
    finally:
        two.finish("stopped")
        two.broker.close()
