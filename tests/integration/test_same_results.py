"""Speed work changes no decision: the benchmark's data and a seeded ``learn evaluate`` give the
same final equity, trades and audit rows as the code before the engine-speed work (issue 17).

The figures below were recorded by the code at commit ``a90b722`` (the learning branch's
decisions, before the engine-speed work was merged into them; first recorded at ``e98b5e3``),
running these very scenarios; the adaptive rows were re-recorded when the allocator learned its
exposure and its no-trade band (issue 13, 2026-12-05: ``learning/exposure.py`` changes adaptive
and frozen decisions, and the blend's record adds one shadow row per saved cycle), and their
shadow row counts again when the shadow book kept the market's own record (issue 13, fifth pass:
one more row per regime of each saved cycle; the equity and orders did not move here, since the
long-trend floor that reads it needs 500 bars of record per symbol), and ``learn evaluate``'s
adaptive rows when the learned exposure stopped levering (fifth pass: at most 1). The adaptive
scenarios' risk-event counts were re-recorded when the daily order limit's refusals became one
event per symbol per session day plus one count at the day's end (2026-12-05: 1,740 -> 6 and
2,950 -> 20, every one of them an ``order_rate_limit`` refusal; equity, orders and learning
rows unchanged, since a refusal sends nothing). If a change
to the strategies or the learning rules is meant to change decisions, re-record them and say so
in the commit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks.data import make_universe
from benchmarks.engines import build_session, universe_frame
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
        997475.43,
        2610,
        (300, 300, 123, 6, 7),
        (173, 7, 175),  # (210, 7, 217) before the weights and shadow rows were written only
        # when changed (2026-12-07, learnrows32): every other figure the same
    ),
    "adaptive pipeline, 10 symbols, replay settings": (
        1000703.1,
        410,
        (100, 100, 41, 20, 2),
        (54, 20, 56),  # (60, 20, 62) before, as above
    ),
}


def _frame(symbols: int, bars: int) -> Any:
    """The benchmark's seeded bars as the replay market's table."""
    return universe_frame(make_universe(symbols, bars))


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
    ("adaptive", "sim seed 1"): (3.308212339, 0.936269056, 2.704385063, False),
    ("frozen", "sim seed 1"): (3.30324414, 0.915137141, 2.654126868, False),
    ("equal", "sim seed 1"): (1.643361714, 3.091873059, 1.951812884, False),
    ("trend", "sim seed 1"): (2.827632404, 3.356511858, 1.620939953, False),
    ("momentum", "sim seed 1"): (4.454444082, 1.779480253, 3.434526279, False),
    ("meanrev", "sim seed 1"): (-3.603103825, 4.31912517, 3.891966887, False),
    ("volatility", "sim seed 1"): (4.514565579, 1.305806366, 2.006055764, False),
    ("longtrend", "sim seed 1"): (-5.406138636, 6.503701512, 0.221752412, True),
    ("hold", "sim seed 1"): (-0.259985929, 7.706199916, 0.200125077, True),
    ("adaptive", "sim seed 2"): (3.852782767, 1.534368144, 1.875538749, False),
    ("frozen", "sim seed 2"): (3.780760439, 1.405059205, 1.812589447, False),
    ("equal", "sim seed 2"): (2.608824035, 2.08684063, 2.411488408, False),
    ("trend", "sim seed 2"): (3.944303782, 2.325689225, 2.041220306, False),
    ("momentum", "sim seed 2"): (2.410691607, 2.75990697, 5.630756324, False),
    ("meanrev", "sim seed 2"): (1.510033245, 1.026551309, 6.426002067, False),
    ("volatility", "sim seed 2"): (2.087521955, 3.368086479, 3.858580032, False),
    ("longtrend", "sim seed 2"): (1.560953318, 3.14575377, 0.230443308, False),
    ("hold", "sim seed 2"): (3.252842921, 3.844421816, 0.200324746, False),
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
