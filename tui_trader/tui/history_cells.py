"""The history browser's pieces that are not the screen: a fetched page, the message that
carries it to the UI thread, and how a stored value becomes a table cell that fits its column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rich.text import Text
from textual.message import Message

VIEW_TITLES = {"orders": "Orders", "trades": "Trades", "events": "Risk events", "pnl": "PnL by day"}
UNREADABLE = Text("-", style="dim", justify="right")
"""A stored number nobody can read (a hand edit), as the command line's ``history`` shows it."""
PNL_COLUMNS = (("Day", 12), ("Trades", 7), ("Realized", 12), ("End equity", 14), ("Change", 12))


@dataclass(frozen=True, slots=True)
class Page:
    """One fetched page: what was asked and what came back."""

    seq: int
    view: str
    rows: list[tuple]
    total: int
    offset: int
    sessions: list[tuple[int, str, str, str]]
    notes: list[str]
    """The page's unreadable numbers (``stored_numbers.shown``), one line each."""


class PageLoaded(Message):
    """A page fetched by the history worker."""

    def __init__(self, page: Page) -> None:
        """Carry the page."""
        super().__init__()
        self.page = page


def fitted_number(value: float, width: int) -> str:
    """A float as its column can show it whole: two decimals; else none; else in thousands,
    millions, billions. The table cuts what is wider than the column, and a cut number
    misreads: a halt's equity of 100,568.38 in the 8-wide Value column showed ``100,568.``."""
    text = f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if len(text) <= width:
        return text
    text = f"{value:,.0f}"
    for scale, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "B")):
        if len(text) <= width:
            return text
        text = f"{value / scale:,.1f}{suffix}"
        if len(text) > width:
            text = f"{value / scale:,.0f}{suffix}"
    return text if len(text) <= width else f"{value:.0e}"


def table_cell(value: Any, width: int) -> Text:
    """A table cell: numbers right-aligned, rounded to fit the column whole; text cut to it."""
    if value is None:
        return Text("")
    if isinstance(value, Text):
        return value
    if isinstance(value, float):
        return Text(fitted_number(value, width), justify="right")
    if isinstance(value, int):
        return Text(str(value), justify="right")
    if isinstance(value, datetime):
        return Text(f"{value:%Y-%m-%d %H:%M}")
    return Text(str(value))


def pnl_cells(row: tuple, widths: list[int]) -> list[Text]:
    """A PnL-by-day row's cells: the day, its trades, then dollars with two decimals as the
    command line's ``pnl`` prints them, realized PnL and change signed. As any number, a day
    without trades read ``0`` and half a dollar ``0.5`` (four significant digits below 1)."""
    cells = [table_cell(value, width) for value, width in zip(row[:2], widths, strict=False)]
    for value, width, signed in zip(row[2:], widths[2:], (True, False, True), strict=False):
        if isinstance(value, float | int) and not isinstance(value, bool):
            text = f"{value:+,.2f}" if signed else f"{value:,.2f}"
            cells.append(Text(text if len(text) <= width else fitted_number(value, width)))
            cells[-1].justify = "right"
        else:
            cells.append(table_cell(value, width))
    return cells


def filter_date(text: str) -> date | None:
    """A YYYY-MM-DD filter value (None when empty); raise ValueError when malformed."""
    return date.fromisoformat(text.strip()) if text.strip() else None
