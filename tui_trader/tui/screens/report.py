"""The Report screen: one session's performance, the same figures as ``tui-trader report``.

The figures come from ``tui_trader.reporting`` (no trading logic here): a thread worker reads
the session's rows and computes the report, the screen shows the rich renderable. It opens on
the running session (else the latest one); the session picker shows any other, and the report
is read again each time the screen is shown or ``ctrl+l`` is pressed.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Select, Static

from tui_trader.tui.dbaccess import ensure_database
from tui_trader.tui.screens.first_resume import StyledOnMount
from tui_trader.tui.widgets.desk_footer import DeskFooter
from tui_trader.tui.widgets.deskbar import DeskBar


class ReportLoaded(Message):
    """A report read by the worker: the session picker's options and what to show."""

    def __init__(
        self, seq: int, sessions: list[tuple[str, str]], chosen: str | None, body: object
    ) -> None:
        """Carry the sessions (label, key), the key shown and the renderable."""
        super().__init__()
        self.seq = seq
        self.sessions = sessions
        self.chosen = chosen
        self.body = body


class ReportScreen(StyledOnMount, Screen[None]):
    """Performance of the current or a chosen session."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+l", "reload", "Refresh", id="report-refresh", tooltip="Read the report again"
        ),
    ]
    AUTO_FOCUS = "#report-body"

    def __init__(self, db_path: Path, current_key=None) -> None:
        """The database to read; ``current_key()`` names the running session, if any."""
        super().__init__(id="report")
        self.db_path = db_path
        self.current_key = current_key or (lambda: None)
        self.chosen: str | None = None
        self.seq = 0
        self.loaded = 0
        """Sequence number of the report on screen (tests wait on it)."""
        self.shown: str | None = None
        """Key of the session on screen."""

    def compose(self) -> ComposeResult:
        """Desk bar, session picker, the report, footer."""
        yield DeskBar()
        yield Select([], prompt="latest session", id="report-session", compact=True)
        with VerticalScroll(id="report-body"):
            yield Static(Text("reading the report…", style="dim"), id="report-content")
        yield DeskFooter()

    def on_mount(self) -> None:
        """Read the report."""
        self.action_reload()

    def on_screen_resume(self) -> None:
        """Fresh figures each time the screen is shown (a session may have traded since)."""
        if self.loaded:
            self.action_reload()

    def action_reload(self) -> None:
        """Read the chosen (else the running, else the latest) session's report."""
        self.seq += 1
        width = max(20, min(100, self.size.width - 16)) if self.size.width else 60
        self._read(self.seq, self.chosen or self.current_key(), width)

    @on(Select.Changed, "#report-session")
    def _picked(self, event: Select.Changed) -> None:
        """Show the picked session (the picker's own updates name the shown one: ignored)."""
        value = event.value
        if not isinstance(value, str) or value == self.shown:
            return
        self.chosen = value
        self.action_reload()

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _read(self, seq: int, key: str | None, width: int) -> None:
        """Compute the report on the worker's own connection, then hand it to the screen."""
        from tui_trader.cli.report_cmd import session_title
        from tui_trader.reporting.load import session_report
        from tui_trader.reporting.terminal import report_renderable
        from tui_trader.store.models import SessionRow
        from tui_trader.store.queries import find_session

        db = ensure_database(self.db_path)
        try:
            rows = SessionRow.select().order_by(SessionRow.id.desc()).limit(200)
            sessions = [(f"{s.key} {s.mode} {s.started_at:%Y-%m-%d %H:%M}", s.key) for s in rows]
            session = find_session(key)
            if session is None:
                body: object = Text("No sessions in this database yet.", style="dim")
                chosen = None
            else:
                body = report_renderable(session_report(session), session_title(session), width)
                chosen = session.key
        finally:
            db.close()
        self.post_message(ReportLoaded(seq, sessions, chosen, body))

    @on(ReportLoaded)
    def _loaded(self, message: ReportLoaded) -> None:
        """Show the report unless a newer read superseded it."""
        if message.seq != self.seq:
            return
        self.shown = message.chosen
        picker = self.query_one("#report-session", Select)
        picker.set_options(message.sessions)
        if message.chosen is not None:
            picker.value = message.chosen
        self.query_one("#report-content", Static).update(message.body)
        self.loaded = message.seq
