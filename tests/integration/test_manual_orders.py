"""Orders placed by hand: the same risk gate and audit trail as the strategies' orders, acted on
by the session's own thread, with every refusal recorded."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.conftest import BuyAndHold, make_session
from tui_trader.brokers import BrokerError
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.orders import OrderStatus, OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import MANUAL_REFUSED, ManualOrder
from tui_trader.risk.gate import HALTED_ORDER, NO_SHORT, POSITION_SIZE, RiskLimits
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, RiskEventRow


class Flat:
    """A strategy that never wants a position: every order in these tests is a manual one."""

    name = "flat"

    def on_bar(self, bar: Bar) -> Signal:
        """Always 0."""
        return Signal(0.0, "flat")


def _session(db_path: Path, **kwargs):
    """A started local session with a flat strategy and one cycle behind it (prices known)."""
    session = make_session(db_path, strategies=[Flat()], **kwargs)
    session.run_iteration()
    return session


def test_a_manual_market_order_passes_the_gate_is_recorded_first_and_fills(db_path) -> None:
    """Between bars the request is acted on at once: its row says ``manual``, the report carries
    the acknowledgement, and the next bar fills it."""
    session = _session(db_path)
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=10))
    report = session.apply_kill_requests()
    assert report is not None
    [order] = report.orders
    assert (order.symbol, order.side, order.qty, order.status) == ("SPY", "buy", 10, "new")
    row = LiveOrder.get(LiveOrder.client_order_id == order.client_order_id)
    assert row.rationale.startswith("manual")
    assert report.orders_today == 1, "a manual order counts against the daily limit"
    session.run_iteration()
    assert session.broker.positions()["SPY"].qty == 10
    assert LiveOrder.get(LiveOrder.client_order_id == order.client_order_id).status == "filled"


def test_a_notional_ticket_buys_whole_shares_worth_at_most_the_amount(db_path) -> None:
    """$5,000 of QQQ at the last price: the whole shares that amount buys."""
    session = _session(db_path)
    price = session.last_prices["QQQ"]
    session.request_manual_order(ManualOrder("QQQ", Side.BUY, notional=5_000))
    [order] = session.apply_kill_requests().orders
    assert order.qty == math.floor(5_000 / price)


def test_the_position_limit_shrinks_a_manual_order_like_any_other(db_path) -> None:
    """A ticket far over 10% of equity is cut to the limit and the gate's reason is kept."""
    session = _session(db_path)
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=100_000))
    report = session.apply_kill_requests()
    [order] = report.orders
    price = session.last_prices["SPY"]
    assert order.qty * price <= 0.10 * report.equity + 1e-6
    assert [e.event_type for e in report.risk_events] == [POSITION_SIZE]
    row = LiveOrder.get(LiveOrder.client_order_id == order.client_order_id)
    assert "reduced from 100,000" in row.rationale


def test_a_manual_sell_of_more_than_is_held_is_refused_saying_short_selling_is_off(
    db_path,
) -> None:
    """No short selling: the gate refuses the sell in plain words (not "reduced ... by the
    position limit", then a broker rejection), nothing is sent, and the refusal is recorded."""
    session = _session(db_path)
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=1000))
    report = session.apply_kill_requests()
    assert report.orders == ()
    [event] = report.risk_events
    assert event.event_type == NO_SHORT
    assert event.action_taken == "refused sell 1,000 SPY: none held and short selling is off"
    assert RiskEventRow.get(RiskEventRow.event_type == NO_SHORT).action_taken == (
        event.action_taken
    )
    assert not LiveOrder.select().where(LiveOrder.side == "sell").exists()


def test_a_manual_sell_of_more_than_is_held_names_what_is_held(db_path) -> None:
    """Holding some shares, a sell of more is refused whole, naming the shares held (selling
    only those would surprise the trader who asked for more)."""
    session = make_session(db_path, strategies=[BuyAndHold()])
    session.run_iteration()
    session.run_iteration()
    held = session.broker.positions()["SPY"].qty
    assert held > 0 and not session.broker.open_orders()
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held + 1000))
    report = session.apply_kill_requests()
    assert report.orders == ()
    assert [e.action_taken for e in report.risk_events] == [
        f"refused sell {held + 1000:,g} SPY: only {held:,g} held and short selling is off"
    ]
    assert session.broker.positions()["SPY"].qty == held


