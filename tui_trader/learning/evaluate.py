"""Walk-forward evaluation of the weighting schemes, straight over the bars (no engine, no DB).

The same strategy and allocator classes the engine uses run bar by bar over a simulated market
(or a bar file): every allocator learns only from bars it has already seen, and a target set at
one bar's close is sized from that close and filled at the next bar's open by ``PaperBook``, which
follows the engine's sizing and the paper broker's fills (slippage ``cost_bps``, refused buys,
skipped small rebalances), so ``learn evaluate`` and ``paper --data replay:FILE`` trace the same
equity curve (``tests/integration/test_learn_one_answer.py``). Positions freeze once the drawdown
reaches the limit (the engine's halt without flattening). Strategy signals are computed once per
market and shared by every configuration, since they do not depend on the weights.

Besides the engine's ``--weights`` modes it scores two baselines: ``hold`` (buy and hold, full
allocation from the first trading bar) and ``frozen``, the adaptive allocator itself with its
learning rate at 0 (the ablation: the same code, learning switched off), so the table shows what
learning adds and what the regime rules add.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from tui_trader.core.domain import Bar, Signal
from tui_trader.learning.book import MIN_TRADE_PCT, PaperBook
from tui_trader.learning.performance import (
    Window,
    WindowResult,
    cagr_pct,
    in_window,
    max_drawdown_pct,
    sharpe,
    under_water_pct,
)
from tui_trader.learning.regime import SIM_TRUTH, RegimeDetector
from tui_trader.learning.setup import LearningSettings, build_allocation
from tui_trader.strategies import LearningAllocator
from tui_trader.strategies.family import STRATEGY_NAMES, build_strategies

TUNING_SEEDS: tuple[int, ...] = tuple(range(101, 121))
"""Simulated seeds the detector thresholds and learning settings were tuned on."""
EVALUATION_FIRST_SEED = 1
"""``learn evaluate`` uses seeds 1..N: disjoint from the tuning seeds."""
HOLD = "hold"
"""Buy and hold: every symbol bought once at full allocation at the first trading bar."""
FROZEN = "frozen"
"""The adaptive allocator with learning switched off (learning rate 0): the ablation."""
CONFIGURATIONS: tuple[str, ...] = ("adaptive", FROZEN, "equal", *STRATEGY_NAMES, HOLD)


@dataclass(frozen=True, slots=True)
class Market:
    """Bars to evaluate on: one dict of bars per step, the true regime per step if known."""

    label: str
    steps: list[dict[str, Bar]]
    truth: list[str | None]
    warmup: int
    bars_per_year: float = 252.0

    @property
    def times(self) -> list[datetime]:
        """Each step's bar time (the first symbol's, as every symbol shares it)."""
        return [next(iter(step.values())).timestamp for step in self.steps]

    @property
    def trading_years(self) -> float:
        """Years from the last warm-up bar to the last bar (bars over ``bars_per_year``)."""
        return max(len(self.steps) - self.warmup, 0) / self.bars_per_year


@dataclass(frozen=True, slots=True)
class EvalSettings:
    """The portfolio rules of an evaluation run."""

    allocation: float = 0.10
    cost_bps: float = 10.0
    max_drawdown_pct: float = 5.0
    min_trade_pct: float = MIN_TRADE_PCT
    learning: LearningSettings = field(default_factory=LearningSettings)


@dataclass(frozen=True, slots=True)
class RunResult:
    """How one configuration did on one market."""

    config: str
    market: str
    total_return_pct: float
    sharpe: float
    max_drawdown_pct: float
    turnover: float
    """Equity traded over the run, in multiples of equity."""
    halted: bool
    cagr_pct: float = 0.0
    under_water_pct: float = 0.0
    """Share of trading bars spent below an earlier peak."""
    costs_pct: float = 0.0
    """Trading costs paid over the run, in percent of the starting equity."""
    windows: tuple[WindowResult, ...] = ()
    equity: tuple[float, ...] = ()
    """Equity after each trading bar, from 1.0 before the first."""


@dataclass(frozen=True, slots=True)
class Agreement:
    """How often the detector's calls matched the simulator's truth after warm-up."""

    direction: float
    level: float
    both: float
    calls: int


def sim_market(seed: int, symbols: tuple[str, ...], bars: int, warmup: int = 60) -> Market:
    """A seeded simulated market with its true regime recorded at every step."""
    from tui_trader.core.timeframes import parse_interval, parse_period
    from tui_trader.market.sim import SimMarket

    sim = SimMarket(symbols, parse_interval("1d"), parse_period("1d"), seed=seed)
    sim.warmup()  # one bar; the warm-up below is counted in steps
    steps, truth = [], []
    for _ in range(warmup + bars):
        steps.append(sim.next_bars())
        truth.append(sim.regime.name)
    return Market(f"sim seed {seed}", steps, truth, warmup)


def file_market(frame: pl.DataFrame, label: str, warmup: int) -> Market:
    """A validated bar table (``read_bar_file``) as steps, without any known truth.

    Only times at which every symbol has a bar are kept, and the bars per year (for Sharpe and
    CAGR) are measured from the file's own span: about 252 for daily stock bars, about 6,200
    for hourly currency bars."""
    steps: list[dict[str, Bar]] = []
    for _, group in frame.sort("timestamp", "symbol").group_by("timestamp", maintain_order=True):
        steps.append(
            {
                row["symbol"]: Bar(
                    row["symbol"],
                    row["timestamp"],
                    row["open"],
                    row["high"],
                    row["low"],
                    row["close"],
                    row["volume"],
                )
                for row in group.iter_rows(named=True)
            }
        )
    width = max((len(step) for step in steps), default=0)
    steps = [step for step in steps if len(step) == width]
    if len(steps) <= warmup + 1:
        raise ValueError(f"{label}: {len(steps)} bar times, need more than the {warmup} warm-up")
    first = next(iter(steps[0].values())).timestamp
    last = next(iter(steps[-1].values())).timestamp
    years = (last - first).total_seconds() / (365.25 * 86_400)
    per_year = (len(steps) - 1) / years if years > 0 else 252.0
    return Market(label, steps, [None] * len(steps), warmup, per_year)


def signals_for(market: Market, allow_short: bool = False) -> list[dict[str, dict[str, Signal]]]:
    """Every strategy's signal for every symbol at every step (computed once, shared)."""
    strategies = build_strategies(allow_short)
    return [
        {sym: {s.name: s.on_bar(bar) for s in strategies} for sym, bar in step.items()}
        for step in market.steps
    ]


