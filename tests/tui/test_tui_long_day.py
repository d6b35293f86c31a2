"""A desk left running all week holds a bounded model, however many bars, orders and notes.

Five days of one-minute bars at 50 symbols (1,950 reports), each with orders that open and
close, a fill, a risk event and a note: the dashboard's model keeps only its capped histories.
Measured on the real desk (``run_test``, 1,950 cycles of 50 symbols) its memory levels off the
same way (README: Performance, "A week at the desk"). Counts of held items, never wall time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui_trader.core.domain import IterationReport, RiskEvent, TradingState
from tui_trader.core.orders import Fill, Order, OrderStatus, OrderType, Side
from tui_trader.tui.state import HISTORY_POINTS, RECENT_ROWS, DeskState, SessionInfo

SYMBOLS = tuple(f"S{i:02d}" for i in range(50))
INFO = SessionInfo("k1", "local", "local paper broker", SYMBOLS, 1e5, 5.0, 2.0, 100, False)
DAYS = 5
BARS = 390
MONDAY_OPEN = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


def _report(n: int, when: datetime) -> IterationReport:
    """Bar ``n``: prices for every symbol, one order sent and the previous one filled."""
    symbol = SYMBOLS[n % len(SYMBOLS)]
    sent = Order(f"o-{n}", symbol, Side.BUY, 1.0, OrderType.MARKET, OrderStatus.NEW)
    filled = Order(f"o-{n - 1}", symbol, Side.BUY, 1.0, OrderType.MARKET, OrderStatus.FILLED)
    return IterationReport(
        n, when, 1e5, 1e5 + n, 1e5, 1, 1, 0, TradingState.ACTIVE, 0.0, 0.0,
        prices={s: 100.0 + n / 100 for s in SYMBOLS},
        risk_events=(RiskEvent("order_rate_limit", 100, 100, "refused", symbol),),
        notes=(f"broker not ready at bar {n}",),
        orders=(sent, filled) if n else (sent,),
        new_fills=(Fill(f"o-{n - 1}", symbol, Side.BUY, 1.0, 100.0, when),) if n else (),
    )  # fmt: skip


def test_a_week_of_bars_leaves_the_desks_model_at_its_caps() -> None:
    """Every report is counted; what is held stays at the caps; no finished order is held as
    working."""
    desk = DeskState()
    desk.start(INFO)
    n = 0
    for day in range(DAYS):
        for minute in range(BARS):
            desk.apply(_report(n, MONDAY_OPEN + timedelta(days=day, minutes=minute)), MONDAY_OPEN)
            n += 1
    assert desk.reports_applied == DAYS * BARS
    assert desk.events_seen == 2 * DAYS * BARS  # every event and note was seen ...
    assert len(desk.events) == RECENT_ROWS  # ... and only the newest are held
    assert len(desk.activity) == RECENT_ROWS
    assert len(desk.equity) == len(desk.equity_times) == len(desk.drawdown) == HISTORY_POINTS
    assert set(desk.prices) == set(SYMBOLS)
    assert all(len(series) == HISTORY_POINTS for series in desk.prices.values())
    assert list(desk.working) == [f"o-{n - 1}"]  # the last one sent; the filled ones dropped