def test_while_halted_a_buy_is_refused_and_a_closing_sell_passes(db_path) -> None:
    """The halt gate: no new exposure by hand either, but closing a position is allowed."""
    session = make_session(db_path, strategies=[BuyAndHold()], limits=RiskLimits())
    for _ in range(3):
        session.run_iteration()
    held = session.broker.positions()["SPY"].qty
    session.request_kill("user")
    session.apply_kill_requests()
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=1))
    report = session.apply_kill_requests()
    assert report.orders == ()
    assert [e.event_type for e in report.risk_events] == [HALTED_ORDER]
    assert RiskEventRow.select().where(RiskEventRow.event_type == HALTED_ORDER).count() == 1
    session.request_close("SPY")
    [order] = session.apply_kill_requests().orders
    assert (order.side, order.qty) == ("sell", held)
    assert LiveOrder.get(LiveOrder.client_order_id == order.client_order_id).rationale == (
        "manual: close position"
    )


def test_cancel_one_working_limit_order_and_refuse_an_unknown_one(db_path) -> None:
    """A GTC limit far below the market works until cancelled; a second cancel is refused."""
    session = _session(db_path)
    low = round(session.last_prices["IWM"] * 0.5, 2)
    session.request_manual_order(
        ManualOrder(
            "IWM",
            Side.BUY,
            qty=3,
            order_type=OrderType.LIMIT,
            limit_price=low,
            time_in_force=TimeInForce.GTC,
        )
    )
    [order] = session.apply_kill_requests().orders
    session.run_iteration()
    assert [o.client_order_id for o in session.broker.open_orders()] == [order.client_order_id]
    session.request_cancel(order.client_order_id)
    [cancelled] = session.apply_kill_requests().orders
    assert cancelled.status is OrderStatus.CANCELED
    assert session.broker.open_orders() == []
    assert LiveOrder.get(LiveOrder.client_order_id == order.client_order_id).status == "canceled"
    session.request_cancel(order.client_order_id)
    report = session.apply_kill_requests()
    assert [e.event_type for e in report.risk_events] == [MANUAL_REFUSED]
    assert RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_REFUSED).count() == 1


def test_flatten_all_cancels_working_orders_and_closes_every_position(db_path) -> None:
    """Flatten: the working orders go first (none may re-open), then a closing order per
    position; the next bar leaves the account flat, and trading is not halted."""
    session = make_session(db_path, strategies=[BuyAndHold()])
    for _ in range(3):
        session.run_iteration()
    positions = session.broker.positions()
    assert len(positions) == 3
    low = round(session.last_prices["SPY"] * 0.5, 2)
    session.request_manual_order(
        ManualOrder("SPY", Side.BUY, qty=1, order_type=OrderType.LIMIT, limit_price=low)
    )
    session.apply_kill_requests()
    session.request_close()
    report = session.apply_kill_requests()
    statuses = sorted((o.symbol, str(o.side), str(o.status)) for o in report.orders)
    assert statuses == [
        ("IWM", "sell", "new"),
        ("QQQ", "sell", "new"),
        ("SPY", "buy", "canceled"),
        ("SPY", "sell", "new"),
    ]
    assert not session.risk.state.halted
    session.broker.on_bars(session.market.next_bars())  # the fills come with the next bar
    assert session.broker.positions() == {}


def test_a_broker_doubt_on_a_manual_order_halts_trading(db_path) -> None:
    """An order whose fate is unknown halts trading, as for the strategies' orders; the row
    stays, marked unknown, and later requests in the queue are dropped (and said so)."""
    session = _session(db_path)

    def fail(request):
        raise BrokerError("connection reset")

    session.broker.submit = fail
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=1))
    session.request_manual_order(ManualOrder("QQQ", Side.BUY, qty=1))
    report = session.apply_kill_requests()
    assert session.risk.state.halted
    types = [e.event_type for e in report.risk_events]
    assert types == ["broker_error", MANUAL_REFUSED]
    assert LiveOrder.get(LiveOrder.symbol == "SPY").status == "unknown"
    assert not LiveOrder.select().where(LiveOrder.symbol == "QQQ").exists()


