"""A live session started after the close says so, and when the market opens (issue 12, §5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.testing import running_sandbox, wait_until
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


class RunningClock:
    """The sandbox's clock: this machine's, moved by ``offset`` (a broker whose clock runs
    ahead of this machine's, or this machine's clock behind)."""

    def __init__(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)

    def set(self, at: datetime) -> None:
        """Jump to ``at``; the clock runs on from there."""
        self.offset = at - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def test_the_close_is_told_by_the_brokers_clock_not_this_machines(tmp_path: Path) -> None:
    """The market clock read a moment before the close said "open"; the close then passes by
    the broker's clock while this machine's clock, behind it, has not reached it yet. The
    desk says the market is closed (before, it kept the cached "open" until its own clock
    passed the close, up to 30 s, and a cycle on the day's last bar sent market orders after
    the close: Alpaca queues them for the next open)."""
    close = datetime(2027, 1, 12, 16, 0, tzinfo=NEW_YORK)  # a Tuesday
    clock = RunningClock(close - timedelta(hours=1))
    with running_sandbox(hours="real", now=clock) as sb:
        session = alpaca_session(sb, tmp_path / "close.db")
        try:
            session.sync_orders()  # the stream's first connection synced
            clock.set(close - timedelta(seconds=0.3))
            session.broker._clock = None  # type: ignore[attr-defined]  # read it afresh now
            assert session.broker.trading_ready() is None, "open a moment before the close"
            wait_until(lambda: clock() > close, timeout=5, what="the close, by the broker's clock")
            report = session.run_iteration()  # no new bar: the session says why it waits
            assert report is not None, "the close passed unnoticed"
            assert "market closed" in report.notes[0]
        finally:
            session.broker.close()
        assert LiveOrder.select().count() == 0
