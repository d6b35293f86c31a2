"""Strategy targets for a whole replay at once, in polars, for the replay fast path.

The fast path (``replay_batch``) must trade exactly what the bar-by-bar engine trades. Its
strategies keep running sums, while a vectorized rolling mean rounds differently in the last
bits; that only matters where the two averages (nearly) tie. A symbol with such a bar is
therefore left to the session's own incremental strategies, fed bar by bar ("live" symbols), so
that every comparison is the engine's own. Every other symbol's targets, and the averages its
reasons quote, come from here, a chunk of rows at a time so that memory stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tui_trader.core.domain import Signal
from tui_trader.strategies import Allocator, FixedWeights, Strategy
from tui_trader.strategies.crossover import _ABOVE, _BELOW, MovingAverageCrossover

TIE = 1e-9
"""Averages closer than this (relative) count as a tie: that symbol's targets come bar by bar."""


def unsupported(strategies: list[Strategy], allocator: Allocator) -> str | None:
    """Why these strategies cannot be precomputed here, or ``None`` if they can."""
    if type(allocator) is not FixedWeights:
        return "the allocator is not fixed weights"
    for strategy in strategies:
        if type(strategy) is not MovingAverageCrossover:
            return f"strategy {strategy.name} has no vectorized replay form yet"
    return None


@dataclass(slots=True)
class Chunk:
    """Rows ``start`` to ``start + len(close)`` of the table as Python lists."""

    start: int
    close: list[float]
    target: list[float]
    """The allocator's blended target per row (live symbols' rows are overwritten per bar)."""
    averages: list[tuple[list[float | None], list[float | None]]]
    """Per strategy, its fast and slow averages per row (``None`` while warming up)."""


class ReplayTargets:
    """Per-row targets and reasons of ``strategies`` blended by a ``FixedWeights`` allocator."""

    def __init__(
        self,
        frame: pl.DataFrame,
        first_row: int,
        n_symbols: int,
        strategies: list[MovingAverageCrossover],
        allocator: FixedWeights,
    ) -> None:
        """Compute on ``frame`` (sorted by timestamp then symbol, one row per symbol and step)
        the targets of every row from ``first_row`` on."""
        self.strategies = strategies
        self.n_symbols = n_symbols
        self.first_row = first_row
        close = pl.col("close")
        columns: list[pl.Expr] = []
        ties: list[pl.Expr] = []
        for i, s in enumerate(strategies):
            fast = close.rolling_mean(s.fast).over("symbol")
            slow = close.rolling_mean(s.slow).over("symbol")
            flat = -1.0 if s.allow_short else 0.0
            target = pl.when(slow.is_null()).then(0.0).when(fast > slow).then(1.0).otherwise(flat)
            columns += [fast.alias(f"_f{i}"), slow.alias(f"_s{i}"), target.alias(f"_t{i}")]
            ties.append((pl.col(f"_f{i}") - pl.col(f"_s{i}")).abs() <= TIE * pl.col(f"_s{i}").abs())
        named = {s.name: i for i, s in enumerate(strategies)}
        blend = pl.lit(0.0)
        for name, i in named.items():
            weight = allocator.weights.get(name, 0.0)
            if weight > 0:
                blend = blend + weight * pl.col(f"_t{i}")
        table = frame.select("symbol", "close").with_columns(columns)
        table = table.with_columns(blend.clip(-1.0, 1.0).alias("_target")).slice(first_row)
        tied = table.filter(pl.any_horizontal(ties)).get_column("symbol").unique()
        self.live = frozenset(tied.to_list())
        """Symbols whose targets come from the incremental strategies, bar by bar."""
        self._named = named
        self._table = table.drop("symbol")

    def chunk(self, start: int, rows: int) -> Chunk:
        """Rows ``start`` (a table row, at least ``first_row``) to ``start + rows`` as lists."""
        part = self._table.slice(start - self.first_row, rows)
        averages = [
            (part.get_column(f"_f{i}").to_list(), part.get_column(f"_s{i}").to_list())
            for i in range(len(self.strategies))
        ]
        return Chunk(
            start,
            part.get_column("close").to_list(),
            part.get_column("_target").to_list(),
            averages,
        )

    def signals(self, chunk: Chunk, row: int) -> dict[str, Signal]:
        """Every strategy's signal for one (not live) row, as its ``on_bar`` would give it."""
        out: dict[str, Signal] = {}
        index = row - chunk.start
        seen = row // self.n_symbols + 1
        for i, s in enumerate(self.strategies):
            fasts, slows = chunk.averages[i]
            fast, slow = fasts[index], slows[index]
            if slow is None or fast is None:
                out[s.name] = Signal.warming(min(seen, s.slow), s.slow)
            elif fast > slow:
                out[s.name] = Signal.later(1.0, _ABOVE.format, s.fast, fast, s.slow, slow)
            else:
                flat = -1.0 if s.allow_short else 0.0
                out[s.name] = Signal.later(flat, _BELOW.format, s.fast, fast, s.slow, slow)
        return out
