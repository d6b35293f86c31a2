"""A desk's protective stop that fills between its bars is recorded at its next look (every
2 s), not at its next bar: other desks' sales in that symbol wait only while it works.

Desk one (``--stop-loss``) holds SPY under its stop; desk two shares its store and account.
Every sale of desk two in SPY, by hand too, waits while desk one's stop row is open in the
store (``engine.live_exits.live_exit_row``, read by ``engine.stop_release``). The stop fills
while desk one waits for its next bar (an hour on hourly bars). Before, desk one's looks
between bars recorded only a flatten close's news (``review31d``), not its exits': the stop's
row said it worked until desk one's next bar, and desk two's sales waited all that time beside a
stop long filled. Now the look records it within about 2 s, says the fill on the desk's screen
(the look's report), and the desk's next cycle neither records the fill twice nor places a
second stop for shares no longer held.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import settle
from tests.integration.ended_stop import spy_held, working_stops
from tests.integration.test_sale_beside_a_flatten_close import _desks
from tests.integration.test_sell_beside_live_exit import CRASH
from tui_trader.core.domain import IterationReport
from tui_trader.core.orders import Side
from tui_trader.engine.live_exits import live_exit_row
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveFill, LiveOrder


def _stop_row(desk: TradingSession) -> LiveOrder:
    """Desk ``desk``'s SPY stop row in the store (its only protective exit there)."""
    key = desk.audit.session.key
    [row] = [
        o
        for o in LiveOrder.select()
        if o.client_order_id.startswith(f"tt-{key}-") and o.order_type == "stop"
    ]
    return row


def test_a_stop_filled_between_bars_is_recorded_and_holds_no_sale(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    with _desks(sandbox, trading, db) as (one, two):
        account = one.audit.session.account_key
        held = spy_held(trading)
        row = live_exit_row(account, "SPY", two.audit.session.id)
        assert row is not None and row[2] == "runs", "desk one's stop works: desk two's sales wait"
        one.market.next_bars = lambda: {}  # type: ignore[method-assign]  # between its bars
        sandbox.admin.step(shock=CRASH)  # through the stop: it fills at the broker
        wait_until(lambda: spy_held(trading) == 0, what="the stop's fill")
        assert working_stops(trading) == []
        reports: list[IterationReport] = []

        def looked() -> bool:
            """Desk one's look between bars (as its runner's, every 2 s); its stop row ended."""
            report = one.apply_kill_requests()
            reports.extend([report] if report is not None else [])
            return _stop_row(one).status == "filled"

        wait_until(looked, what="desk one to record its stop's fill between bars")
        assert live_exit_row(account, "SPY", two.audit.session.id) is None, "no sale waits"
        # the desk's screen says the fill (its activity feed reads the looks' reports)
        seen = [f for r in reports for f in r.new_fills]
        assert [(f.symbol, f.side, f.qty) for f in seen] == [("SPY", Side.SELL, held)]
        assert "SPY" not in {p.symbol for p in reports[-1].positions}, "the line: SPY held"
        # desk one's next bar: the fill recorded once, the ledger flat, no second stop
        stop = _stop_row(one)
        del one.market.next_bars
        sandbox.admin.step()
        one.run_iteration()
        settle(sandbox, one)  # what that cycle sent (its strategy may buy again) recorded
        stops = sum(qty for qty, _ in working_stops(trading))
        assert stops <= spy_held(trading), "a second stop, for shares no longer held"
        fills = list(LiveFill.select().where(LiveFill.order == stop.id))
        assert sum(f.quantity for f in fills) == held, "the stop's fill recorded once"
        assert one.ledger.held("SPY") == spy_held(trading), "the ledger and the account agree"