@pytest.mark.parametrize(
    ("ticket", "problem"),
    [
        (ManualOrder("SPY", Side.BUY), "quantity or a notional"),
        (ManualOrder("SPY", Side.BUY, qty=1, notional=100), "not both"),
        (ManualOrder("SPY", Side.BUY, qty=-1), "positive"),
        (ManualOrder("SPY", Side.BUY, qty=1, order_type=OrderType.LIMIT), "limit price"),
        (ManualOrder("SPY", Side.BUY, qty=1, limit_price=10), "no limit price"),
    ],
)
def test_an_unusable_ticket_is_refused_before_it_is_queued(db_path, ticket, problem) -> None:
    """The request itself raises with the reason; nothing reaches the session."""
    session = _session(db_path)
    with pytest.raises(ValueError, match=problem):
        session.request_manual_order(ticket)
    assert not session.manual_pending()


def test_a_symbol_outside_the_session_is_refused_and_recorded(db_path) -> None:
    """The desk trades its session's symbols only."""
    session = _session(db_path)
    session.request_manual_order(ManualOrder("TSLA", Side.BUY, qty=1))
    report = session.apply_kill_requests()
    assert report.orders == ()
    assert [e.event_type for e in report.risk_events] == [MANUAL_REFUSED]


def test_a_manual_order_takes_a_slot_of_the_accounts_shared_daily_count(db_path) -> None:
    """Another process takes the day's last order slot while the ticket waits to be acted on:
    the ticket is refused with the order rate limit, like a strategy's order, and nothing is
    sent. (Once the session's cycle has merged the account's row it holds the row's write lock
    until it commits, so another process can only take the slot before that:
    ``tests/integration/test_cycle_orders.py`` shows it waiting.)"""
    import sqlite3

    from tui_trader.risk.gate import ORDER_RATE
    from tui_trader.store.risk_store import reserve_order_slot

    session = _session(db_path, limits=RiskLimits(max_orders_per_day=1))
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=10))
    other = _OtherProcess(sqlite3.connect(db_path, isolation_level=None))
    state = session.risk.state
    assert reserve_order_slot(other, state.account_key, state.day, 1)[0]  # type: ignore[arg-type]
    other.conn.close()
    report = session.apply_kill_requests()
    assert report is not None and not report.orders
    assert ORDER_RATE in [e.event_type for e in report.risk_events]
    assert not LiveOrder.select().where(LiveOrder.rationale.startswith("manual")).exists()


