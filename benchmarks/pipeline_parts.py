"""Where a symbol-bar of the full default pipeline goes: microseconds per symbol-bar, per part.

The engine's cycle feeds a bar time's bars to each strategy in turn, then to the adaptive
allocator's ``observe_cycle`` (regime detector, shadow records, one weight step per bar), then
asks ``allocate`` for each symbol's target. This times those parts on the benchmark's seeded
data (100 symbols, 600 bar times by default), each alone and in the order the engine runs them,
in process CPU time, the best of three passes (the machine is shared). The engine's own work
(market, broker, risk, audit) is not in it: ``python -m benchmarks --only replay`` times the
whole run.

Run: ``python benchmarks/pipeline_parts.py [SYMBOLS] [BARS]``.
"""

from __future__ import annotations

import gc
import math
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.data import make_universe
from tui_trader.core.domain import Bar, Signal
from tui_trader.learning.allocator import AdaptiveAllocator
from tui_trader.learning.regime import RegimeDetector
from tui_trader.learning.shadow import ShadowBook
from tui_trader.learning.weights import RegimeWeights
from tui_trader.strategies.family import STRATEGY_NAMES, build_strategies

PASSES = 3


def bar_times(symbols: int, bars: int) -> list[list[Bar]]:
    """The benchmark's seeded universe as one list of bars per bar time."""
    universe = make_universe(symbols, bars)
    out = []
    for k in range(bars):
        stamp = datetime.fromtimestamp(int(universe[0].ts_us[k]) / 1e6, UTC)
        out.append(
            [
                Bar(
                    s.symbol,
                    stamp,
                    float(s.open[k]),
                    float(s.high[k]),
                    float(s.low[k]),
                    float(s.close[k]),
                    float(s.volume[k]),
                )
                for s in universe
            ]
        )
    return out


def best_of(run: Callable[[], None]) -> float:
    """The least process CPU time of ``PASSES`` runs, in seconds."""
    best = math.inf
    for _ in range(PASSES):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main(symbols: int = 100, bars: int = 600) -> dict[str, float]:
    """Time every part; print and return microseconds per symbol-bar."""
    steps = bar_times(symbols, bars)
    count = symbols * bars
    figures: dict[str, float] = {}
    for index, strategy in enumerate(build_strategies()):

        def feed(index: int = index) -> None:
            on_bar = build_strategies()[index].on_bar  # a fresh one each pass
            for row in steps:
                for bar in row:
                    on_bar(bar)

        figures[f"strategy {strategy.name}"] = best_of(feed)

    def all_strategies() -> None:  # as the engine feeds them: a strategy over a bar time's
        feeds = [(s.name, s.on_bar) for s in build_strategies()]  # bars, then the next one
        for row in steps:
            out: dict[str, dict[str, Signal]] = {bar.symbol: {} for bar in row}
            for name, on_bar in feeds:
                for bar in row:
                    out[bar.symbol][name] = on_bar(bar)

    figures["all strategies, as the engine feeds them"] = best_of(all_strategies)
    feeds = [(s.name, s.on_bar) for s in build_strategies()]
    signals = [[{name: on_bar(bar) for name, on_bar in feeds} for bar in row] for row in steps]
    targets = [[[s.target for s in by_name.values()] for by_name in row] for row in signals]
    names = tuple(STRATEGY_NAMES)

    def regimes() -> None:
        detector = RegimeDetector()
        for row in steps:
            for bar in row:
                detector.advance(bar)

    figures["regime detector (advance)"] = best_of(regimes)
    detector = RegimeDetector()
    labels = [[detector.advance(bar) for bar in row] for row in steps]
    # The inputs kept for the parts below are not the engine's heap (it drops a cycle's
    # signals): keep the collector from walking them again and again.
    gc.collect()
    gc.freeze()
    scored: list[tuple[str, list[float]]] = []

    def shadow() -> None:
        book = ShadowBook()
        scored.clear()
        for row, row_targets, row_labels in zip(steps, targets, labels, strict=True):
            for bar, wants, label in zip(row, row_targets, row_labels, strict=True):
                result = book.score(bar.symbol, bar.close, names, wants, label)
                if result is not None:
                    scored.append((result[0], result[3]))

    figures["shadow records (score)"] = best_of(shadow)

    def weight_steps() -> None:
        weights = RegimeWeights(names, 0.03, 0.05)
        share = 1.0 / symbols
        for regime, rewards in scored:
            weights.step_factors(regime, [math.exp(0.03 * (r * share)) for r in rewards])

    figures["weight step (step_factors)"] = best_of(weight_steps)
    allocator = AdaptiveAllocator(STRATEGY_NAMES)

    def observe() -> None:
        nonlocal allocator
        allocator = AdaptiveAllocator(STRATEGY_NAMES)
        for row, row_signals in zip(steps, signals, strict=True):  # a bar time at a time
            allocator.observe_cycle(list(zip(row, row_signals, strict=True)))

    figures["observe (all of the above learning)"] = best_of(observe)

    def allocate() -> None:
        out: list[Signal] = []
        for row, row_signals in zip(steps, signals, strict=True):
            for bar, by_name in zip(row, row_signals, strict=True):
                out.append(allocator.allocate(bar.symbol, by_name))

    figures["allocate"] = best_of(allocate)
    per = {part: seconds / count * 1e6 for part, seconds in figures.items()}
    print(f"full pipeline by part, {symbols} symbols x {bars} bars, us per symbol-bar (CPU):")
    for part, us in per.items():
        print(f"  {part:38s} {us:6.2f}")
    gc.unfreeze()
    return per


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
