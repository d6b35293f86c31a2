"""The dashboard's two logs, Orders & fills and Risk events: each new line once, and every line
written again when a log's width changes.

A log keeps its lines wrapped at the width they were written at, and its scroll offset. After a
resize the newest risk events sank out of sight (the panel's last line read as the latest
event), and lines wrapped for a wider panel were cut at a narrower one's edge. The desk keeps
the newest orders, fills and events (``DeskState.activity``, ``events``), so the logs are
written again from it.
"""

from __future__ import annotations

from tui_trader.core.orders import Fill
from tui_trader.tui.state import DeskState, newest
from tui_trader.tui.widgets.cells import event_line, fill_line, note_line, order_line
from tui_trader.tui.widgets.fast_log import FastLog

LOG_LINES = 200
"""Lines each log keeps."""


class DeskLogs:
    """The orders and events logs of one dashboard, and how much of the desk they show."""

    def __init__(self) -> None:
        """The two logs, to be mounted by the dashboard; nothing written yet."""
        self.orders = FastLog(id="orders-log", max_lines=LOG_LINES, wrap=True, min_width=20)
        self.events = FastLog(id="events-log", max_lines=LOG_LINES, wrap=True, min_width=20)
        self._written = {"activity": 0, "events": 0}
        self._widths = (0, 0)
        """The logs' widths when they were last written whole (0: not yet)."""

    def _widths_now(self) -> tuple[int, int]:
        """The logs' text widths as laid out now."""
        return (
            self.orders.scrollable_content_region.width,
            self.events.scrollable_content_region.width,
        )

    def append(self, desk: DeskState) -> None:
        """Append the orders, fills and risk events not shown yet."""
        self.orders.write_lines(
            fill_line(item) if isinstance(item, Fill) else order_line(item)
            for item in newest(desk.activity, desk.activity_seen, self._written["activity"])
        )
        self.events.write_lines(
            note_line(event) if isinstance(event, str) else event_line(event)
            for event in newest(desk.events, desk.events_seen, self._written["events"])
        )
        self._written = {"activity": desk.activity_seen, "events": desk.events_seen}

    def resized(self) -> bool:
        """Whether a log's width changed since the logs were last written whole (a resize
        whose ``follow`` ran before the new layout)."""
        now = self._widths_now()
        return self._widths != (0, 0) and now != self._widths and all(now)

    def follow(self, desk: DeskState) -> None:
        """The newest line of both logs in view; every line written again first if a log's
        width changed since."""
        widths = self._widths_now()
        if widths != self._widths and all(widths):
            self._widths = widths
            self.clear()
            self.append(desk)  # every line the desk still keeps
            for log in (self.orders, self.events):
                log.refresh()  # else a log could keep showing its old lines (seen in tmux)
        for log in (self.orders, self.events):
            log.scroll_end(animate=False, immediate=True)

    def clear(self) -> None:
        """Empty both logs (a new session); the next ``append`` writes what the desk keeps."""
        self.orders.clear()
        self.events.clear()
        self._written = {"activity": 0, "events": 0}
