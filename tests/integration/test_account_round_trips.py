"""``report`` and ``history`` on an account two desks trade: round trips that add up to the
audit trail's fills.

Desk A bought SPY; desk B sold the SPY the broker held (by hand here; a halt's flatten does the
same). B booked the round trip (``halts30``), but A's own ledger kept the shares B sold: A's
next round trip in SPY, 5 bought and sold by hand, was entered at a price averaged with that
phantom lot, and the two desks' round trips summed to more (or less) than the account made.
The reports now rebuild the account's round trips from its fills (``reporting.account_trips``):
B's sale is B's round trip, entered at what A paid; A's later one is entered at its own buy.
"""

from __future__ import annotations

from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.ended_stop import RALLY
from tests.integration.test_late_fill_ledger import _by_hand
from tests.integration.test_unsettled_fill_once import MOMENTUM
from tui_trader.core.orders import Side
from tui_trader.reporting.account_trips import trip_rows
from tui_trader.reporting.load import session_report
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveFill, SessionRow


def test_two_desks_round_trips_add_up_to_the_fills(
    sandbox: SandboxHandle, trading: Any, store: Any
) -> None:
    db: Any = store
    b = alpaca_session(sandbox, db, symbols=("SPY",))
    a = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    try:
        for _ in range(8):  # the rally: desk A buys SPY
            sandbox.admin.step(shock=RALLY)
            a.run_iteration()
            settle(sandbox, a)
            if "SPY" in a.broker.positions():
                break
        sandbox.admin.step()
        b.run_iteration()  # B reads the account: A's SPY
        held = b.broker.positions()["SPY"].qty
        entry = b.broker.positions()["SPY"].avg_entry_price
        _by_hand(sandbox, b, Side.SELL, held)  # B sells A's shares
        sandbox.admin.step(shock=RALLY)
        bought = _by_hand(sandbox, a, Side.BUY, 5)  # A's own round trip of 5
        sandbox.admin.step(shock=RALLY)
        sold = _by_hand(sandbox, a, Side.SELL, 5)
        assert "SPY" not in a.broker.positions()
        a_row, b_row = (SessionRow.get_by_id(d.audit.session.id) for d in (a, b))
        made = sum(  # the account is flat again: what its fills made, costs off
            float(f.price) * float(f.quantity) * (1 if f.side == "sell" else -1)
            - float(f.commission)
            for f in LiveFill.select()
        )
        a_report, b_report = (session_report(row) for row in (a_row, b_row))
        assert (a_report.trades, b_report.trades) == (1, 1)
        theirs, mine = b_report.best_trade, a_report.best_trade
        assert theirs is not None and mine is not None
        assert (theirs.side, theirs.quantity) == ("long", held), theirs
        assert abs(theirs.entry_price - entry) < 1e-6, (theirs, entry)
        # A's own 5, entered at its own buy, not averaged with the shares B sold
        assert (mine.quantity, round(mine.entry_price, 6), round(mine.exit_price, 6)) == (
            5,
            round(bought, 6),
            round(sold, 6),
        ), (mine, bought, sold)
        assert abs(mine.pnl + theirs.pnl - made) < 1e-6, (mine.pnl, theirs.pnl, made)
        history = trip_rows(20, None)  # ``history --session all``: the same two, newest first
        assert [(r.session_id, float(r.quantity)) for r in history] == [
            (a_row.id, 5.0),
            (b_row.id, held),
        ]
        assert abs(sum(float(r.pnl) for r in history) - made) < 1e-6
    finally:
        for desk in (a, b):
            desk.finish("stopped")
            desk.broker.close()
