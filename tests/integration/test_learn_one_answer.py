"""One answer: ``learn evaluate`` and the engine give the same equity curve on the same file.

The engine replays the file as a user would (``paper --data replay:FILE --batch``, the adaptive
weights learning as they go, fills at the next bar's open with slippage) and writes an account
snapshot per cycle; ``learn evaluate``'s run of the same configuration must trace the same curve:
to rounding with fractional shares, and within the costs paid with whole shares.
"""

from __future__ import annotations

import importlib.resources
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from tui_trader.cli import main
from tui_trader.engine.config import SessionConfig
from tui_trader.learning.book import MIN_TRADE_PCT
from tui_trader.learning.evaluate import EvalSettings, file_market, run_config, signals_for
from tui_trader.market.replay import read_bar_file
from tui_trader.market.sim import SimMarket

START_CASH = 100_000.0


def _engine_curve(replay: Path, db: Path, weights: str, allocation: float, fractional: bool):
    """The engine's equity after every cycle, in units of the starting cash."""
    args = [
        "paper", "--data", f"replay:{replay}", "--iterations", "0", "--batch",
        "--interval", "1d", "--period", "250d", "--weights", weights,
        "--commit-every", "50", "--start-cash", f"{START_CASH:g}", "--slippage-bps", "10",
        "--commission-per-share", "0", "--commission-min", "0",
        "--allocation", f"{allocation * 100:g}", "--max-position", "100",
        "--max-drawdown", "99", "--max-daily-loss", "99", "--db", str(db),
    ]  # fmt: skip
    assert main([*args, "--fractional"] if fractional else args) == 0
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT equity FROM live_account_snapshots ORDER BY id").fetchall()
    return [equity / START_CASH for (equity,) in rows]


def _evaluate_run(replay: Path, weights: str, allocation: float):
    """``learn evaluate``'s run of one configuration on the file (250 warm-up bars)."""
    market = file_market(read_bar_file(replay), replay.name, 250)
    settings = EvalSettings(allocation=allocation, cost_bps=10.0, max_drawdown_pct=100.0)
    return run_config(weights, market, signals_for(market), settings)


@pytest.fixture(scope="module")
def goog() -> Path:
    """backtesting.py's GOOG daily bars 2004-2013 (real prices, read from the installed package)."""
    source = importlib.resources.files("backtesting") / "test" / "GOOG.csv"
    with importlib.resources.as_file(source) as path:
        return Path(path)


@pytest.mark.parametrize("fractional", [True, False], ids=["fractional", "whole-shares"])
def test_engine_and_learn_evaluate_agree_on_goog(goog: Path, tmp_path: Path, fractional) -> None:
    engine = _engine_curve(goog, tmp_path / "a.db", "adaptive", 0.95, fractional)
    ours = _evaluate_run(goog, "adaptive", 0.95)
    assert len(engine) == len(ours.equity) > 1800
    assert ours.turnover > 20  # it trades: the agreement is not two idle accounts
    worst = max(abs(a / b - 1.0) for a, b in zip(engine, ours.equity, strict=True))
    # whole shares round every order by up to a share (~0.3% of GOOG's account): within costs
    assert worst < (1e-6 if fractional else ours.costs_pct / 100.0)


def test_engine_and_learn_evaluate_agree_with_three_symbols(tmp_path: Path) -> None:
    """Three symbols share the adaptive weights: the engine warms the learner up in time order,
    as ``learn evaluate`` does (it once fed each symbol's whole history in turn); buys wait for
    cash from sells, as the paper broker makes them."""
    sim = SimMarket(("AAA", "BBB", "CCC"), seed=4)
    rows = [
        {"timestamp": b.timestamp, "symbol": s, "open": b.open, "high": b.high, "low": b.low,
         "close": b.close, "volume": b.volume}
        for _ in range(550)
        for s, b in sim.next_bars().items()
    ]  # fmt: skip
    replay = tmp_path / "three.csv"
    pl.DataFrame(rows).write_csv(replay)
    for weights in ("adaptive", "trend"):
        engine = _engine_curve(replay, tmp_path / f"{weights}.db", weights, 1 / 3, True)
        ours = _evaluate_run(replay, weights, 1 / 3)
        assert len(engine) == len(ours.equity) == 300
        worst = max(abs(a / b - 1.0) for a, b in zip(engine, ours.equity, strict=True))
        assert worst < 1e-6, weights


def test_learn_evaluate_skips_the_engines_smallest_rebalances() -> None:
    assert SessionConfig.__dataclass_fields__["min_trade_pct"].default == MIN_TRADE_PCT
