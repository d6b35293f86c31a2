"""Replaying a whole file through the engine's own decision cycle, with no report per cycle.

``run_replay(session)`` drives a started session to the end of its data (or until ``stop`` is
set, checked between cycles, so that what was written stays whole). Every cycle is
``TradingSession.advance``: the same bars, strategies, learning, risk gate, broker and audit rows
as the desk and ``tui-trader paper`` run, only without building the iteration report nobody
reads in a batch. There is no second copy of the money path to keep equal to the engine (the
vectorized fast path that mirrored it for the crossover was removed, issue 17).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_trader.engine.session import TradingSession


def run_replay(session: TradingSession, stop: threading.Event | None = None) -> int:
    """Run a started session to the end of its data, or until ``stop`` is set (checked between
    cycles: what was written stays whole); returns the cycles run."""
    before = session.iteration
    stop = stop or threading.Event()
    advance = session.advance
    while not stop.is_set() and advance():
        pass
    session.market_exhausted = not stop.is_set()
    return session.iteration - before
