"""Whole local sessions: risk halts, the audit trail's promises, and accounting that adds up."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import BuyAndHold, make_session
from tui_trader.brokers import BrokerError
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.clock import WallClock
from tui_trader.core.domain import TradingState
from tui_trader.core.orders import OrderRequest, OrderStatus
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.sim import SimMarket
from tui_trader.risk.gate import DRAWDOWN, MANUAL_KILL, RiskLimits
from tui_trader.session.runner import SessionRunner
from tui_trader.store.models import (
    AccountSnapshot,
    HaltRequest,
    LiveFill,
    LiveOrder,
    LiveTrade,
    RiskEventRow,
)


def crash_market(seed: int = 4) -> SimMarket:
    """60 warm-up days and 30 trading days of bull market, then a crash."""
    return SimMarket(
        ("SPY", "QQQ", "IWM"),
        parse_interval("1d"),
        parse_period("60d"),
        seed=seed,
        schedule=[("bull", 90), ("crash", 40)],
    )


def test_a_crash_trips_the_drawdown_kill_switch_and_no_order_follows(db_path: Path) -> None:
    """In a staged crash the session halts at 5% drawdown; after the halt no order is sent."""
    session = make_session(
        db_path,
        crash_market(),
        RiskLimits(max_daily_loss_pct=50.0, max_position_pct=40.0),
        allocation_pct=33.0,
        strategies=[BuyAndHold()],
    )
    reports = [session.run_iteration() for _ in range(70)]
    halts = [r for r in reports if any(e.event_type == DRAWDOWN for e in r.risk_events)]
    assert len(halts) == 1, "the kill switch trips exactly once"
    halt = halts[0]
    assert halt.drawdown_pct >= 5.0
    before = [r for r in reports if r.iteration < halt.iteration]
    assert all(r.drawdown_pct < 5.0 for r in before), "it does not trip before the limit"
    assert all(r.state is TradingState.HALTED for r in reports[halt.iteration - 1 :])
    assert sum(r.orders_sent for r in reports[halt.iteration - 1 :]) == 0
    assert not LiveOrder.select().where(LiveOrder.iteration > halt.iteration).exists()
    row = RiskEventRow.get(RiskEventRow.event_type == DRAWDOWN)
    assert row.limit == 5.0 and row.value >= 5.0
    assert "halted trading until reset" in row.action_taken
    assert "cancelled" in row.action_taken


def test_flatten_on_halt_closes_every_position(db_path: Path) -> None:
    """With --flatten-on-halt the halt sends closing orders and the book ends flat."""
    session = make_session(
        db_path,
        crash_market(),
        RiskLimits(max_daily_loss_pct=50.0, max_position_pct=40.0),
        allocation_pct=33.0,
        flatten_on_halt=True,
        strategies=[BuyAndHold()],
    )
    for _ in range(70):
        session.run_iteration()
    assert session.risk.state.halted
    assert session.broker.positions() == {}
    flat = LiveOrder.select().where(LiveOrder.rationale.contains("flatten on halt"))
    assert flat.count() >= 1 and all(o.status == "filled" for o in flat)


class _CheckingBroker(PaperBroker):
    """A paper broker that, at each submit, looks for the order's row from another connection."""

    def __init__(self, db_path: Path, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.db_path = db_path
        self.seen: list[str] = []

    def submit(self, request: OrderRequest):
        with sqlite3.connect(self.db_path) as other:
            row = other.execute(
                "SELECT status FROM live_orders WHERE client_order_id = ?",
                (request.client_order_id,),
            ).fetchone()
        self.seen.append(row[0] if row else "missing")
        return super().submit(request)


def test_order_rows_are_committed_before_orders_are_sent(db_path: Path) -> None:
    """On the commit-before-send path, another reader sees pending_new before the broker acts."""
    market = SimMarket(("SPY", "QQQ", "IWM"), parse_interval("1d"), parse_period("60d"), seed=7)
    broker = _CheckingBroker(db_path, 100_000.0, market.symbols, PaperCosts())
    session = make_session(db_path, market, broker=broker, commit_before_send=True)
    for _ in range(40):
        session.run_iteration()
    assert broker.seen, "the session sent orders"
    assert set(broker.seen) == {"pending_new"}
    assert not LiveOrder.select().where(LiveOrder.status == "pending_new").exists()


class _FailingBroker(PaperBroker):
    """A broker whose submit fails as a lost connection would."""

    def submit(self, request: OrderRequest):
        raise BrokerError("connection reset while sending the order")


def test_an_order_in_doubt_halts_trading_and_stays_audited(db_path: Path) -> None:
    """A broker error on submit leaves an 'unknown' row and halts: no further orders."""
    market = SimMarket(("SPY", "QQQ", "IWM"), parse_interval("1d"), parse_period("60d"), seed=7)
    broker = _FailingBroker(100_000.0, market.symbols, PaperCosts())
    session = make_session(db_path, market, broker=broker)
    for _ in range(40):
        session.run_iteration()
    unknown = list(LiveOrder.select().where(LiveOrder.status == "unknown"))
    assert len(unknown) == 1
    assert "connection reset" in unknown[0].error
    assert session.risk.state.halted and session.risk.state.halt_reason == "broker_error"


def test_the_phase_4_queries_return_the_sessions_numbers(db_path: Path) -> None:
    """Both documented queries, verbatim, on the file the program wrote."""
    session = make_session(db_path, clock=WallClock())
    for _ in range(200):
        session.run_iteration()
    trades = list(LiveTrade.select())
    assert len(trades) >= 3, "the session closed some round trips"
    old = datetime.now(UTC) - timedelta(days=3)
    LiveTrade.create(
        symbol="SPY",
        side="buy",
        quantity=1,
        entry_price=1,
        exit_price=2,
        pnl=1000.0,
        pnl_pct=100.0,
        timestamp=old.replace(tzinfo=None),
        commission=0,
        slippage=0,
    )
    with sqlite3.connect(db_path) as con:
        recent = con.execute(
            "SELECT * FROM live_trades WHERE timestamp >= datetime('now', '-1 day');"
        ).fetchall()
        (daily,) = con.execute(
            "SELECT SUM(pnl) as daily_pnl FROM live_trades WHERE date(timestamp) = date('now');"
        ).fetchone()
        view = con.execute("SELECT count(*) FROM live_risks_events").fetchone()[0]
    assert len(recent) == len(trades)
    assert daily == pytest.approx(session.realized_pnl, abs=0.01)
    assert view == RiskEventRow.select().count()


def test_cash_and_positions_reconcile_with_the_recorded_fills(db_path: Path) -> None:
    """Cash = start - sum of signed fill values and commissions; positions = sum of fills."""
    session = make_session(db_path)
    for _ in range(200):
        session.run_iteration()
    fills = list(LiveFill.select())
    assert len(fills) >= 6
    sign = {"buy": 1, "sell": -1}
    cash = 100_000 - sum(sign[f.side] * f.quantity * f.price + f.commission for f in fills)
    assert session.broker.account().cash == pytest.approx(cash, abs=1e-6)
    held: dict[str, float] = {}
    for f in fills:
        held[f.symbol] = held.get(f.symbol, 0) + sign[f.side] * f.quantity
    positions = {s: p.qty for s, p in session.broker.positions().items()}
    assert positions == {s: q for s, q in held.items() if q}
    last = AccountSnapshot.select().order_by(AccountSnapshot.id.desc()).first()
    assert last.cash == pytest.approx(cash, abs=0.01)
    realized = sum(t.pnl for t in LiveTrade.select())
    assert realized == pytest.approx(session.realized_pnl, abs=0.01)


def test_every_order_row_says_why(db_path: Path) -> None:
    """Each order carries the strategy, the signal and the target behind it."""
    session = make_session(db_path)
    for _ in range(100):
        session.run_iteration()
    orders = list(LiveOrder.select())
    assert orders
    for order in orders:
        assert "trend" in order.rationale and "SMA10" in order.rationale
        assert order.market_time is not None and order.timestamp is not None


def test_risk_state_of_a_persistent_account_survives_a_restart(db_path: Path) -> None:
    """An account halted by the kill switch is still halted in the next process."""
    first = make_session(db_path, account_key="alpaca:PA123")
    first.run_iteration()
    first.request_kill(who="test")
    first.run_iteration()
    first.finish("stopped")
    assert RiskEventRow.get(RiskEventRow.event_type == MANUAL_KILL).account_key == "alpaca:PA123"
    second = make_session(db_path, account_key="alpaca:PA123")
    assert second.risk.state.halted and second.risk.state.halt_reason == MANUAL_KILL
    before = LiveOrder.select().count()
    for _ in range(50):
        second.run_iteration()
    assert LiveOrder.select().count() == before


def test_a_local_session_starts_with_a_fresh_account(db_path: Path) -> None:
    """A halt in one local session does not carry into the next one (a new account)."""
    first = make_session(db_path)
    first.request_kill(who="test")
    first.run_iteration()
    assert first.risk.state.halted
    assert not make_session(db_path).risk.state.halted


def test_a_halt_request_row_from_another_process_halts_the_session(db_path: Path) -> None:
    """The monitor's kill switch writes a row; the session acts on it at its next cycle."""
    session = make_session(db_path)
    session.run_iteration()
    HaltRequest.create(
        session=session.audit.session.id,
        timestamp=datetime.now(UTC).replace(tzinfo=None),
        requested_by="monitor",
        reason="test",
    )
    report = session.run_iteration()
    assert report.state is TradingState.HALTED
    assert [e.event_type for e in report.risk_events] == [MANUAL_KILL]
    assert HaltRequest.get().handled_at is not None


def test_runner_stops_at_the_iteration_count_and_records_the_end(db_path: Path) -> None:
    """--iterations N runs exactly N cycles and closes the session row."""
    session = make_session(db_path)
    lines: list[str] = []
    result = SessionRunner(session, 12, on_report=lambda r: lines.append(r.line())).run()
    assert result.status == "completed" and len(lines) == 12
    assert lines[0].startswith("iter=1 cash=100,000.00 equity=")
    assert session.audit.session.__class__.get_by_id(session.audit.session.id).status == "completed"


def test_a_kill_pressed_as_a_cycle_ends_acts_at_once_not_an_interval_later(
    db_path: Path,
) -> None:
    """The kill switch, pressed after a cycle's orders but before the wait, halts at once.

    The runner cleared its wake event as the wait began, so a request made in between was
    lost: the halt came a whole ``--every`` later (the injected clock shows when)."""
    session = make_session(db_path)
    pressed: list[datetime] = []

    def press_once(report: object) -> None:
        if not pressed:
            pressed.append(session.clock.now())
            session.request_kill("user")

    SessionRunner(session, 2, every=600, on_report=press_once).run()
    kill = RiskEventRow.get(RiskEventRow.event_type == MANUAL_KILL)
    assert kill.market_time - pressed[0].replace(tzinfo=None) < timedelta(seconds=60)


def test_rejected_orders_are_recorded_with_the_reason(db_path: Path) -> None:
    """An order the broker rejects keeps its row, status rejected, and the broker's reason."""
    market = SimMarket(("SPY", "QQQ", "IWM"), parse_interval("1d"), parse_period("60d"), seed=7)
    broker = PaperBroker(100_000.0, ("SPY", "QQQ"), PaperCosts())
    session = make_session(db_path, market, broker=broker, strategies=[BuyAndHold()])
    report = session.run_iteration()
    assert report.orders_sent == 2 and report.orders_refused == 1
    assert any("unknown symbol IWM" in note for note in report.notes)
    rejected = LiveOrder.get(LiveOrder.status == str(OrderStatus.REJECTED))
    assert rejected.symbol == "IWM" and "unknown symbol IWM" in rejected.error


def test_the_daily_loss_window_follows_the_sessions_calendar(db_path: Path) -> None:
    """With the exchange calendar, a Monday 02:00 New York bar still belongs to Friday's
    session (no reset of the day's opening equity), and 04:00 pre-market opens Monday's."""
    from datetime import date

    from tui_trader.market import calendar

    def bars_at(*stamps: str) -> list[str]:
        rows = ["timestamp,symbol,open,high,low,close,volume"]
        for i, stamp in enumerate(stamps):
            px = 100 + i
            rows.append(f"{stamp},SPY,{px},{px + 1},{px - 1},{px},100")
        return rows

    path = db_path.parent / "bars.csv"
    path.write_text(
        "\n".join(
            bars_at(
                "2025-11-20T15:00:00-05:00",
                "2025-11-21T15:00:00-05:00",
                "2025-11-24T02:00:00-05:00",
                "2025-11-24T04:30:00-05:00",
            )
        )
        + "\n"
    )
    from tui_trader.market.replay import ReplayMarket

    market = ReplayMarket.from_file(path, None, parse_interval("1d"), parse_period("1d"))
    session = make_session(db_path, market, symbols=("SPY",), session_day=calendar.session_day)
    days = []
    while session.run_iteration() is not None:
        days.append(session.risk.state.day)
    assert days == [date(2025, 11, 21), date(2025, 11, 21), date(2025, 11, 24)]


def test_with_many_symbols_the_default_settings_still_open_positions(db_path: Path) -> None:
    """100 symbols make each full position 1% of equity; the minimum trade is counted against
    that position, so a buy-and-hold book is built rather than every entry being skipped."""
    symbols = tuple(f"S{i:03d}" for i in range(100))
    market = SimMarket(symbols, parse_interval("1d"), parse_period("5d"), seed=3)
    session = make_session(db_path, market, symbols=symbols, strategies=[BuyAndHold()])
    session.run_iteration()
    session.run_iteration()
    held = session.broker.positions()
    assert len(held) >= 90, f"only {len(held)} of 100 symbols bought"