class _OtherProcess:
    """Another process's connection to the same file, as ``risk_store`` calls it."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def raw(self, sql: str, params=()):
        """Run one statement (autocommit)."""
        return self.conn.execute(sql, params)


def test_a_manual_sell_stop_is_sent_as_a_stop_and_waits_above_its_price(db_path) -> None:
    """A stop ticket goes to the broker as a stop (its stop price in the order row's
    rationale) and stays working while the price stays above it."""
    session = make_session(db_path, strategies=[BuyAndHold()])
    session.run_iteration()
    session.run_iteration()
    held = session.broker.positions()["SPY"].qty
    stop = round(session.last_prices["SPY"] * 0.5, 2)  # far below: the seeded market stays above
    session.request_manual_order(
        ManualOrder(
            "SPY",
            Side.SELL,
            qty=1,
            order_type=OrderType.STOP,
            stop_price=stop,
            time_in_force=TimeInForce.GTC,
        )
    )
    [order] = session.apply_kill_requests().orders
    assert (order.order_type, order.stop_price, order.status) == (OrderType.STOP, stop, "new")
    row = LiveOrder.get(LiveOrder.client_order_id == order.client_order_id)
    assert row.order_type == "stop" and f"stop {stop:g}" in row.rationale
    for _ in range(3):
        session.run_iteration()
    assert session.broker.positions()["SPY"].qty == held
    assert session.broker.get_order(order.client_order_id).status == "new"


def test_an_order_still_working_when_a_local_session_ends_is_recorded_as_ended(db_path) -> None:
    """A local session's simulated account ends with it, and nothing can fill its working
    orders after: their rows say canceled and why, not ``new`` for ever in the history."""
    session = _session(db_path)
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=10))
    [order] = session.apply_kill_requests().orders
    session.finish("stopped")
    row = LiveOrder.get(LiveOrder.client_order_id == order.client_order_id)
    assert row.status == "canceled"
    assert "local session ended" in row.error
    assert row.filled_qty == 0


def test_between_bars_a_manual_order_kill_and_resume_carry_the_bar_time(db_path) -> None:
    """In a simulated session, what the desk does between bars is stamped with the session's
    latest bar, as the cycle stamps its own rows: History showed a manual order at today's date
    among the simulation's bars. The wall-clock ``timestamp`` of each row is kept."""
    from tui_trader.risk.gate import MANUAL_KILL, RESET
    from tui_trader.store.db import to_db_time

    session = _session(db_path)
    bar_time = to_db_time(session.market_time)
    assert bar_time is not None and bar_time.date() != session.clock.now().date()
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=10))
    [order] = session.apply_kill_requests().orders
    session.request_kill()
    session.apply_kill_requests()
    session.request_resume()
    session.apply_kill_requests()
    row = LiveOrder.get(LiveOrder.client_order_id == order.client_order_id)
    assert row.market_time == bar_time
    assert row.timestamp.date() == session.clock.now().date()
    stamped = {
        e.event_type: e.market_time
        for e in RiskEventRow.select().where(RiskEventRow.event_type.in_([MANUAL_KILL, RESET]))
    }
    assert stamped == {MANUAL_KILL: bar_time, RESET: bar_time}


def test_a_sell_of_shares_only_being_bought_is_refused_while_short_selling_is_off(
    db_path,
) -> None:
    """Nothing held, a buy of 10 still working (not filled): a sell of 10 is refused in plain
    words. Counting the working buy as held let it through, and had the buy then been
    cancelled the sell would have made a short."""
    session = _session(db_path)
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=10))
    [buy] = session.apply_kill_requests().orders
    assert buy.status == "new" and "SPY" not in session.broker.positions()
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=10))
    report = session.apply_kill_requests()
    assert report.orders == ()
    assert [e.action_taken for e in report.risk_events] == [
        "refused sell 10 SPY: none held and short selling is off"
    ]
    assert not LiveOrder.select().where(LiveOrder.side == "sell").exists()


def test_a_manual_buy_between_bars_is_refused_once_equity_is_past_the_drawdown(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """Alpaca: the market falls 15% while the desk waits for its next bar. The drawdown limit is
    checked each cycle, so the account is not halted yet; a manual buy pressed now reads the
    account as it is (past the limit) and is refused, saying why (before, it went out on the
    last cycle's word, adding exposure past the limit until the next bar halted the desk)."""
    from tests.integration.alpaca_helpers import alpaca_session

    limits = RiskLimits(max_drawdown_pct=2.0, max_daily_loss_pct=50.0, max_position_pct=50.0)
    session = alpaca_session(sandbox, tmp_path / "dd.db", symbols=("SPY",), limits=limits)
    try:
        sandbox.admin.step()
        session.run_iteration()  # a calm bar: the peak is the account's equity
        price = float(sandbox.admin.state()["prices"]["SPY"])
        qty = math.floor(0.2 * session.last_account.equity / price)
        session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=qty))
        [held] = session.apply_kill_requests().orders
        assert held.status is not OrderStatus.REJECTED
        sandbox.admin.step(shock={"SPY": -15.0})  # the next bar, not yet seen by the desk
        session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=1))
        report = session.apply_kill_requests()
        assert not report.orders, "no order goes out past the drawdown limit"
        [refused] = [e for e in report.risk_events if e.event_type == MANUAL_REFUSED]
        assert "past its max drawdown" in refused.action_taken
        assert session.run_iteration().state.value == "halted"  # the next cycle halts
        session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=qty))  # shrinks: goes
        assert [o.side for o in session.apply_kill_requests().orders] == [Side.SELL]
    finally:
        session.broker.close()
