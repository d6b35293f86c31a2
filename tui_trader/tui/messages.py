"""Typed messages from the session worker to the UI thread.

The worker only ever posts these; the App applies them. ``SessionReport`` is the frequent one: a
pending report is replaced by the next, which absorbs it, so a flood collapses into one message
without losing any order, fill or risk event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from tui_trader.core.domain import IterationReport
from tui_trader.tui.state import SessionInfo

if TYPE_CHECKING:
    from tui_trader.tui.monitor_halt import HaltStatus

MAX_BACKLOG = 2_000
"""Reports one coalesced message may carry (older ones are dropped beyond this)."""


class SessionStarted(Message):
    """The worker has built (or attached to) a session and is about to run it."""

    def __init__(self, info: SessionInfo) -> None:
        """Carry the session's fixed facts."""
        super().__init__()
        self.info = info


class SessionReport(Message):
    """One or more iteration reports, oldest first (coalesced while the UI was busy)."""

    def __init__(self, report: IterationReport) -> None:
        """Start with one report; ``can_replace`` prepends older ones."""
        super().__init__()
        self.reports: list[IterationReport] = [report]

    def can_replace(self, message: Message) -> bool:
        """Let a newer report supersede this one by taking this one's reports into its own."""
        if not isinstance(message, SessionReport):
            return False
        message.reports[:0] = self.reports
        del message.reports[:-MAX_BACKLOG]
        return True


class FollowNotice(Message):
    """A line about following the session: the monitor's store stopped answering, or answers
    again (``trouble`` False)."""

    def __init__(self, text: str, trouble: bool) -> None:
        """Carry the line and whether something is wrong."""
        super().__init__()
        self.text = text
        self.trouble = trouble


class HaltRequestStatus(Message):
    """The monitor's halt request changed: written, not yet (the store does not answer), or
    refused (posted from the request's writer thread, ``monitor_halt``)."""

    def __init__(self, status: HaltStatus) -> None:
        """Carry the request's new status."""
        super().__init__()
        self.status = status


class StartingNote(Message):
    """What a session being built waits for (the Alpaca key's next minute), in one line."""

    def __init__(self, text: str) -> None:
        """Carry the line."""
        super().__init__()
        self.text = text


class SessionFailedToStart(Message):
    """The session could not be built: bad settings, unreadable data, a locked database."""

    def __init__(self, error: str) -> None:
        """Carry the one-sentence reason."""
        super().__init__()
        self.error = error


class SessionEnded(Message):
    """The session's loop has returned: how it ended and, if it failed, why."""

    def __init__(
        self, status: str, iterations: int, error: str | None, stops_left: tuple[str, ...] = ()
    ) -> None:
        """Carry the runner's status, iteration count, error, and the positions it left
        without the stop it had cancelled (``RunResult.stops_left``)."""
        super().__init__()
        self.status = status
        self.iterations = iterations
        self.error = error
        self.stops_left = stops_left
