"""Sessions on data shaped like real markets' files rather than the simulator's: daily bars
stamped at midnight (backtesting.py's GOOG, Yahoo's downloads), where every bar begins a new
trading day."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from tests.conftest import BuyAndHold, make_session
from tests.integration.cli_helpers import run_cli
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.timeframes import NEW_YORK, parse_interval, parse_period
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


class InAndOut:
    """A test strategy that is fully long on every other bar and flat between: a trade a pair."""

    name = "flip"

    def __init__(self) -> None:
        self.bars = 0

    def on_bar(self, bar: Bar) -> Signal:
        """+1 on odd bars, 0 on even ones."""
        self.bars += 1
        return Signal(float(self.bars % 2), "in and out")


def test_history_shows_a_currency_pairs_prices_to_four_decimals(
    db_path: Path, tmp_path: Path
) -> None:
    """EURUSD at 1.1923 in and 1.1926 out: ``history`` showed both as 1.19 (and ``status``
    its price the same way), so a losing trade looked like a flat one. Prices under 10 are
    shown to four decimals."""
    closes = [1.1000, 1.1000, 1.1923, 1.1926, 1.1911, 1.1987, 1.1902, 1.1955]
    path = daily_file(db_path.parent, closes, symbol="EURUSD")
    market = ReplayMarket.from_file(path, None, parse_interval("1d"), parse_period("1d"))
    session = make_session(db_path, market, allocation_pct=10.0, strategies=[InAndOut()])
    while session.run_iteration() is not None:
        pass
    session.finish("end_of_data")
    out = run_cli(tmp_path, "history", "--db", str(db_path)).stdout
    rows = [line for line in out.splitlines() if "EURUSD" in line and re.match(r"^\s*\d+\s", line)]
    assert rows, out
    for line in rows:
        prices = re.findall(r"\s(1\.\d+)\s", line)
        assert len(prices) == 2 and all(len(p) == 6 for p in prices), line


def test_a_dated_daily_bar_is_its_own_trading_day(db_path: Path) -> None:
    """A daily file writes dates; read as midnight UTC they were the evening before in New York,
    where trading days are counted, so each bar's trading day was the day before its own:
    Monday 11 March's bar counted as Sunday the 10th (in the new-day event, ``risk show`` and
    the daily-loss window). Each dated bar is now its day's session, at 09:30 New York."""
    closes = [100.0, 101.0, 102.0, 101.0, 100.0, 99.0, 98.0]  # Mon 4 .. Fri 8, Mon 11, Tue 12
    path = daily_file(db_path.parent, closes)
    notes: list[str] = []
    market = ReplayMarket.from_file(
        path, None, parse_interval("1d"), parse_period("1d"), report=notes.append
    )
    session = make_session(db_path, market, strategies=[BuyAndHold()])
    days = []
    while (report := session.run_iteration()) is not None:
        days.append(session.risk.state.day)
        assert report.market_time.astimezone(NEW_YORK).date() == days[-1]
    assert [d.day for d in days] == [5, 6, 7, 8, 11, 12]  # after the first bar's warm-up
    assert any("09:30 New York" in note for note in notes)


def test_paper_says_what_the_warm_up_of_round_the_clock_bars_covered(tmp_path: Path) -> None:
    """``--period`` counts US trading sessions (a 1h session is 7 bars): 5d of a currency
    pair's hourly bars, which run day and night and on Sunday, is 35 bars, a day and a half.
    The header said only "warm-up 5d"; it now says how many bars and up to when."""
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    for hour in range(60):  # from Sunday 3 March 2024, 00:00 UTC, every hour
        px = 1.1 + 0.001 * (hour % 7)
        stamp = f"2024-03-{3 + hour // 24:02d}T{hour % 24:02d}:00:00"
        rows.append(f"{stamp},EURUSD,{px},{px},{px},{px},10")
    path = tmp_path / "eurusd.csv"
    path.write_text("\n".join(rows) + "\n")
    done = run_cli(
        tmp_path, "paper", "--data", f"replay:{path}", "--interval", "1h", "--period", "5d",
        "--iterations", "2", "--db", str(tmp_path / "fx.db"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "warm-up 5d (35 1h bars, to 2024-03-04 10:00 UTC)" in done.stdout


def test_a_batch_replay_that_never_traded_says_why_in_its_closing_lines(tmp_path: Path) -> None:
    """``paper --batch`` prints no line per cycle, so the note that a share (bitcoin at 60,000
    and rising) costs more than a full position (10,000) was said nowhere: the batch ended with
    0 trades and no reason. Its closing lines now carry the notes its cycles said, once."""
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    price, day = 60_000.0, date(2024, 1, 1)
    while len(rows) <= 60:  # 60 weekdays from Monday 1 January 2024, rising 0.5% a day
        if day.weekday() < 5:
            rows.append(f"{day},BTC,{price},{price * 1.01},{price * 0.99},{price},1000")
            price *= 1.005
        day += timedelta(days=1)
    path = tmp_path / "btc.csv"
    path.write_text("\n".join(rows) + "\n")
    done = run_cli(
        tmp_path, "paper", "--data", f"replay:{path}", "--period", "5d", "--iterations", "0",
        "--batch", "--weights", "trend", "--db", str(tmp_path / "btc.db"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    end = next(i for i, line in enumerate(lines) if "Session end_of_data" in line)
    said = [line for line in lines[:end] if "less than one whole share" in line]
    assert len(said) == 1, done.stdout
    assert said[0].startswith("note: BTC: one share at") and "--fractional" in said[0]
    assert lines.index(said[0]) > next(i for i, line in enumerate(lines) if "Batch" in line)


def test_status_does_not_label_a_replayed_bar_with_us_market_hours(tmp_path: Path) -> None:
    """``status`` labelled a replayed currency pair's last snapshot "session OPEN" (or AFTER,
    CLOSED) from the US stock calendar; a replay's bars keep their own hours: it says so."""
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    for hour in range(60):  # from Sunday 3 March 2024, 00:00 UTC, every hour
        px = 1.1 + 0.001 * (hour % 7)
        stamp = f"2024-03-{3 + hour // 24:02d}T{hour % 24:02d}:00:00"
        rows.append(f"{stamp},EURUSD,{px},{px},{px},{px},10")
    path = tmp_path / "eurusd.csv"
    path.write_text("\n".join(rows) + "\n")
    db = tmp_path / "fx.db"
    done = run_cli(
        tmp_path, "paper", "--data", f"replay:{path}", "--interval", "1h", "--period", "5d",
        "--iterations", "5", "--db", str(db),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    status = run_cli(tmp_path, "status", "--db", str(db)).stdout.replace("\n", " ")
    assert "market time 2024-03-04 15:00:00, a replayed bar)" in status, status
    assert "session OPEN" not in status
