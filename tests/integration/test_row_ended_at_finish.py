"""A session whose row is recorded ended during its last writes says one end: the record's.

Another desk's start may record a session ``died`` (its heartbeat gone stale) while that
session is writing its end: its working orders ended, its last snapshot. A heartbeat in those
writes' waits then found the row ended: the desk was told "session completed" (``finish`` told
it on its way out), then "session failed" (the runner's end for a row ended under it); with no
heartbeat in between, the end's own update left the row ``died`` and the desk was told only
"completed". Now the end is what happened to the row, told once: failed, because another
session recorded this one ended.
"""

from __future__ import annotations

import time
from pathlib import Path
from threading import Event
from typing import Any

import pytest

from tests.conftest import Flipper, make_session
from tui_trader.core import waiting
from tui_trader.engine.notices import SESSION_END, Notice
from tui_trader.session.runner import SessionRunner
from tui_trader.store import session_rows
from tui_trader.store.models import SessionRow
from tui_trader.store.pg_url import PgUrl


@pytest.mark.parametrize("beat", [True, False], ids=["heartbeat-in-a-wait", "the-ends-update"])
def test_a_row_recorded_died_during_the_last_writes_ends_the_session_once_as_failed(
    store: Path | PgUrl, beat: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = make_session(store, strategies=[Flipper()])
    told: list[Notice] = []
    session.notify = told.append
    assert session.audit.session is not None
    row_id = session.audit.session.id
    cancel_all, end_session = session.broker.cancel_all, session.audit.end_session

    def recorded_died() -> None:
        """Another desk's start records this session died (its heartbeat looked stale)."""
        SessionRow.update(status="died").where(SessionRow.id == row_id).execute()

    def cancel_with_a_heartbeat(*args: Any, **kwargs: Any) -> Any:
        """The end's cancel of the working orders waits, its heartbeat due, as the session
        is recorded died."""
        recorded_died()
        later = iter(range(int(time.monotonic()) + 3600, 10**12))
        monkeypatch.setattr(session_rows, "_since_boot", lambda: next(later))
        waiting.wait(Event(), 0.0)
        return cancel_all(*args, **kwargs)

    def end_after_recorded_died(*args: Any, **kwargs: Any) -> None:
        """The session is recorded died just before its end's own update."""
        recorded_died()
        end_session(*args, **kwargs)

    def at_the_end(report: Any) -> None:
        """After the last cycle: the end's writes meet the other desk's record."""
        if report.iteration == 3 and beat:
            monkeypatch.setattr(session.broker, "cancel_all", cancel_with_a_heartbeat)
        elif report.iteration == 3:
            monkeypatch.setattr(session.audit, "end_session", end_after_recorded_died)

    runner = SessionRunner(session, iterations=3, on_report=at_the_end)
    result = runner.run()

    assert result.status == "failed", result
    assert result.error is not None and "recorded died by another session" in result.error
    ends = [notice.action for notice in told if notice.event == SESSION_END]
    assert ends == ["session failed"], f"the desk was told {ends}"
    assert SessionRow.get_by_id(row_id).status == "died", "the record is left as it says"


def test_a_failed_cycle_whose_end_meets_the_record_tells_one_end(store: Path | PgUrl) -> None:
    """A cycle fails (an error that is not the store's); as the session writes its failure,
    its row is found recorded died: the end is told once, as failed, and the error is raised."""
    session = make_session(store, strategies=[Flipper()])
    told: list[Notice] = []
    session.notify = told.append
    assert session.audit.session is not None
    row_id = session.audit.session.id
    cycle = session.run_iteration

    def fails_once_recorded_died() -> Any:
        """The third cycle fails, and another desk's start has recorded this session died."""
        if session.iteration == 2:
            SessionRow.update(status="died").where(SessionRow.id == row_id).execute()
            raise KeyError("gremlin")
        return cycle()

    session.run_iteration = fails_once_recorded_died  # type: ignore[method-assign]
    with pytest.raises(KeyError, match="gremlin"):
        SessionRunner(session, iterations=5).run()
    ends = [(notice.action, notice.detail) for notice in told if notice.event == SESSION_END]
    assert ends == [("session failed", "KeyError: 'gremlin'")], ends
    assert SessionRow.get_by_id(row_id).status == "died"
