"""The strategy family on series a trader can picture, and the polars versions agreeing."""

from __future__ import annotations

import polars as pl
import pytest

from tests.unit.series import bars_from_closes, crash, feed, flat_noisy, uptrend
from tui_trader.market.sim import SimMarket
from tui_trader.strategies.crossover import MovingAverageCrossover
from tui_trader.strategies.family import STRATEGY_NAMES, build_strategies
from tui_trader.strategies.mean_reversion import MeanReversion
from tui_trader.strategies.momentum import Momentum
from tui_trader.strategies.vectorized import all_targets
from tui_trader.strategies.volatility import VolatilityTargeted


def test_family_names_are_stable_and_unique() -> None:
    assert [s.name for s in build_strategies()] == list(STRATEGY_NAMES)


@pytest.mark.parametrize("strategy", build_strategies(), ids=STRATEGY_NAMES)
def test_every_strategy_stays_flat_while_warming_up(strategy) -> None:
    first = feed(strategy, uptrend(5))
    assert all(s.target == 0.0 and "warming up" in s.reason for s in first)


@pytest.mark.parametrize("strategy", [MovingAverageCrossover(), Momentum(), VolatilityTargeted()])
def test_trend_followers_are_long_in_a_steady_uptrend(strategy) -> None:
    signals = feed(strategy, uptrend())
    assert signals[-1].target > 0.8
    assert sum(s.target > 0 for s in signals[80:]) >= 65  # long nearly all the way up


@pytest.mark.parametrize("strategy", [MovingAverageCrossover(), Momentum(), VolatilityTargeted()])
def test_trend_followers_are_out_by_the_end_of_a_crash(strategy) -> None:
    assert feed(strategy, crash())[-1].target == 0.0


@pytest.mark.parametrize(
    "strategy",
    [MovingAverageCrossover(allow_short=True), Momentum(allow_short=True)],
)
def test_with_shorting_allowed_trend_followers_go_short_in_a_crash(strategy) -> None:
    assert feed(strategy, crash())[-1].target == -1.0


def test_momentum_reason_quotes_the_rate_of_change() -> None:
    signal = feed(Momentum(lookback=20), uptrend())[-1]
    assert signal.reason.startswith("ROC20 +")


def test_mean_reversion_buys_a_sharp_dip_in_a_flat_market_and_exits_on_recovery() -> None:
    closes = flat_noisy(60)
    closes += [closes[-1] * 0.95, 100.0, 100.0]  # a 5% drop, then back to normal
    signals = feed(MeanReversion(), closes)
    assert signals[-3].target >= 0.9, signals[-3].reason
    assert signals[-1].target == 0.0


def test_mean_reversion_stays_out_of_a_steady_uptrend() -> None:
    signals = feed(MeanReversion(), uptrend())
    assert sum(s.target > 0 for s in signals) <= 10


def test_mean_reversion_can_short_a_spike_when_allowed() -> None:
    closes = [*flat_noisy(60), 110.0]
    assert feed(MeanReversion(allow_short=True), closes)[-1].target <= -0.9
    assert feed(MeanReversion(), closes)[-1].target == 0.0


def test_volatility_strategy_cuts_size_when_the_market_gets_wild() -> None:
    calm = uptrend(120, daily=0.003, noise=0.004)
    wild = list(calm)
    for i in range(10):  # still rising, but swinging 4% a day
        wild.append(wild[-1] * (1.05 if i % 2 == 0 else 0.97))
    calm_signal = feed(VolatilityTargeted(), calm)[-1]
    wild_signal = feed(VolatilityTargeted(), wild)[-1]
    assert calm_signal.target > 0.8
    assert 0.0 < wild_signal.target < 0.5 * calm_signal.target, wild_signal.reason


def test_targets_stay_in_bounds_on_a_simulated_market() -> None:
    sim = SimMarket(("SPY", "QQQ"), seed=11)
    strategies = build_strategies(allow_short=True)
    for _ in range(200):
        for bar in sim.next_bars().values():
            for s in strategies:
                assert -1.0 <= s.on_bar(bar).target <= 1.0


@pytest.mark.parametrize("allow_short", [False, True])
def test_incremental_and_vectorized_strategies_agree(allow_short: bool) -> None:
    sim = SimMarket(("SPY", "QQQ", "XYZ"), seed=5)
    strategies = build_strategies(allow_short)
    rows = []
    for _ in range(600):  # longtrend needs 200 bars, then a rise to be long in
        for symbol, bar in sim.next_bars().items():
            row = {"symbol": symbol, "close": bar.close}
            row.update({s.name: s.on_bar(bar).target for s in strategies})
            rows.append(row)
    live = pl.DataFrame(rows)
    batch = all_targets(live.select("symbol", "close"), build_strategies(allow_short))
    for name in STRATEGY_NAMES:
        assert (live[name] - batch[name]).abs().max() < 1e-9, name
        assert live[name].abs().sum() > 10  # the check is not vacuous: the strategy traded


def test_bars_helper_builds_a_consistent_series() -> None:
    bars = bars_from_closes([100.0, 101.0])
    assert bars[1].open == 100.0 and bars[1].low <= bars[1].close <= bars[1].high
