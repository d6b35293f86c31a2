"""The runner keeps the garbage collector off what start-up built (issue 17: the full
collections over it were the local bar -> order p99 at 50 symbols)."""

from __future__ import annotations

import pytest

from tests.conftest import make_session
from tui_trader.session import runner
from tui_trader.session.runner import SessionRunner


def test_the_first_session_of_a_process_freezes_its_heap_before_its_first_cycle(
    db_path, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heap is frozen once, after the first session started and before it ran a cycle;
    a second session in the same process does not freeze again."""
    seen: list[tuple[bool, int]] = []
    first = make_session(db_path)
    monkeypatch.setattr(runner, "_heap_frozen", False)
    monkeypatch.setattr(runner.gc, "freeze", lambda: seen.append((first.started, first.iteration)))
    assert SessionRunner(first, iterations=2).run().status == "completed"
    second = make_session(tmp_path / "second.db")
    assert SessionRunner(second, iterations=2).run().status == "completed"
    assert seen == [(True, 0)]
