"""A desk's halt flatten close that fills between its bars is recorded ended at its next look
(every 2 s), not at its next bar: other desks' sales in that symbol wait only while it works.

Desk two halts with flatten beside desk one (same store and account); its close of SPY fills
in part, the halt is lifted (``risk reset``), and the rest fills while desk two waits for its
next bar (an hour on hourly bars, a day on daily ones). Every sale of desk one in SPY, by hand
too, waits while the close's row is open in the store (``engine.live_exits``). Before, desk
two's looks between bars did not record its orders' news: the row said the close worked until
desk two's next bar, and desk one's sales waited all that time beside a close long filled.
Now desk two's looks between bars (``apply_kill_requests``, what its runner calls every 2 s)
record a working flatten close's news, and the hold ends with the close.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.ended_stop import spy_held
from tests.integration.test_sale_beside_a_flatten_close import _desks, _half_closed
from tui_trader.engine.live_exits import flatten_close_hold
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder


def _close_row(desk: TradingSession) -> str:
    """The status of desk ``desk``'s flatten close row of SPY in the store."""
    key = desk.audit.session.key
    [row] = [
        o
        for o in LiveOrder.select()
        if o.client_order_id.startswith(f"tt-{key}-") and "-SPY-flat" in o.client_order_id
    ]
    return str(row.status)


def test_a_flatten_close_filled_between_bars_is_recorded_and_holds_no_sale(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    with _desks(sandbox, trading, db) as (one, two):
        _half_closed(sandbox, trading, db, one, two)
        account = two.audit.session.account_key
        hold = flatten_close_hold(account, "SPY", one.audit.session.id)
        assert hold is not None and "still sells SPY" in hold, "the close works: sales wait"
        two.market.next_bars = lambda: {}  # type: ignore[method-assign]  # between its bars
        sandbox.admin.step(bars=3)  # the close's rest fills at the broker
        wait_until(lambda: spy_held(trading) == 0, what="the close's fill")

        def looked() -> bool:
            """Desk two's look between bars (as its runner's, every 2 s); its row ended."""
            two.apply_kill_requests()
            return _close_row(two) == "filled"

        wait_until(looked, what="desk two to record its close's fill between bars")
        assert flatten_close_hold(account, "SPY", one.audit.session.id) is None
