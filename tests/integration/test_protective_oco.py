"""Broker-held take profits on a local session: with ``--stop-loss`` and ``--take-profit`` one
OCO pair (take-profit limit + stop) protects each position, the broker fills either leg and the
other ends with it; with ``--take-profit`` alone a GTC limit; a price already beyond the level
closes at market. Resizing, the kill switch and start-up reconciliation keep the pair."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import simulate_death
from tests.integration.test_protective_stops import _bar, _held, _session, _step
from tui_trader.core.orders import Order, OrderClass, OrderRequest, OrderType, Side, TimeInForce
from tui_trader.engine.exit_placing import TAKE_PROFIT
from tui_trader.store.models import LiveOrder


def _exits(session) -> list[Order]:
    """The working protective exits (stop, limit or OCO pair) at the paper broker."""
    return [o for o in session.broker.open_orders() if o.order_type is not OrderType.MARKET]


def _entered(db_path, **kw):
    """100 shares bought at 100 with a 5% stop and an 8% take profit (unless overridden)."""
    kw.setdefault("take_profit_pct", 8.0)
    session, market, strategy = _session(db_path, **kw)
    _step(session, market, 100, 101, 99, 100)  # the buy goes out
    _step(session, market, 100, 101, 99, 100)  # it fills at 100; the exit goes out
    return session, market, strategy


def test_stop_loss_and_take_profit_make_one_oco_pair_at_the_broker(db_path) -> None:
    """One GTC OCO for the whole position: take profit 8% above entry, stop 5% below, both
    prices in its audited reason."""
    session, _, _ = _entered(db_path)
    [pair] = _exits(session)
    assert pair.order_class is OrderClass.OCO and pair.time_in_force is TimeInForce.GTC
    assert (pair.side, pair.qty, pair.limit_price, pair.stop_price) == (Side.SELL, 100, 108, 95)
    row = LiveOrder.get(LiveOrder.client_order_id == pair.client_order_id)
    assert row.rationale == (
        "OCO exit: protective stop 5% below entry 100.00 at 95; "
        "take profit 8% above entry 100.00 at 108"
    )


def test_the_take_profit_leg_fills_at_the_broker_and_the_stop_leg_ends(db_path) -> None:
    """A bar that trades up through 108 sells at the limit; nothing is left working, and the
    trade is recorded at 108 (the desk sent no order of its own)."""
    session, market, strategy = _entered(db_path)
    [pair] = _exits(session)
    strategy.target = 0.0
    report = _step(session, market, 100, 111, 100, 110)
    assert _held(session) == 0 and _exits(session) == []
    [fill] = [f for f in report.new_fills if f.client_order_id == pair.client_order_id]
    assert (fill.price, fill.qty) == (108.0, 100)
    assert not [o for o in report.orders if o.order_type is OrderType.MARKET]
    row = LiveOrder.get(LiveOrder.client_order_id == pair.client_order_id)
    assert (row.status, row.filled_price) == ("filled", 108.0)
    assert session.realized_pnl == pytest.approx(800.0)


def test_the_stop_leg_fills_and_the_take_profit_leg_ends(db_path) -> None:
    """A bar that falls through 95 sells at the stop; the pair is done."""
    session, market, strategy = _entered(db_path)
    [pair] = _exits(session)
    strategy.target = 0.0
    report = _step(session, market, 97, 97.5, 90, 91)
    [fill] = [f for f in report.new_fills if f.client_order_id == pair.client_order_id]
    assert (fill.price, fill.qty) == (95.0, 100)
    assert _held(session) == 0 and _exits(session) == []


def test_take_profit_alone_is_a_gtc_limit_at_the_broker(db_path) -> None:
    """``--take-profit 8`` without a stop: a GTC sell limit at 108 for the position."""
    session, _, _ = _entered(db_path, rule=None)
    [limit] = _exits(session)
    assert (limit.order_type, limit.order_class) == (OrderType.LIMIT, OrderClass.SIMPLE)
    assert (limit.qty, limit.limit_price, limit.time_in_force) == (100, 108, TimeInForce.GTC)


def test_a_price_already_beyond_the_take_profit_closes_at_market(db_path) -> None:
    """The entry fills at 100 and the bar closes at 110: a limit at 108 would fill at once (and
    Alpaca refuses an OCO through the market), so the desk closes at market and says why."""
    session, market, _ = _session(db_path, take_profit_pct=8.0)
    _step(session, market, 100, 101, 99, 100)
    report = _step(session, market, 100, 111, 100, 110)
    [event] = [e for e in report.risk_events if e.event_type == TAKE_PROFIT]
    assert event.action_taken == "closing 100 SPY at market"
    assert "already through the take-profit level" in event.detail
    assert _exits(session) == []
    _step(session, market, 110, 111, 109, 110)
    assert _held(session) == 0


def test_a_partial_exit_replaces_the_pair_for_what_is_left(db_path) -> None:
    """Halving the target: the pair is cancelled before the sell, a new pair for 50 goes out."""
    session, market, strategy = _entered(db_path)
    [first] = _exits(session)
    strategy.target = 0.5
    _step(session, market, 100, 101, 99, 100)
    assert LiveOrder.get(LiveOrder.client_order_id == first.client_order_id).status == "canceled"
    [second] = _exits(session)
    assert (second.order_class, second.qty) == (OrderClass.OCO, 50)
    _step(session, market, 100, 101, 99, 100)
    assert _held(session) == 50 and [o.qty for o in _exits(session)] == [50]


def test_a_pair_of_the_wrong_size_is_cancelled_and_placed_again_at_start_up(db_path) -> None:
    """Shares bought outside the desk while no session ran: the next session's pair covers all
    120 (a confirmed cancel, then the new pair), audited as a reconciliation."""
    session, _, _ = _entered(db_path)
    broker = session.broker
    [first] = _exits(session)
    simulate_death(session)
    broker.submit(OrderRequest("SPY", Side.BUY, 20, "by-hand"))
    broker.on_bars({"SPY": _bar(99, 100, 101, 99, 100, timedelta(days=1))})
    again, _, _ = _session(
        db_path, broker=broker, account_key=session.account_key, take_profit_pct=8.0
    )
    [pair] = _exits(again)
    assert (pair.order_class, pair.qty) == (OrderClass.OCO, 120)
    assert LiveOrder.get(LiveOrder.client_order_id == first.client_order_id).status == "canceled"
    [event] = [e for e in again.startup_events if "protective stop for 100" in e.detail]
    assert event.action_taken.startswith("placed oco sell 120 SPY")


def test_the_kill_switch_keeps_the_pair_and_a_flatten_removes_it(db_path) -> None:
    """A plain kill leaves the pair working (it passes the halt); a flatten cancels it first,
    then closes the position."""
    session, market, _ = _entered(db_path)
    [pair] = _exits(session)
    session.request_kill("test")
    session.apply_kill_requests()
    _step(session, market, 100, 101, 99, 100)
    assert _exits(session) == [pair]
    session.request_kill("test", flatten=True)
    session.apply_kill_requests()
    assert _exits(session) == []
    _step(session, market, 100, 101, 99, 100)
    assert _held(session) == 0 and _exits(session) == []


def test_start_up_reports_the_pair_it_found_working(db_path) -> None:
    """A restart finds the pair working: reconciliation names both prices and keeps it."""
    session, _, _ = _entered(db_path)
    [pair] = _exits(session)
    simulate_death(session)
    again, _, _ = _session(
        db_path, broker=session.broker, account_key=session.account_key, take_profit_pct=8.0
    )
    assert _exits(again) == [pair]
    [event] = [e for e in again.startup_events if e.action_taken == "kept"]
    assert event.detail == (
        "protective stops working at the broker: sell 100 SPY take profit 108, stop 95 (OCO)"
    )
