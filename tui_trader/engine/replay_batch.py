"""Replaying a whole file through the engine's own decision cycle, with no report per cycle.

``run_replay(session)`` drives a started session to the end of its data (or until ``stop`` is
set, checked between cycles, so that what was written stays whole). Every cycle is
``TradingSession.advance``: the same bars, strategies, learning, risk gate, broker and audit rows
as the desk and ``tui-trader paper`` run, only without building the iteration report nobody
reads in a batch. There is no second copy of the money path to keep equal to the engine (the
vectorized fast path that mirrored it for the crossover was removed, issue 17).

While it runs, Python's garbage collector looks at the young generation after
``BATCH_YOUNG_THRESHOLD`` new objects rather than the interpreter's 700 (``batch_collector``).
A replay makes objects by the hundred thousand (each chunk of the file's bars, every bar's
signals) that nearly all die by reference counting or live to the end, and the collections they
set off (about one a cycle at 100 symbols, every tenth of them a middle one, and full ones that
walk every bar converted so far) were ~5% of a 100-symbol replay's CPU time. Nothing a decision
reads depends on when the collector runs; it still runs (between cycles, ``engine.collector``),
so garbage with reference cycles is still freed, at most that many objects later. What exists
before the first cycle (modules, the warm-up, the strategies' and learner's state) is frozen
out of the collector's sight once per process (``engine.collector.freeze_startup_heap``), as
``SessionRunner.run`` does for a session run cycle by cycle: the full collections of a replay,
and the interpreter's at exit, no longer walk it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tui_trader.engine.collector import freeze_startup_heap

if TYPE_CHECKING:
    from tui_trader.engine.session import TradingSession

BATCH_YOUNG_THRESHOLD = 50_000
"""Objects made (less those freed) between two young-generation collections in a batch replay
(the interpreter's default is 700; measured in docs/performance.md, 2026-12-06)."""


@contextmanager
def batch_collector() -> Iterator[None]:
    """Collect the young generation less often while the block runs; the thresholds set before
    are restored after it, whatever it raised (a desk or a later session in the same process
    keeps its own)."""
    young, middle, old = gc.get_threshold()
    if young and young < BATCH_YOUNG_THRESHOLD:  # 0: automatic collection is left as set
        gc.set_threshold(BATCH_YOUNG_THRESHOLD, middle, old)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)


def run_replay(session: TradingSession, stop: threading.Event | None = None) -> int:
    """Run a started session to the end of its data, or until ``stop`` is set (checked between
    cycles: what was written stays whole); returns the cycles run."""
    before = session.iteration
    stop = stop or threading.Event()
    advance = session.advance
    freeze_startup_heap()  # as ``SessionRunner.run`` does before a process's first cycle
    with batch_collector():
        while not stop.is_set() and advance():
            pass
    session.market_exhausted = not stop.is_set()
    return session.iteration - before
