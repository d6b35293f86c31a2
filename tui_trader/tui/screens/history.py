"""The history browser (placeholder until the browser lands)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui_trader.clock import Clock
from tui_trader.tui.widgets.deskbar import DeskBar


class HistoryScreen(Screen[None]):
    """Orders, trades and risk events from the database."""

    AUTO_FOCUS = ""

    def __init__(self, db_path: Path, clock: Clock) -> None:
        super().__init__(id="history")
        self.db_path = db_path
        self.clock = clock

    def compose(self) -> ComposeResult:
        """Placeholder."""
        yield DeskBar()
        yield Static("history")
        yield Footer()
