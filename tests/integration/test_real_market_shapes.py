"""Sessions on data shaped like real markets' files rather than the simulator's: daily bars
stamped at midnight (backtesting.py's GOOG, Yahoo's downloads), where every bar begins a new
trading day."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BuyAndHold, make_session
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.replay import ReplayMarket
from tui_trader.risk.gate import DAILY_LOSS, RiskLimits


def daily_file(folder: Path, closes: list[float], symbol: str = "GOOG") -> Path:
    """A one-symbol daily CSV, one bar a weekday from Monday 2024-03-04, each stamped at
    midnight (naive: UTC) as real daily files are, opening where it closes."""
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    for i, close in enumerate(closes):
        day = 4 + i + 2 * (i // 5)  # weekdays only
        rows.append(f"2024-03-{day:02d},{symbol},{close},{close},{close},{close},1000")
    path = folder / "daily.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_daily_loss_halt_on_a_daily_bar_holds_for_that_bar(db_path: Path) -> None:
    """Each daily bar is a new day, so a daily-loss halt is tripped on the first cycle of its
    day. The halt stands through that cycle: no order adds to the losing position. Before, the
    store's merge took the session's own new halt for the previous day's and lifted it in the
    same cycle ("lifted by another process (risk reset)"), and the buy went out: on GOOG's
    daily file with a 0.1% limit, 15 of the 35 bars that halted in 300 cycles still sent one."""
    path = daily_file(db_path.parent, [100.0, 100.0, 100.0, 100.0, 80.0, 80.0])
    market = ReplayMarket.from_file(path, None, parse_interval("1d"), parse_period("1d"))
    limits = RiskLimits(max_daily_loss_pct=2.0, max_drawdown_pct=50.0, max_position_pct=50.0)
    session = make_session(db_path, market, limits, allocation_pct=50.0, strategies=[BuyAndHold()])
    reports = []
    while (report := session.run_iteration()) is not None:
        reports.append(report)
    halt = next(r for r in reports if any(e.event_type == DAILY_LOSS for e in r.risk_events))
    assert halt.orders_sent == 0, "an order went out on the bar that halted trading"
    assert [e.event_type for e in halt.risk_events if e.event_type != DAILY_LOSS] == []
    later = reports[reports.index(halt) + 1]
    assert any("new trading day" in e.action_taken for e in later.risk_events)


def test_a_share_dearer_than_the_position_is_said_once_not_silently_skipped(
    db_path: Path,
) -> None:
    """Bitcoin-like prices (60,000 a share) against a 10,000 full position (10% of 100,000):
    with whole shares no order can go out. The session says why, once, with the figures and
    the way out; before, it ran to its end with no order and not a word (2,088 cycles of a
    GOOG file scaled to BTC's prices: 0 orders, 0 notes)."""
    path = daily_file(db_path.parent, [60_000.0] * 8, symbol="BTC")
    market = ReplayMarket.from_file(path, None, parse_interval("1d"), parse_period("1d"))
    session = make_session(db_path, market, strategies=[BuyAndHold()])
    notes: list[str] = []
    sent = 0
    while (report := session.run_iteration()) is not None:
        notes.extend(report.notes)
        sent += report.orders_sent
    assert sent == 0
    said = [n for n in notes if "less than one whole share" in n]
    assert len(said) == 1, notes
    assert said[0].startswith("BTC:") and "60,000.00" in said[0] and "--fractional" in said[0]
