"""An Alpaca session on daily bars counts each bar to its own trading day.

Alpaca stamps a daily bar at midnight New York time; the exchange calendar counts midnight to the
previous session (a session lasts from its 04:00 pre-market to the next one's). Taken as it came,
Friday's bar was Thursday's for the risk state: the new day's daily-loss window and order count
never began on Friday, so a daily-loss halt of Thursday's ("until the next trading day") held all
Friday, and Friday's losses were measured from Thursday's opening equity. The bar is now stamped
at its session's open, as the desk's other daily bars are.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.test_market_closed import FakeClock
from tui_trader.core.domain import TradingState
from tui_trader.core.timeframes import NEW_YORK
from tui_trader.risk.state import DAILY_LOSS, DAY_RESET, RiskState
from tui_trader.sandbox.shapes import ACCOUNT_NUMBER
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.db import open_database
from tui_trader.store.risk_store import read_risk_state, sync_risk_state

ACCOUNT = f"alpaca:{ACCOUNT_NUMBER}"
THURSDAY, FRIDAY = date(2026, 12, 3), date(2026, 12, 4)


def test_fridays_daily_bar_begins_friday_and_ends_thursdays_daily_loss_halt(
    tmp_path: Path,
) -> None:
    """Thursday a session on the account halted for its daily loss (as a minute-bar desk
    would). Friday's first daily bar begins Friday: the halt ends with its day, the day's
    order count starts again, and the account's row says Friday."""
    db = tmp_path / "daily.db"
    store = open_database(db)
    halted = RiskState(
        ACCOUNT,
        TradingState.HALTED,
        peak_equity=100_000.0,
        day=THURSDAY,
        day_open_equity=100_000.0,
        last_equity=100_000.0,
        orders_today=7,
        halt_reason=DAILY_LOSS,
        halt_detail="equity 97,900.00 is 2.10% below today's open 100,000.00",
    )
    sync_risk_state(store, None, halted)
    store.close()
    clock = FakeClock(datetime(2026, 12, 3, 23, 58, 30, tzinfo=NEW_YORK))  # Thursday night
    with running_sandbox(now=clock, symbols=("SPY",)) as sb:
        session = alpaca_session(
            sb, db, interval="1d", period="30d", symbols=("SPY",), require_open_market=False
        )
        try:
            assert session.risk.state.halted and session.risk.state.day == THURSDAY
            sb.admin.step(3)  # 23:58, 23:59 and Friday's first minute: Friday's daily bar
            report = session.run_iteration()
            assert report is not None
            assert session.market_time is not None
            assert session.market_time.astimezone(NEW_YORK).date() == FRIDAY
            assert report.state is TradingState.ACTIVE, report.risk_events
            (reset,) = [e for e in report.risk_events if e.event_type == DAY_RESET]
            assert "new trading day 2026-12-04" in reset.action_taken
        finally:
            session.broker.close()
        row = read_risk_state(session.audit.db, ACCOUNT)
        assert row is not None
        assert row.day == FRIDAY and not row.halted
        assert row.orders_today == report.orders_sent
