"""Positions that lag the fills of a partly filled order: the desk never buys twice.

Alpaca's positions endpoint can lag the fills of an order still working: 50 of a 100-share buy
filled, the stream and the order say so, the positions read still shows none. The rebalance
counts what it has committed as the position plus what working orders will still add: 0 + 50,
and the next cycle bought the 50 again. The sandbox rehearses it with ``position_lag`` (a read
leaves out the fills of orders still working) and ``partial_bars`` (the rest of a split order
waits that many bars). Now a symbol whose position read disagrees with the session's own fills
while its order works gets no new order, said once, until the two agree; and the watch for
positions changed outside the session does not take the lag for a trade by hand.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, settle
from tests.integration.broker_protection import buy_and_protect, open_stops
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox
from tui_trader.store.models import LiveOrder, RiskEventRow

REST_WAITS = 3
"""Bars the rest of the desk's buy waits, partly filled (``partial_bars``)."""
CALM = 3
"""Cycles run once the rest has filled and the position caught up."""


def _held(sb: SandboxHandle) -> float:
    """SPY the sandbox account really holds (its books, not a lagging read)."""
    return float(sb.admin.state()["positions"].get("SPY", 0.0))


def _buys() -> list[LiveOrder]:
    """The desk's SPY buy rows, oldest first."""
    rows = LiveOrder.select().where((LiveOrder.symbol == "SPY") & (LiveOrder.side == "buy"))
    return list(rows.order_by(LiveOrder.id))


def test_a_position_lagging_a_partial_fill_is_not_bought_again(tmp_path: Path) -> None:
    faults = f"partial_rate=1,partial_bars={REST_WAITS},position_lag=1"
    with running_sandbox(faults=faults) as sb:
        session = alpaca_session(sb, tmp_path / "lag.db", symbols=("SPY",))
        try:
            for _ in range(12):  # a rally: the crossover buys; half fills at once
                sb.admin.step(shock={"SPY": 1.0})
                if session.run_iteration().orders_sent:
                    break
            [first] = _buys()
            settle(sb, session)
            half = filled_by_order()[first.client_order_id]
            assert 0 < half < first.quantity
            assert _held(sb) == half  # at the sandbox: half held, the rest working
            assert session.broker.positions() == {}  # the lagging read shows none of it

            notes: list[str] = []
            for _ in range(REST_WAITS - 1):  # calm bars while the rest still waits
                sb.admin.step()
                report = session.run_iteration()
                notes += [n for n in report.notes if "does not agree" in n]
                assert [row.client_order_id for row in _buys()] == [first.client_order_id]
            assert len(notes) == 1, notes  # said once, at the onset
            assert "SPY" in notes[0] and f"(they make {half:g})" in notes[0], notes

            sb.admin.step()  # the rest fills: the position catches up
            session.run_iteration()
            settle(sb, session)
            for _ in range(CALM):
                sb.admin.step()
                session.run_iteration()
            settle(sb, session)
            assert [row.client_order_id for row in _buys()] == [first.client_order_id]
            assert _held(sb) == first.quantity == sum(filled_by_order().values())
            assert session.broker.positions()["SPY"].qty == first.quantity
            changed = RiskEventRow.select().where(RiskEventRow.event_type == OUTSIDE_CHANGE)
            assert not changed.exists(), "the lag taken for a change made outside the session"
        finally:
            session.broker.close()


def test_a_kill_that_flattens_sells_what_the_cancelled_buy_had_filled(tmp_path: Path) -> None:
    """ctrl+k with flattening while the desk's buy is partly filled and the positions read
    lags it: the halt cancels the buy, then closes what is held. It closed what the cycle's
    read had shown (none of the buy's fills) and left the filled half open; it now reads the
    positions again once its cancels are done."""
    faults = f"partial_rate=1,partial_bars={REST_WAITS},position_lag=1"
    with running_sandbox(faults=faults) as sb:
        session = alpaca_session(sb, tmp_path / "flat.db", symbols=("SPY",))
        try:
            for _ in range(12):
                sb.admin.step(shock={"SPY": 1.0})
                if session.run_iteration().orders_sent:
                    break
            assert len(_buys()) == 1
            settle(sb, session)
            assert _held(sb) > 0 and session.broker.positions() == {}  # the read lags
            sb.admin.step()
            session.run_iteration()
            sb.admin.set_faults(partial_rate=0)  # the flattening sell fills whole
            session.request_kill(reason="test", flatten=True)
            session.apply_kill_requests()
            settle(sb, session)
            assert sb.admin.state()["orders"]["open"] == 0
            assert _held(sb) == 0, "the halt left the buy's filled shares open"
        finally:
            session.broker.close()


def test_a_stop_beside_a_partly_filled_sell_is_sized_from_the_desks_fills(
    tmp_path: Path,
) -> None:
    """A desk with a stop loss sells half its position by hand; the sell fills half at once,
    the rest bars later, and the positions read still shows the whole position. The stop for
    what the sell leaves was sized from that read (the position, less what the sell still
    sells): more shares than are free, refused by the broker ("insufficient qty"), and the
    position said NOT protected every cycle of the lag. It is now sized from the desk's own
    fills, and placed; its rationale says why it covers fewer shares than the read shows."""
    with running_sandbox() as sb:
        session = buy_and_protect(sb, tmp_path / "stop.db", protected=open_stops, shock=1.0)
        try:
            held = _held(sb)
            sb.admin.set_faults(partial_rate=1, partial_bars=REST_WAITS, position_lag=1)
            session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held / 2))
            assert session.apply_kill_requests() is not None
            said: list[str] = []
            stops: list[float] = []
            for _ in range(REST_WAITS - 1):  # the rest of the sell still works
                sb.admin.step()
                report = session.run_iteration()
                said += [
                    e.action_taken for e in report.risk_events if "NOT protected" in e.action_taken
                ]
                settle(sb, session)
                assert session.broker.positions()["SPY"].qty == held, "the read lags"
                stops.append(sum(float(o.qty) for o in open_stops(sb)))
            assert said == []
            assert 0 < _held(sb) < held  # part of the sell filled
            assert stops[-1] == held / 2, "the stop covers what the sell leaves"
            [stop] = open_stops(sb)
            row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
            assert "a read lagging a fill" in row.rationale, row.rationale
        finally:
            session.broker.close()
