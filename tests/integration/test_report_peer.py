"""The report's figures agree with backtesting.py's on the same trades (GOOG daily).

Our engine replays backtesting.py's GOOG daily sample (read from the installed package, as
data) with the trend strategy, no costs and no limits in the way; backtesting.py then makes the
very same trades (a strategy that places, one bar ahead, each order our session filled) and its
stats are compared with ``tui-trader report``'s figures field by field, to the precision
backtesting.py prints. Where the definitions differ (Sharpe's annualization, exposure's opening
bar, profit factor in percent) the comparison uses ``PeerFigures``, our documented
backtesting.py mode; docs/reports.md says how the two differ.
"""

from __future__ import annotations

import importlib.resources
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from tui_trader.cli import main
from tui_trader.reporting.load import session_report
from tui_trader.store.db import open_database
from tui_trader.store.models import LiveFill
from tui_trader.store.queries import find_session


def _goog_replay(tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    """backtesting.py's GOOG daily bars as a replay file of ours."""
    source = importlib.resources.files("backtesting") / "test" / "GOOG.csv"
    with importlib.resources.as_file(source) as path:
        frame = pl.read_csv(path)
    frame = frame.rename(
        {"": "timestamp", "Open": "open", "High": "high", "Low": "low", "Close": "close"}
    ).rename({"Volume": "volume"})
    frame = frame.with_columns(pl.lit("GOOG").alias("symbol"))
    out = tmp_path / "goog.csv"
    frame.select("timestamp", "symbol", "open", "high", "low", "close", "volume").write_csv(out)
    return out, frame


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory):
    """Our session on GOOG daily: its report and its fills (market date -> signed quantity)."""
    tmp = tmp_path_factory.mktemp("goog")
    replay, frame = _goog_replay(tmp)
    db = tmp / "goog.db"
    code = main(
        [
            "paper", "--data", f"replay:{replay}", "--iterations", "0", "--batch",
            "--weights", "trend", "--commit-every", "50", "--period", "1d",
            "--start-cash", "10000", "--slippage-bps", "0", "--commission-per-share", "0",
            "--commission-min", "0", "--max-position", "100", "--allocation", "100",
            "--max-drawdown", "100", "--max-daily-loss", "100", "--db", str(db),
        ]
    )  # fmt: skip
    assert code == 0
    open_database(db)
    session = find_session(None)
    report = session_report(session)
    fills: dict[str, float] = {}
    for fill in LiveFill.select().where(LiveFill.session == session.id):
        day = str(fill.market_time)[:10]
        fills[day] = fills.get(day, 0.0) + (fill.quantity if fill.side == "buy" else -fill.quantity)
    return report, fills, frame


def _peer_stats(frame: pl.DataFrame, fills: dict[str, float], cash: float):
    """backtesting.py's stats for the same trades, on the bars from the one before our first
    decision (the account's opening bar, equity = cash) to the end."""
    import pandas as pd
    from backtesting import Backtest, Strategy

    data = pd.DataFrame(
        {
            "Open": frame["open"].to_list(),
            "High": frame["high"].to_list(),
            "Low": frame["low"].to_list(),
            "Close": frame["close"].to_list(),
            "Volume": frame["volume"].to_list(),
        },
        index=pd.to_datetime(frame["timestamp"].to_list()),
    )
    days = [d.strftime("%Y-%m-%d") for d in data.index]
    orders = {days[i - 1]: qty for i, day in enumerate(days) if (qty := fills.get(day)) and i}

    class SameTrades(Strategy):
        """Send, one bar ahead, each order our session filled (it fills at the next open)."""

        def init(self) -> None:
            """Nothing to compute: the trades are given."""

        def next(self) -> None:
            """Place the order our session filled at the next bar's open."""
            qty = orders.get(self.data.index[-1].strftime("%Y-%m-%d"))
            if qty and qty > 0:
                self.buy(size=int(qty))
            elif qty:
                self.sell(size=int(-qty))

    bt = Backtest(data, SameTrades, cash=cash, commission=0.0, finalize_trades=False)
    return bt.run()


@pytest.mark.filterwarnings("ignore:Some trades remain open")  # ours too: not a trade yet
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore:.*dayofweek")
def test_report_agrees_with_backtesting_py_on_goog_daily(ours) -> None:
    """Return, Sharpe, max drawdown, win rate, profit factor, # trades and exposure agree."""
    report, fills, frame = ours
    stats = _peer_stats(frame, fills, 10_000.0)
    assert report.trades == 33 == int(stats["# Trades"])
    assert report.end_equity == pytest.approx(82_702.73, abs=0.005)
    assert report.end_equity == pytest.approx(float(stats["Equity Final [$]"]), abs=0.005)
    # Same definitions: same figures (backtesting.py prints 2 to 6 significant decimals).
    assert report.return_pct == pytest.approx(float(stats["Return [%]"]), abs=1e-6)
    assert report.max_drawdown_pct == pytest.approx(-float(stats["Max. Drawdown [%]"]), abs=1e-6)
    assert report.win_rate_pct == pytest.approx(float(stats["Win Rate [%]"]), abs=1e-6)
    # backtesting.py's definitions, in our peer mode (docs/reports.md: how they differ).
    peer = report.peer
    assert peer.sharpe == pytest.approx(float(stats["Sharpe Ratio"]), abs=1e-6)
    assert peer.return_ann_pct == pytest.approx(float(stats["Return (Ann.) [%]"]), abs=1e-6)
    assert peer.volatility_ann_pct == pytest.approx(float(stats["Volatility (Ann.) [%]"]), abs=1e-6)
    assert peer.profit_factor == pytest.approx(float(stats["Profit Factor"]), abs=1e-6)
    assert peer.exposure_pct == pytest.approx(float(stats["Exposure Time [%]"]), abs=1e-6)
    # And where ours differ, they differ by the stated definition: ours counts the position
    # still open at the end, and only the decision bars.
    assert report.exposure_pct > peer.exposure_pct
    assert report.sharpe != pytest.approx(peer.sharpe, abs=0.01)
    assert report.start == datetime(2004, 8, 20, 13, 30, tzinfo=UTC)  # its open, 09:30 New York
