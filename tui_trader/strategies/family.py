"""The strategy family the desk trades: one place that names and builds every strategy.

``--weights STRATEGY`` and ``learn evaluate`` refer to strategies by these names. Each strategy
is long-only unless ``allow_short`` is set.

``longtrend`` is the crossover rule on 50 and 200 bars (the "golden cross"). The other strategies
react within weeks; on daily bars of stock indices most of what they see is noise, while the long
averages stay on the right side of a bull market for years and step aside in the long bear
markets. On twenty years of two real US indices it lifted the adaptive blend's Sharpe from 0.09
to 0.22 and from 0.28 to 0.38 (docs/learning.md). It needs 200 bars before it has an opinion.
"""

from __future__ import annotations

from tui_trader.strategies import Strategy
from tui_trader.strategies.crossover import MovingAverageCrossover
from tui_trader.strategies.mean_reversion import MeanReversion
from tui_trader.strategies.momentum import Momentum
from tui_trader.strategies.volatility import VolatilityTargeted

STRATEGY_NAMES: tuple[str, ...] = ("trend", "momentum", "meanrev", "volatility", "longtrend")
"""Every strategy's name, in the order tables list them."""


def build_strategies(allow_short: bool = False) -> list[Strategy]:
    """A fresh instance of every strategy of the family, with default parameters."""
    return [
        MovingAverageCrossover(allow_short=allow_short),
        Momentum(allow_short=allow_short),
        MeanReversion(allow_short=allow_short),
        VolatilityTargeted(allow_short=allow_short),
        MovingAverageCrossover(50, 200, allow_short=allow_short, name="longtrend"),
    ]
