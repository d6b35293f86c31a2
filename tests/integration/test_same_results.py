"""Speed work changes no decision: the benchmark's data and a seeded ``learn evaluate`` give the
same final equity, trades and audit rows as the code before the engine-speed work (issue 17).

The figures below were recorded by the code at commit ``e98b5e3`` (main before the work: the
replay fast path still in place), running these very scenarios. If a change to the strategies or
the learning rules is meant to change decisions, re-record them and say so in the commit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks.data import make_universe
from benchmarks.engines import build_session
from tui_trader.learning.evaluate import EvalSettings, evaluate, sim_market
from tui_trader.store.learning_models import LearningWeightRow, RegimeCallRow, ShadowRow
from tui_trader.store.models import (
    AccountSnapshot,
    LiveFill,
    LiveOrder,
    LiveTrade,
    RiskEventRow,
)

ROWS = (LiveOrder, LiveFill, LiveTrade, RiskEventRow, AccountSnapshot)
LEARNING_ROWS = (LearningWeightRow, RegimeCallRow, ShadowRow)

SCENARIOS: dict[str, dict[str, Any]] = {
    # name: symbols, bars, the full default pipeline or the crossover, snapshot/commit cadence
    "crossover, 1 symbol, replay settings": {
        "symbols": 1,
        "bars": 6_000,
        "full": False,
        "every": 390,
    },
    "crossover, 1 symbol, every bar": {"symbols": 1, "bars": 1_500, "full": False, "every": 1},
    "crossover, 20 symbols, replay settings": {
        "symbols": 20,
        "bars": 600,
        "full": False,
        "every": 390,
    },
    "adaptive pipeline, 1 symbol, replay settings": {
        "symbols": 1,
        "bars": 3_000,
        "full": True,
        "every": 390,
    },
    "adaptive pipeline, 10 symbols, replay settings": {
        "symbols": 10,
        "bars": 800,
        "full": True,
        "every": 390,
    },
}

RECORDED: dict[str, tuple[float, int, tuple[int, ...], tuple[int, ...]]] = {
    # name: final equity, iterations, (orders, fills, trades, risk events, snapshots),
    # (learning weight rows, regime rows, shadow rows)
    "crossover, 1 symbol, replay settings": (1000557.66, 5610, (214, 214, 107, 0, 15), (0, 0, 0)),
    "crossover, 1 symbol, every bar": (990705.2, 1110, (42, 42, 21, 0, 1110), (0, 0, 0)),
    "crossover, 20 symbols, replay settings": (1001198.58, 210, (186, 186, 86, 0, 1), (0, 0, 0)),
    "adaptive pipeline, 1 symbol, replay settings": (
        996866.26,
        2610,
        (300, 300, 145, 1979, 7),
        (210, 7, 175),
    ),
    "adaptive pipeline, 10 symbols, replay settings": (
        1000815.61,
        410,
        (100, 100, 42, 3432, 2),
        (60, 20, 50),
    ),
}


def _frame(symbols: int, bars: int) -> Any:
    """The benchmark's seeded bars as the replay market's table."""
    import polars as pl

    return pl.concat(
        [
            pl.DataFrame(
                {
                    "timestamp": s.ts_us,
                    "symbol": [s.symbol] * len(s),
                    "open": s.open,
                    "high": s.high,
                    "low": s.low,
                    "close": s.close,
                    "volume": s.volume,
                }
            ).with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))
            for s in make_universe(symbols, bars)
        ]
    )


def _run(tmp_path: Path, symbols: int, bars: int, full: bool, every: int) -> tuple[Any, ...]:
    """One scenario through the engine, cycle by cycle to the end of the data."""
    from tui_trader.core.timeframes import parse_interval, parse_period
    from tui_trader.market.replay import ReplayMarket

    market = ReplayMarket(
        _frame(symbols, bars), "bench", interval=parse_interval("1m"), period=parse_period("1d")
    )
    session = build_session(market, tmp_path / "same.db", full, every, every)
    while session.run_iteration() is not None:
        pass
    session.sync_orders()
    session.finish("end_of_data")
    sid = session.audit.session.id
    rows = tuple(m.select().where(m.session == sid).count() for m in ROWS)
    learning = tuple(m.select().where(m.session == sid).count() for m in LEARNING_ROWS)
    equity = round(session.broker.account().equity, 2)
    session.audit.db.close()
    return equity, session.iteration, rows, learning


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_results_unchanged_on_benchmark_data(tmp_path: Path, name: str) -> None:
    """Final equity, cycles, and every audit table's row count equal the recorded ones."""
    got = _run(tmp_path, **SCENARIOS[name])
    assert got == RECORDED[name]


EVALUATE_RECORDED: dict[tuple[str, str], tuple[float, float, float, bool]] = {
    # (config, market): total return %, max drawdown %, turnover, halted (rounded to 1e-9)
    ("adaptive", "sim seed 1"): (3.124832286, 1.034441104, 2.793604065, False),
    ("frozen", "sim seed 1"): (2.935488322, 1.011836833, 2.654064659, False),
    ("equal", "sim seed 1"): (1.486360328, 3.127475406, 1.849242411, False),
    ("trend", "sim seed 1"): (2.543156731, 3.470604615, 1.6, False),
    ("momentum", "sim seed 1"): (4.221751511, 1.813359403, 3.4, False),
    ("meanrev", "sim seed 1"): (-3.563637393, 4.145043949, 3.839188834, False),
    ("volatility", "sim seed 1"): (4.527239226, 1.321614327, 1.970802955, False),
    ("longtrend", "sim seed 1"): (-5.566160535, 6.727738637, 0.2, True),
    ("hold", "sim seed 1"): (-0.004678853, 6.727738637, 0.2, True),
    ("adaptive", "sim seed 2"): (4.082423285, 1.207785928, 1.862664921, False),
    ("frozen", "sim seed 2"): (4.007705433, 1.107174062, 1.790851252, False),
    ("equal", "sim seed 2"): (2.770495445, 1.922418963, 2.454657559, False),
    ("trend", "sim seed 2"): (3.880419148, 2.203322376, 2.0, False),
    ("momentum", "sim seed 2"): (2.623759765, 2.652225298, 5.7, False),
    ("meanrev", "sim seed 2"): (1.788554118, 1.037318991, 6.55904123, False),
    ("volatility", "sim seed 2"): (2.308496418, 3.196980749, 4.055085862, False),
    ("longtrend", "sim seed 2"): (1.536069612, 3.113705787, 0.2, False),
    ("hold", "sim seed 2"): (3.438582143, 3.113705787, 0.2, False),
}


def test_learn_evaluate_unchanged_on_a_seeded_case() -> None:
    """``learn evaluate``'s scores on two seeded markets equal the recorded ones."""
    markets = [sim_market(seed, ("SPY", "QQQ"), bars=300) for seed in (1, 2)]
    settings = replace(EvalSettings(), cost_bps=5.0)
    results, _ = evaluate(markets, settings)
    got = {
        (r.config, r.market): (
            round(r.total_return_pct, 9),
            round(r.max_drawdown_pct, 9),
            round(r.turnover, 9),
            r.halted,
        )
        for r in results
    }
    assert got == EVALUATE_RECORDED
