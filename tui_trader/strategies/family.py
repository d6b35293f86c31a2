"""The strategy family the desk trades: one place that names and builds every strategy.

``--weights STRATEGY`` and ``learn evaluate`` refer to strategies by these names. Each strategy
is long-only unless ``allow_short`` is set.
"""

from __future__ import annotations

from tui_trader.strategies import Strategy
from tui_trader.strategies.crossover import MovingAverageCrossover
from tui_trader.strategies.mean_reversion import MeanReversion
from tui_trader.strategies.momentum import Momentum
from tui_trader.strategies.volatility import VolatilityTargeted

STRATEGY_NAMES: tuple[str, ...] = ("trend", "momentum", "meanrev", "volatility")
"""Every strategy's name, in the order tables list them."""


def build_strategies(allow_short: bool = False) -> list[Strategy]:
    """A fresh instance of every strategy of the family, with default parameters."""
    return [
        MovingAverageCrossover(allow_short=allow_short),
        Momentum(allow_short=allow_short),
        MeanReversion(allow_short=allow_short),
        VolatilityTargeted(allow_short=allow_short),
    ]
