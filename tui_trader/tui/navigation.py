"""Moving between the desk's screens: help, dashboard, history, report, fleet, setup.

A mixin of ``TraderApp``. Each screen is an app mode, so switching keeps its state; setup is the
one place that refuses while a session runs (or is being monitored), and says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from tui_trader.tui.screens.help import HelpScreen

if TYPE_CHECKING:
    from tui_trader.tui.state import DeskState


NAV_BINDINGS = [
    Binding("f1", "help", "Help", id="help", tooltip="Show every key"),
    Binding("f2", "show_dashboard", "Dashboard", id="dashboard", tooltip="The running session"),
    Binding(
        "f3",
        "show_history",
        "History",
        id="history",
        tooltip="Orders, trades, risk events and PnL from the database",
    ),
    Binding(
        "f12",
        "show_fleet",
        "Fleet",
        id="fleet",
        tooltip="Every session on this database, live; halt one account or all of them",
    ),
    Binding(
        "f9",
        "show_report",
        "Report",
        id="report",
        show=False,  # the footer is full at 80 columns; f1 and the palette list it
        tooltip="Performance of the current (or a chosen) session",
    ),
    Binding(
        "f4",
        "show_setup",
        "Setup",
        id="setup",
        tooltip="Set up a new session (when none is running)",
    ),
    Binding(
        "escape",
        "back",
        "Back",
        id="back",
        show=False,  # no room in the footer at 80 columns; f1 lists it
        tooltip="From history, report or fleet: back to the dashboard or setup",
    ),
]
"""The App's keys for moving between screens (the f-keys, escape), in the footer's order."""

BROWSED = ("history", "report", "fleet")
"""The screens Escape leaves, back to the dashboard or setup they were opened from."""


class Navigation:
    """The f-key actions; the app supplies ``screen``, ``switch_mode`` and its session state."""

    desk: DeskState
    monitor: object | None
    fleet_only: bool
    running: bool
    current_mode: str
    _back_to = "dashboard"
    """Where Escape on a ``BROWSED`` screen goes: the dashboard or setup it was opened from."""

    def action_help(self) -> None:
        """Show the key list."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_dashboard(self) -> None:
        """Go to the dashboard."""
        self.switch_mode("dashboard")

    def action_show_history(self) -> None:
        """Go to the history browser."""
        self._browse("history")

    def action_show_report(self) -> None:
        """Go to the Report screen."""
        self._browse("report")

    def action_show_fleet(self) -> None:
        """Go to the Fleet screen: every session on the database."""
        self._browse("fleet")

    def _browse(self, mode: str) -> None:
        """Switch to ``mode``, one of ``BROWSED``, remembering the dashboard or setup left."""
        if self.current_mode in ("dashboard", "setup"):
            self._back_to = self.current_mode
        self.switch_mode(mode)

    def action_back(self) -> None:
        """Escape on History, Report or Fleet: back to the dashboard or setup it was opened
        from (setup only while it is available). Escape did nothing there, and at 80 columns
        their footers have no room left for f2. Nothing elsewhere, nor where Fleet is the one
        screen (``live monitor --all``); a dialog's or an open list's own Escape comes first."""
        if self.current_mode not in BROWSED or self.fleet_only:
            return
        setup = self._back_to == "setup" and not self.running and self.monitor is None
        self.switch_mode("setup" if setup else "dashboard")

    def _session_key(self) -> str | None:
        """The key of the session on the desk (the Report screen opens on it)."""
        return self.desk.info.key if self.desk.info is not None else None

    def action_show_setup(self) -> None:
        """Go to the setup screen (only when no session runs); otherwise say why not."""
        if self.monitor is not None or self.fleet_only:
            self.notify("Setup is unavailable while monitoring sessions run elsewhere.")
            return
        if self.running:
            self.notify(
                "Setup is unavailable while a session runs: stop it first (ctrl+s), "
                "or quit (ctrl+q).",
                severity="warning",
            )
            return
        self.switch_mode("setup")