def detector_agreement(market: Market) -> Agreement | None:
    """Score a fresh detector against the simulator's truth after the warm-up."""
    if not any(market.truth):
        return None
    detector = RegimeDetector()
    direction = level = both = n = 0
    for i, step in enumerate(market.steps):
        for bar in step.values():
            call = detector.update(bar)
            truth = market.truth[i]
            if i < market.warmup or truth is None:
                continue
            want_dir, want_level = SIM_TRUTH[truth]
            n += 1
            direction += call.direction == want_dir
            level += call.level == want_level
            both += call.direction == want_dir and call.level == want_level
    return Agreement(direction / n, level / n, both / n, n) if n else None


def run_config(
    config: str,
    market: Market,
    signals: list[dict[str, dict[str, Signal]]],
    settings: EvalSettings,
    windows: tuple[Window, ...] = (),
) -> RunResult:
    """Trade one configuration over the market; its return, Sharpe, drawdown, turnover, costs."""
    if config == HOLD:
        allocator, names, learner = None, frozenset(), None
    else:
        rate = 0.0 if config == FROZEN else settings.learning.learning_rate
        learning = LearningSettings(
            "adaptive" if config == FROZEN else config,
            rate,
            settings.learning.weight_floor,
            settings.learning.cost_bps,
        )
        strategies, allocator = build_allocation(learning)
        names = frozenset(s.name for s in strategies)
        learner = allocator if isinstance(allocator, LearningAllocator) else None
    book = PaperBook(settings.cost_bps, settings.min_trade_pct)
    equity = peak = last_equity = 1.0
    halted = False
    rets: list[float] = []
    curve: list[float] = []
    for i, step in enumerate(market.steps):
        trading = i >= market.warmup
        if trading:
            book.fill(step)
            equity = book.mark(step)
        if learner is not None:
            by_symbol = signals[i]
            learner.observe_cycle(
                [
                    (bar, {n: sig for n, sig in by_symbol[sym].items() if n in names})
                    for sym, bar in step.items()
                ]
            )
        if not trading:
            continue
        if learner is not None and i == market.warmup:
            learner.start_trading()
        peak = max(peak, equity)
        dd = 100.0 * (peak - equity) / peak
        halted = halted or dd >= settings.max_drawdown_pct
        if learner is not None:
            learner.set_risk(dd, settings.max_drawdown_pct, halted)
        if not halted:
            for sym in sorted(step):
                if allocator is None:
                    if book.shares.get(sym):
                        continue  # bought once, held
                    target = 1.0
                else:
                    sig = {n: s for n, s in signals[i][sym].items() if n in names}
                    target = allocator.allocate(sym, sig).target
                book.order(sym, target, settings.allocation, step[sym].close)
        rets.append(equity / last_equity - 1.0)
        curve.append(equity)
        last_equity = equity
    times = market.times[market.warmup :]
    return RunResult(
        config,
        market.label,
        100.0 * (equity - 1.0),
        sharpe(rets, market.bars_per_year),
        max_drawdown_pct(curve),
        book.turnover,
        halted,
        cagr_pct(equity, market.trading_years),
        under_water_pct(curve),
        100.0 * book.paid,
        tuple(in_window(w, times, curve, market.bars_per_year) for w in windows),
        tuple(curve),
    )


def bear_share(market: Market, window: Window) -> float | None:
    """Share of the detector's calls inside ``window`` that say ``bear`` (None: no bars there).

    A fresh detector runs over the whole market, as the adaptive allocator's does, so every
    call is made from bars up to its own time only."""
    detector = RegimeDetector()
    bear = n = 0
    for step in market.steps:
        for bar in step.values():
            call = detector.update(bar)
            if window.start <= bar.timestamp <= window.end and call.label != "warming":
                n += 1
                bear += call.direction == "bear"
    return bear / n if n else None


def evaluate(
    markets: Iterable[Market],
    settings: EvalSettings,
    configs: tuple[str, ...] = CONFIGURATIONS,
    progress: Callable[[str], None] | None = None,
    windows: tuple[Window, ...] = (),
) -> tuple[list[RunResult], list[Agreement]]:
    """Every configuration on every market; plus the detector's agreement per market."""
    results: list[RunResult] = []
    agreements: list[Agreement] = []
    for market in markets:
        signals = signals_for(market)
        agreement = detector_agreement(market)
        if agreement is not None:
            agreements.append(agreement)
        for config in configs:
            results.append(run_config(config, market, signals, settings, windows))
            if progress is not None:
                progress(f"{market.label}: {config}")
    return results, agreements
