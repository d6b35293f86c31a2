"""Shadow records: what each strategy's own targets would have earned, after costs.

Every strategy is scored on every bar as if it alone traded the symbol: the target it set on the
previous bar times the bar's return, minus ``cost_bps`` per unit of target turnover. The reward
the weights learn from is that net return in units of the symbol's own recent volatility, so one
learning rate suits every interval and every symbol.

Beside the strategies, the book keeps the market's own record (``MARKET_RECORD``): one full
unit held through every bar, bought once, so no cost after the first. It is no strategy and
gets no weight; it is the evidence the allocator's long-trend floor weighs (has being invested
paid more than any strategy's timing?), and it is saved and restored with the strategies'
records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tui_trader.core.domain import Bar, Signal
from tui_trader.learning.regime import bias_divisors

sqrt = math.sqrt

MARKET_RECORD = "(market)"
"""The name the market's own record (one unit held throughout) is kept and saved under."""


@dataclass(slots=True)
class ShadowStats:
    """One strategy's shadow performance in one regime."""

    bars: int = 0
    net_return: float = 0.0
    """Sum of per-bar net returns (per unit of exposure) while in this regime."""
    last_return: float = 0.0


class _Held:
    """What a symbol's shadow portfolios hold going into its next bar (updated in place)."""

    __slots__ = ("bars", "close", "names", "regime", "targets", "var", "vol")

    def __init__(self, close: float, names: tuple[str, ...], targets: list[float], regime: str):
        self.close = close
        self.names = names
        """The strategies' names, in the order of ``targets``."""
        self.targets = targets
        self.regime = regime
        self.var = 0.0
        self.bars = 0
        self.vol = 0.0
        """``var`` bias-corrected, as a standard deviation (``bar_volatility``; 0 before a
        return is scored)."""


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
    _alpha: float = 0.0
    _alpha_halflife: float = 0.0
    _divisors: list[float] = field(default_factory=list)

    def observe(self, bar: Bar, signals: dict[str, Signal], regime: str) -> ShadowResult | None:
        """Score the targets held into this bar, then hold the new ones (set in ``regime``)."""
        names = tuple(signals)
        scored = self.score(
            bar.symbol, bar.close, names, [s.target for s in signals.values()], regime
        )
        if scored is None:
            return None
        held_regime, held_names, returns, rewards, ret = scored
        return ShadowResult(
            held_regime,
            dict(zip(held_names, returns, strict=True)),
            dict(zip(held_names, rewards, strict=True)),
            ret,
        )

    def score(
        self,
        symbol: str,
        close: float,
        names: tuple[str, ...],
        targets: list[float],
        regime: str,
    ) -> tuple[str, tuple[str, ...], list[float], list[float], float] | None:
        """``observe`` on plain values (the allocator's per-bar path): the regime the held
        targets were set in, their names, each one's net return and reward, the bar's return;
        ``None`` when there was nothing to score."""
        if len(targets) != len(names):  # here, before anything is held or scored: the loop
            # below reads the held targets and these by index (each pair held was checked)
            raise ValueError(f"{len(names)} strategy names but {len(targets)} targets")
        try:  # subscripts here, not ``.get``: no call for every symbol-bar and strategy
            held = self._held[symbol]
        except KeyError:
            self._held[symbol] = _Held(close, names, targets, regime)
            return None
        old_close, old_names, old_targets, old_regime = (
            held.close,
            held.names,
            held.targets,
            held.regime,
        )
        held.close, held.names, held.targets, held.regime = close, names, targets, regime
        if old_close <= 0:
            held.var, held.bars, held.vol = 0.0, 0, 0.0
            return None
        ret = close / old_close - 1.0
        if self._alpha_halflife != self.vol_halflife:
            self._alpha = 1.0 - math.exp(math.log(0.5) / self.vol_halflife)
            self._divisors = bias_divisors(self._alpha)
            self._alpha_halflife = self.vol_halflife
        a, divisors = self._alpha, self._divisors
        bars = held.bars = held.bars + 1
        var = held.var = held.var + a * (ret * ret - held.var)
        scale = held.vol = sqrt(var / (divisors[bars] if bars < len(divisors) else 1.0))
        scale = scale or 1.0
        cost = self.cost_bps / 10_000.0
        unmoved = cost * 0.0  # what ``cost * abs(after - before)`` is when the target held
        if old_names is not names and old_names != names:  # the strategies changed: by name
            now = dict(zip(names, targets, strict=True))
            targets = [now.get(name, 0.0) for name in old_names]
        returns, rewards = [], []
        add_return, add_reward = returns.append, rewards.append
        try:
            by_regime = self.stats[old_regime]
        except KeyError:
            by_regime = self.stats[old_regime] = {}
        # by index rather than zip(..., strict=True), whose keyword alone costs more than the
        # loop's body (~1,500 instructions a symbol-bar); the lengths are checked above
        for i, name in enumerate(old_names):
            before = old_targets[i]
            moved = targets[i] - before
            net = before * ret - (cost * abs(moved) if moved else unmoved)
            add_return(net)
            # max(-5, min(5, net / scale)), the same comparisons without two calls
            reward = net / scale
            reward = reward if reward < 5.0 else 5.0
            add_reward(reward if reward > -5.0 else -5.0)
            try:
                st = by_regime[name]
            except KeyError:
                st = by_regime[name] = ShadowStats()
            st.bars += 1
            st.net_return += net
            st.last_return = net
        try:
            st = by_regime[MARKET_RECORD]
        except KeyError:
            st = by_regime[MARKET_RECORD] = ShadowStats()
        st.bars += 1
        st.net_return += ret
        st.last_return = ret
        return old_regime, old_names, returns, rewards, ret

    def bar_volatility(self, symbol: str) -> float:
        """The symbol's recent volatility of one bar's return (EWMA, bias-corrected; 0 until
        two closes have been seen)."""
        held = self._held.get(symbol)
        return held.vol if held is not None else 0.0

    def totals(self) -> dict[str, ShadowStats]:
        """Each strategy's shadow performance over every regime (and the market's own record,
        under ``MARKET_RECORD``)."""
        out: dict[str, ShadowStats] = {}
        for by_strategy in self.stats.values():
            for name, st in by_strategy.items():
                total = out.setdefault(name, ShadowStats())
                total.bars += st.bars
                total.net_return += st.net_return
                total.last_return = st.last_return
        return out
