"""Python's garbage collector runs between decision cycles, never inside one (issue 17: its
collections landed between a bar's arrival and the cycle's orders, some of the local
bar -> order p99), and is never left off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tests.conftest import make_session
from tui_trader.engine.session import TradingSession


@pytest.fixture
def eager_collector() -> Iterator[None]:
    """A young generation collected every 50 net allocations (700 by default), so that a few
    cycles of a 3-symbol session reach it many times; the settings restored after."""
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(50, 1_000, 1_000)
    gc.enable()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if not enabled:
            gc.disable()


def _cycles_marked(session: TradingSession, inside: list[bool]) -> None:
    """``inside[0]`` turns True when a cycle has its bars (the start of bar -> order)."""
    next_bars = session.market.next_bars

    def marked():
        bars = next_bars()
        inside[0] = True
        return bars

    session.market.next_bars = marked  # type: ignore[method-assign]


def test_collections_run_between_cycles_not_inside_them(db_path, eager_collector) -> None:
    """Every collection of 30 cycles starts outside a cycle; collections still run (the
    garbage of a cycle is collected after it), and the collector is on after each cycle."""
    session = make_session(db_path)
    inside = [False]
    starts: list[bool] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start":
            starts.append(inside[0])

    _cycles_marked(session, inside)
    gc.callbacks.append(seen)
    try:
        for _ in range(30):
            session.run_iteration()
            inside[0] = False
            assert gc.isenabled()
            _ = [[] for _ in range(60)]  # what a runner allocates between cycles
    finally:
        gc.callbacks.remove(seen)
    assert session.iteration == 30
    assert starts, "no collection ran at all"
    assert starts.count(True) == 0, f"{starts.count(True)} of {len(starts)} inside a cycle"


def test_a_batch_cycle_holds_the_collector_off_too(db_path, eager_collector) -> None:
    """``advance`` (a replay's ``--batch``) holds it off the same way."""
    session = make_session(db_path)
    inside = [False]
    starts: list[bool] = []
    _cycles_marked(session, inside)
    gc.callbacks.append(lambda phase, info: starts.append(inside[0]) if phase == "start" else None)
    try:
        for _ in range(30):
            assert session.advance()
            inside[0] = False
            _ = [[] for _ in range(60)]
    finally:
        gc.callbacks.pop()
    assert starts and True not in starts


def test_a_failing_cycle_turns_the_collector_back_on(db_path) -> None:
    """A cycle that raises leaves the collector on; one turned off by the program stays off."""
    session = make_session(db_path)

    def broken():
        raise RuntimeError("feed down")

    session.market.next_bars = broken  # type: ignore[method-assign]
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        session.run_iteration()
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(RuntimeError):
            session.run_iteration()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_batch_replay_collects_less_often_and_restores_the_settings(db_path) -> None:
    """``run_replay`` (``paper --batch``) collects the young generation after
    ``BATCH_YOUNG_THRESHOLD`` objects while it runs, and gives the process back the thresholds
    it had, also when a cycle raises; a program that set its own higher threshold keeps it."""
    from tui_trader.engine.replay_batch import BATCH_YOUNG_THRESHOLD, run_replay

    before = gc.get_threshold()
    session = make_session(db_path)
    seen: list[tuple[int, int, int]] = []
    next_bars = session.market.next_bars
    calls = [0]

    def watched():
        calls[0] += 1
        seen.append(gc.get_threshold())
        if calls[0] == 5:
            raise RuntimeError("feed down")
        return next_bars()

    session.market.next_bars = watched  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        run_replay(session)
    assert seen and all(t[0] == BATCH_YOUNG_THRESHOLD for t in seen)
    assert seen[0][1:] == before[1:]
    assert gc.get_threshold() == before
    gc.set_threshold(BATCH_YOUNG_THRESHOLD * 2, *before[1:])
    try:
        session.market.next_bars = lambda: (seen.append(gc.get_threshold()), None)[1]  # type: ignore[method-assign]
        run_replay(session)
        assert seen[-1][0] == BATCH_YOUNG_THRESHOLD * 2
    finally:
        gc.set_threshold(*before)
