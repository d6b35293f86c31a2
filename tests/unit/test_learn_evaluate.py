"""``learn evaluate``: the comparison a trader reads, on simulated seeds and on a bar file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl

from tui_trader.cli import main
from tui_trader.learning.evaluate import (
    CONFIGURATIONS,
    TUNING_SEEDS,
    EvalSettings,
    evaluate,
    sim_market,
)
from tui_trader.market.sim import SimMarket


def test_every_configuration_is_scored_on_every_seed() -> None:
    markets = [sim_market(seed, ("SPY", "QQQ"), bars=160) for seed in (1, 2)]  # longtrend: 200
    results, agreements = evaluate(markets, EvalSettings())
    assert len(results) == 2 * len(CONFIGURATIONS)
    assert len(agreements) == 2 and all(0.0 <= a.direction <= 1.0 for a in agreements)
    for config in CONFIGURATIONS:  # every configuration actually traded somewhere
        assert sum(r.turnover for r in results if r.config == config) > 0, config


def test_evaluation_seeds_are_not_the_tuning_seeds() -> None:
    assert not set(range(1, 51)) & set(TUNING_SEEDS)


def test_learn_evaluate_prints_table_and_verdict(capsys) -> None:
    assert main(["learn", "evaluate", "--seeds", "2", "--bars", "80"]) == 0
    out = capsys.readouterr().out
    assert "seeds 1-2 (tuning used 101-120)" in out
    assert "no engine, no database" in out
    for config in CONFIGURATIONS:
        assert f"│ {config}" in out
    assert "verdict:" in out and "runs (target 2)" in out
    assert "regime detector after warm-up: trend" in out


def test_learn_evaluate_on_a_bar_file(tmp_path: Path, capsys) -> None:
    sim = SimMarket(("AAA", "BBB"), seed=3)
    rows = [
        {
            "timestamp": bar.timestamp,
            "symbol": bar.symbol,
            "open": bar.open,
            "high": bar.high,
            "low": bar.low,
            "close": bar.close,
            "volume": bar.volume,
        }
        for _ in range(150)
        for bar in sim.next_bars().values()
    ]
    path = tmp_path / "bars.csv"
    pl.DataFrame(rows).write_csv(path)
    assert main(["learn", "evaluate", "--data", str(path)]) == 0
    out = capsys.readouterr().out
    assert "no true regimes" in out and "n/a (no truth)" in out


def test_learning_core_imports_no_front_end_or_sdk() -> None:
    code = (
        "import sys, tui_trader.learning.evaluate, tui_trader.learning.setup, "
        "tui_trader.strategies.vectorized; "
        "print(sorted(m for m in ('rich', 'textual', 'alpaca', 'yfinance') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
