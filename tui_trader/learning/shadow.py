"""Shadow records: what each strategy's own targets would have earned, after costs.

Every strategy is scored on every bar as if it alone traded the symbol: the target it set on the
previous bar times the bar's return, minus ``cost_bps`` per unit of target turnover. The reward
the weights learn from is that net return in units of the symbol's own recent volatility, so one
learning rate suits every interval and every symbol.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tui_trader.domain import Bar, Signal


@dataclass(slots=True)
class ShadowStats:
    """One strategy's shadow performance in one regime."""

    bars: int = 0
    net_return: float = 0.0
    """Sum of per-bar net returns (per unit of exposure) while in this regime."""
    last_return: float = 0.0


@dataclass(slots=True)
class _Held:
    """What a symbol's shadow portfolios hold going into its next bar."""

    close: float
    targets: dict[str, float]
    regime: str
    var: float = 0.0
    bars: int = 0


@dataclass(slots=True)
class ShadowResult:
    """The bar just scored: each strategy's net return, its reward, and the regime it fell in."""

    regime: str
    returns: dict[str, float]
    rewards: dict[str, float]
    bar_return: float


@dataclass(slots=True)
class ShadowBook:
    """Per-symbol shadow positions and per-(regime, strategy) performance."""

    cost_bps: float = 10.0
    vol_halflife: float = 20.0
    stats: dict[str, dict[str, ShadowStats]] = field(default_factory=dict)
    _held: dict[str, _Held] = field(default_factory=dict)

    def observe(self, bar: Bar, signals: dict[str, Signal], regime: str) -> ShadowResult | None:
        """Score the targets held into this bar, then hold the new ones (set in ``regime``)."""
        held = self._held.get(bar.symbol)
        targets = {name: s.target for name, s in signals.items()}
        self._held[bar.symbol] = _Held(bar.close, targets, regime)
        if held is None or held.close <= 0:
            return None
        now = self._held[bar.symbol]
        ret = bar.close / held.close - 1.0
        a = 1.0 - math.exp(math.log(0.5) / self.vol_halflife)
        now.bars = held.bars + 1
        now.var = held.var + a * (ret * ret - held.var)
        scale = math.sqrt(now.var / (1.0 - (1.0 - a) ** now.bars)) or 1.0
        cost = self.cost_bps / 10_000.0
        returns, rewards = {}, {}
        by_regime = self.stats.setdefault(held.regime, {})
        for name, before in held.targets.items():
            net = before * ret - cost * abs(targets.get(name, 0.0) - before)
            returns[name] = net
            rewards[name] = max(-5.0, min(5.0, net / scale))
            st = by_regime.get(name)
            if st is None:
                st = by_regime[name] = ShadowStats()
            st.bars += 1
            st.net_return += net
            st.last_return = net
        return ShadowResult(held.regime, returns, rewards, ret)

    def totals(self) -> dict[str, ShadowStats]:
        """Each strategy's shadow performance over every regime."""
        out: dict[str, ShadowStats] = {}
        for by_strategy in self.stats.values():
            for name, st in by_strategy.items():
                total = out.setdefault(name, ShadowStats())
                total.bars += st.bars
                total.net_return += st.net_return
                total.last_return = st.last_return
        return out
