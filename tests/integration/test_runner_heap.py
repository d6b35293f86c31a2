"""The runner and a batch replay keep the garbage collector off what start-up built (issue 17:
the full collections over it were the local bar -> order p99 at 50 symbols, and a batch
replay's last collection at exit walked all of it again)."""

from __future__ import annotations

import pytest

from tests.conftest import make_session
from tui_trader.engine import collector
from tui_trader.engine.replay_batch import run_replay
from tui_trader.engine.session import TradingSession
from tui_trader.session.runner import SessionRunner


def test_the_first_session_of_a_process_freezes_its_heap_before_its_first_cycle(
    db_path, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heap is frozen once, after the first session started and before it ran a cycle;
    a second session in the same process does not freeze again."""
    seen: list[tuple[bool, int]] = []
    first = make_session(db_path)
    monkeypatch.setattr(collector, "_heap_frozen", False)
    monkeypatch.setattr(
        collector.gc, "freeze", lambda: seen.append((first.started, first.iteration))
    )
    assert SessionRunner(first, iterations=2).run().status == "completed"
    second = make_session(tmp_path / "second.db")
    assert SessionRunner(second, iterations=2).run().status == "completed"
    assert seen == [(True, 0)]


def _ending_after(session: TradingSession, cycles: int) -> TradingSession:
    """The session's market ends after ``cycles`` bar times (the simulated one never does)."""
    next_bars = session.market.next_bars
    left = [cycles]

    def bars():
        left[0] -= 1
        return next_bars() if left[0] >= 0 else None

    session.market.next_bars = bars  # type: ignore[method-assign]
    return session


def test_a_batch_replay_freezes_the_heap_once_before_its_first_cycle(
    db_path, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_replay`` (``paper --batch``) freezes the heap as the runner does: once per
    process, after the session started and before its first cycle; the cycles still run."""
    seen: list[tuple[bool, int]] = []
    first = _ending_after(make_session(db_path), 3)
    monkeypatch.setattr(collector, "_heap_frozen", False, raising=False)
    monkeypatch.setattr(
        collector.gc, "freeze", lambda: seen.append((first.started, first.iteration))
    )
    assert run_replay(first) == 3
    second = _ending_after(make_session(tmp_path / "second.db"), 2)
    assert run_replay(second) == 2
    assert seen == [(True, 0)]
