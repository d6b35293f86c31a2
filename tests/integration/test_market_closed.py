"""A live session started after the close says so, and when the market opens (issue 12, §5)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.models import LiveOrder


class FakeClock:
    """The sandbox's wall clock, set by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_after_the_close_each_cycle_says_closed_and_when_it_opens(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 24, 17, 0, tzinfo=NEW_YORK))  # a Tuesday, closed
    with running_sandbox(hours="real", now=clock) as sb:
        session = alpaca_session(sb, tmp_path / "closed.db")
        try:
            report = session.run_iteration()  # no new bar comes while the market is closed
            assert report is not None, "a closed market is not silence"
            (note,) = report.notes
            assert "market closed" in note
            assert "2026-11-25 09:30" in note and "in 16h 30m" in note
            assert report.equity > 0, "the line shows the account as last read"
            assert session.run_iteration() is None, "the same words are not repeated"
            clock.now = datetime(2026, 11, 24, 17, 2, tzinfo=NEW_YORK)
            session.broker._clock = None  # type: ignore[attr-defined]  # the cache's 30 s
            later = session.run_iteration()
            assert later is not None and "in 16h 28m" in later.notes[0]
        finally:
            session.broker.close()
        assert LiveOrder.select().count() == 0
