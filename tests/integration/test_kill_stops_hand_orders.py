"""The kill switch pressed while orders queued by hand go out between bars stops the rest.

A trader queues orders by hand (the ticket, ``c`` close, flatten); the desk's thread sends them
one by one when it wakes. ctrl+k pressed meanwhile (from the desk's UI thread) was taken only
at the next pass: every queued order after the one on its way still went out. Now each order
by hand looks for a press before it is sent: the ones not sent yet are refused, each with a
risk event saying the kill switch stopped it, and the next pass (the press woke the desk)
halts. An order by hand that only shrinks a position (a close, a sell of what is held) still
goes out, as it would once the desk is halted.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BuyAndHold, file_rows, make_session
from tests.integration.test_hand_order_exits_between_bars import _protected
from tests.integration.test_protective_stops import FIVE_PCT, _held, _session, _step, _stops
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.orders import Order, OrderRequest, OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.gate import MANUAL_KILL


class Flat:
    """A strategy that never trades: every order of these tests is one placed by hand."""

    name = "flat"

    def on_bar(self, bar: Bar) -> Signal:
        """Always flat."""
        return Signal(0.0, "flat")


def test_a_press_while_hand_orders_go_out_stops_the_ones_not_sent(tmp_path: Path) -> None:
    """Three hand buys queued; ctrl+k lands while the first is sent. Before: all three went
    out. Now only the first (already on its way); the other two are refused in the audit
    trail with the kill switch named, and the next pass halts the desk."""
    db = tmp_path / "desk.db"
    session = make_session(db, strategies=[Flat()])
    session.run_iteration()  # a bar: the tickets have prices
    broker = session.broker
    submit = broker.submit
    sent: list[str] = []

    def pressed_while_sending(request: OrderRequest) -> Order:
        sent.append(request.symbol)
        if len(sent) == 1:
            session.request_kill(who="test")  # the desk's ctrl+k, from the UI thread
        return submit(request)

    broker.submit = pressed_while_sending  # type: ignore[method-assign]
    for symbol in ("SPY", "QQQ", "IWM"):
        session.request_manual_order(ManualOrder(symbol, Side.BUY, qty=1))
    report = session.apply_kill_requests()
    assert report is not None
    assert sent == ["SPY"], f"orders sent after the kill switch was pressed: {sent[1:]}"
    stopped = {e.symbol: e.action_taken for e in report.risk_events if "kill switch" in e.detail}
    assert sorted(stopped) == ["IWM", "QQQ"], report.risk_events
    assert "not sent: the kill switch was pressed" in stopped["QQQ"], stopped
    assert session.wake.is_set(), "the press must wake the desk to halt at once"
    halted = session.apply_kill_requests()
    assert halted is not None
    assert session.risk.state.halted
    assert [e for e in halted.risk_events if e.event_type == MANUAL_KILL]
    assert sent == ["SPY"]
    rows = file_rows(
        db, "SELECT symbol FROM live_risk_events WHERE action_taken LIKE '%kill switch was%'"
    )
    assert sorted(symbol for (symbol,) in rows) == ["IWM", "QQQ"]
    session.finish("stopped")


def test_a_hand_sell_queued_as_the_press_lands_still_goes_out(db_path: Path) -> None:
    """A sell of 50 SPY by hand cancels the position's stop (100 at 95) first; ctrl+k lands
    while that cancel is confirmed. The sell only shrinks the position: it goes out, as it
    would once the desk is halted (a halt refuses what adds exposure, not what takes it off;
    for a while kill26 refused it). The next pass halts, cancelling the desk's working
    orders as a halt does, and the stop is back for what is held."""
    session, _market, _ = _protected(db_path)
    [stop] = _stops(session)
    broker = session.broker
    cancel, submit = broker.cancel, broker.submit
    sent: list[OrderRequest] = []

    def pressed_while_cancelling(client_order_id: str, *args: object, **kw: object) -> object:
        if client_order_id == stop.client_order_id:
            session.request_kill(who="test")
        return cancel(client_order_id, *args, **kw)

    def recorded(request: OrderRequest) -> Order:
        sent.append(request)
        return submit(request)

    broker.cancel = pressed_while_cancelling  # type: ignore[method-assign]
    broker.submit = recorded  # type: ignore[method-assign]
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=50))
    report = session.apply_kill_requests()
    assert report is not None
    sells = [(r.side, r.qty) for r in sent if r.order_type is OrderType.MARKET]
    assert sells == [(Side.SELL, 50)], sent
    assert not [e for e in report.risk_events if "kill switch was" in e.action_taken]
    halted = session.apply_kill_requests()
    assert halted is not None and session.risk.state.halted
    # the halt cancels the desk's working orders, the sell too (a market order waits for the
    # local broker's next bar; at Alpaca in market hours it has filled already), and puts the
    # whole position's stop back in the same pass (before, only at the desk's next look)
    assert _held(session) == 100
    assert [(s.qty, s.stop_price) for s in _stops(session)] == [(100, 95.0)]  # a halt keeps it


def test_a_hand_sell_past_the_shares_held_is_stopped_by_a_press(db_path: Path) -> None:
    """Short selling on, 100 SPY held: a sell of 10 by hand and then a sell of 150 are queued;
    ctrl+k lands while the first goes out. The first only shrinks the position: it goes. The
    second would sell 60 shares more than are held beside the first (a short opened after the
    kill): it is stopped like an order that adds exposure. Before, the fence measured it
    against the position plus the working sell (90 to -60 looked smaller) and sent it; at
    Alpaca in market hours the desk was short 60 SPY after ctrl+k."""
    session, _market, _ = _session(db_path, allow_short=True)
    _step(session, _market, 100, 101, 99, 100)
    _step(session, _market, 100, 101, 99, 100)
    assert _held(session) == 100
    broker = session.broker
    submit = broker.submit
    sent: list[tuple[Side, float]] = []

    def pressed_while_sending(request: OrderRequest) -> Order:
        if request.order_type is OrderType.MARKET:
            sent.append((request.side, request.qty))
            if len(sent) == 1:
                session.request_kill(who="test")  # the desk's ctrl+k, from the UI thread
        return submit(request)

    broker.submit = pressed_while_sending  # type: ignore[method-assign]
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=10))
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=150))
    report = session.apply_kill_requests()
    assert report is not None
    assert sent == [(Side.SELL, 10)], f"sent after the kill switch was pressed: {sent[1:]}"
    stopped = [e.action_taken for e in report.risk_events if "kill switch was" in e.action_taken]
    assert stopped == [
        "manual sell 150 SPY not sent: the kill switch was pressed by test before it went out"
    ], report.risk_events
    halted = session.apply_kill_requests()
    assert halted is not None and session.risk.state.halted
    assert sent == [(Side.SELL, 10)]
    assert _held(session) == 100
    assert [(s.qty, s.stop_price) for s in _stops(session)] == [(100, 95.0)]


def test_a_halt_cancelling_sells_by_hand_in_three_symbols_puts_three_stops_back(
    tmp_path: Path,
) -> None:
    """A desk with a 5% stop holds SPY, QQQ and IWM; half of each is offered by hand far
    above the market (each position's stop cancelled first). ctrl+k: the halt cancels the
    three sells, and the same pass puts all three stops back for the whole positions. Before,
    only one came back in that pass (the one order by hand looked up), the others one a look
    later, 2 s apart: with six, the last position was 10 s without its stop."""
    session = make_session(tmp_path / "desk.db", strategies=[BuyAndHold()], stop_loss=FIVE_PCT)
    for _ in range(3):
        session.run_iteration()
    held = {s: p.qty for s, p in session.broker.positions().items()}
    assert sorted(held) == ["IWM", "QQQ", "SPY"]

    def stops() -> dict[str, float]:
        working = session.broker.open_orders()
        return {o.symbol: o.qty for o in working if o.order_type is OrderType.STOP}

    assert stops() == held
    for symbol, qty in held.items():
        price = round(session.last_prices[symbol] * 1.5, 2)
        session.request_manual_order(
            ManualOrder(
                symbol,
                Side.SELL,
                qty=qty // 2,
                order_type=OrderType.LIMIT,
                limit_price=price,
                time_in_force=TimeInForce.GTC,
            )
        )
    session.apply_kill_requests()
    assert stops() == {}  # the three sells work, their stops cancelled first
    session.request_kill(who="test")
    report = session.apply_kill_requests()
    assert report is not None and session.risk.state.halted
    assert stops() == held, "a stop the halt's pass did not put back"
    placed = [n for n in report.notes if "protective exit placed" in n]
    assert sorted(n.split(":")[0] for n in placed) == ["IWM", "QQQ", "SPY"], report.notes
