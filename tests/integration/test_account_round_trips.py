"""``report`` and ``history`` on an account two desks trade: round trips that add up to the
audit trail's fills.

Desk A bought SPY; desk B sold the SPY the broker held (by hand here; a halt's flatten does the
same). B booked the round trip (``halts30``), but A's own ledger kept the shares B sold: A's
next round trip in SPY, 5 bought and sold by hand, was entered at a price averaged with that
phantom lot, and the two desks' round trips summed to more (or less) than the account made.
The reports now rebuild the account's round trips from its fills (``reporting.account_trips``):
B's sale is B's round trip, entered at what A paid; A's later one is entered at its own buy.
An ended desk's stop that filled after it ended, its fill recorded by a desk still running,
was in no round trip at all: it is the ended desk's now.
"""

from __future__ import annotations

from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.ended_stop import RALLY, ended_desk_alone, spy_held, working_stops
from tests.integration.test_late_fill_ledger import _by_hand
from tests.integration.test_unsettled_fill_once import MOMENTUM
from tui_trader.core.orders import Side
from tui_trader.engine.ended_orders import record_ended_fills
from tui_trader.reporting.account_trips import trip_rows
from tui_trader.reporting.load import session_report
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveFill, LiveOrder, SessionRow


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
        made = _made()
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


def _made() -> float:
    """What the account's fills made, costs off (the account flat again)."""
    return sum(
        float(f.price) * float(f.quantity) * (1 if f.side == "sell" else -1) - float(f.commission)
        for f in LiveFill.select()
    )


def test_an_ended_desks_stop_filled_later_is_its_round_trip(
    sandbox: SandboxHandle, trading: Any, store: Any
) -> None:
    db: Any = store
    ended_desk_alone(sandbox, db)  # desk one bought SPY and stopped, its stop working
    held = spy_held(trading)
    assert held > 0 and len(working_stops(trading)) == 1
    two = alpaca_session(sandbox, db, symbols=("SPY",))  # no exits of its own
    try:
        sandbox.admin.step(shock={"SPY": -8.0})  # through the stop: it fills
        wait_until(lambda: spy_held(trading) == 0, what="the stop's fill")
        settle(sandbox, two)
        session = two.audit.session
        assert session is not None
        record_ended_fills(two.broker, two.audit, session.account_key, "SPY", two.clock.now())
        [stop] = LiveOrder.select().where(LiveOrder.order_type == "stop")
        assert sum(float(f.quantity) for f in stop.fills) == held  # recorded once
        one_row = SessionRow.get_by_id(stop.session_id)
        one, mine = session_report(one_row), session_report(SessionRow.get_by_id(session.id))
        assert (one.trades, mine.trades) == (1, 0), (one.trades, mine.trades)
        assert one.best_trade is not None and one.best_trade.quantity == held
        assert abs(one.best_trade.pnl - _made()) < 1e-6, (one.best_trade, _made())
        traded = sum(float(f.quantity) * float(f.price) for f in LiveFill.select())
        assert abs(one.traded_value - traded) < 1e-6 and mine.traded_value == 0
        assert [r.session_id for r in trip_rows(20, None)] == [one_row.id]
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_sale_of_shares_held_before_the_store_is_a_round_trip_at_the_brokers_entry(
    sandbox: SandboxHandle, trading: Any, store: Any
) -> None:
    """Shares the account held before this store's first desk (bought elsewhere, no fill of
    theirs recorded): the desk's sale of them is a round trip entered at the broker's average
    entry price as the desk's last snapshot before it read it, not a short opened."""
    from alpaca.trading.requests import MarketOrderRequest

    trading.submit_order(MarketOrderRequest(symbol="SPY", qty=7, side="buy", time_in_force="day"))
    sandbox.admin.step()
    wait_until(lambda: spy_held(trading) == 7, what="the buy elsewhere")
    desk = alpaca_session(sandbox, store, symbols=("SPY",))
    try:
        entry = desk.broker.positions()["SPY"].avg_entry_price
        sandbox.admin.step()
        desk.run_iteration()  # a snapshot of the account: 7 SPY
        sandbox.admin.step(shock=RALLY)
        sold = _by_hand(sandbox, desk, Side.SELL, 7)
        session = desk.audit.session
        assert session is not None
        report = session_report(SessionRow.get_by_id(session.id))
        trade = report.best_trade
        assert report.trades == 1 and trade is not None, report.trades
        assert (trade.side, trade.quantity, trade.strategy) == ("long", 7, "unattributed")
        assert abs(trade.entry_price - entry) < 1e-6 and abs(trade.exit_price - sold) < 1e-6
    finally:
        desk.finish("stopped")
        desk.broker.close()
