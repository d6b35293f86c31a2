"""Cost of the learning step per decision cycle for 50 symbols: median microseconds.

The learning step is what the adaptive allocator adds to a cycle: for every symbol, observe the
bar (regime detector, shadow records, one weight update) and allocate (blend by the regime's
weights, scale for risk), plus the per-cycle risk update and the report fields. It is timed apart
from the strategies' own signals (shown too, for scale) and from the database write of the
learning tables (shown last). Run: ``python benchmarks/learning_step.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_trader.core.clock import FrozenClock
from tui_trader.learning.allocator import AdaptiveAllocator
from tui_trader.market.sim import SimMarket
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.learning_journal import StoreLearningJournal
from tui_trader.strategies.family import STRATEGY_NAMES, build_strategies

SYMBOLS = tuple(f"S{i:02d}" for i in range(50))
WARMUP_CYCLES = 200
TIMED_CYCLES = 500


def main() -> None:
    """Warm everything up on simulated bars, then time each cycle's learning step and the
    save of its learning (what changed since the last save: each cycle's own state)."""
    with tempfile.TemporaryDirectory() as tmp:
        _run(Path(tmp) / "bench.db")


def _run(path: Path) -> None:
    """The timed cycles on a database at ``path``."""
    sim = SimMarket(SYMBOLS, seed=42)
    strategies = build_strategies()
    allocator = AdaptiveAllocator(STRATEGY_NAMES)
    clock = FrozenClock(datetime(2026, 1, 5, 15, tzinfo=UTC), step=timedelta(seconds=1))
    db = open_database(path)
    audit = AuditLog(db, clock)
    audit.start_session("local", "paper", None, "bench", SYMBOLS, {})
    journal = StoreLearningJournal(audit, STRATEGY_NAMES)
    learn_us: list[float] = []
    signal_us: list[float] = []
    save_us: list[float] = []
    for cycle in range(WARMUP_CYCLES + TIMED_CYCLES):
        bars = sim.next_bars()
        t0 = time.perf_counter()
        signals = {sym: {s.name: s.on_bar(bar) for s in strategies} for sym, bar in bars.items()}
        t1 = time.perf_counter()
        for sym, bar in bars.items():
            allocator.observe(bar, signals[sym])
        allocator.set_risk(1.0, 5.0, False)
        for sym in bars:
            allocator.allocate(sym, signals[sym])
        allocator.regimes()
        allocator.current_weights()
        t2 = time.perf_counter()
        with db.atomic():
            journal.save(cycle, clock.now(), allocator.state())
        t3 = time.perf_counter()
        if cycle >= WARMUP_CYCLES:
            signal_us.append((t1 - t0) * 1e6)
            learn_us.append((t2 - t1) * 1e6)
            save_us.append((t3 - t2) * 1e6)
    db.close()
    print(f"learning step, {len(SYMBOLS)} symbols, {len(STRATEGY_NAMES)} strategies:")
    print(
        f"  median {statistics.median(learn_us):,.0f} us per cycle "
        f"({statistics.median(learn_us) / len(SYMBOLS):.1f} us per symbol; "
        f"p90 {statistics.quantiles(learn_us, n=10)[-1]:,.0f} us) over {TIMED_CYCLES} cycles"
    )
    print(f"  for scale: the strategies' signals take {statistics.median(signal_us):,.0f} us")
    print(
        f"  saving the cycle's learning (SQLite, WAL): median {statistics.median(save_us):,.0f} us"
    )


if __name__ == "__main__":
    main()
