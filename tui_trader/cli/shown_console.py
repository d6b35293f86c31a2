"""Showing what the audit store (or a broker, or a user) wrote: literally, on the terminal and on
the desk.

Stored text (account keys, hosts, halt details, rationales, error text) is anybody's on a shared
store. Two ways it could act instead of being read: control characters (rich passes an escape
character through to the terminal as it is: ``core.shown.shown_text`` writes it as ``\\x1b``),
and markup (``[/]``, ``[bold]x``, ``[link=...]``, ``[@click=...]``: rich and Textual read square
brackets as styles, links and actions, and a closing tag that matches nothing raised
``MarkupError``, which ended ``status`` with a crash line). This module is the one place that
knows both:

- ``ShownConsole``: the console of the commands that print the store (``risk show``,
  ``status``, ``history``, ``pnl``, ``live status``, ``report``). It reads no markup at all and
  escapes the control characters of every string it is given (prints, table cells, titles).
- ``styled``: a line of plain and styled parts, each shown literally (where a line wants colour).
- ``shown``: one value as a literal ``Text`` (a desk widget, a table cell).
- ``shown_markup``: one value for a place that must read markup (a session's own coloured lines).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from tui_trader.core.shown import shown_text


class ShownConsole(Console):
    """A rich ``Console`` that never sends a control character from a string to the terminal
    (the lines it prints are single lines: a newline in a stored value is shown as ``\\n``)
    and reads no markup (colour comes from ``styled`` parts)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """A ``Console`` whose strings are never markup (``markup=False`` unless asked)."""
        kwargs.setdefault("markup", False)
        super().__init__(*args, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        """``Console.render_str`` of ``text`` with its control characters escaped."""
        return super().render_str(shown_text(text), **kwargs)


def shown(text: object, style: str = "") -> Text:
    """``text`` as a ``Text`` shown as it is: its control characters as escapes, its square
    brackets as square brackets."""
    return Text(shown_text(str(text)), style=style)


def styled(*parts: str | tuple[str, str]) -> Text:
    """One line of parts, each plain text or ``(text, style)``, every one shown literally:
    ``styled((" HALTED ", "bold white on red"), f" {reason}: {detail}")``."""
    line = Text()
    for part in parts:
        text, style = (part, "") if isinstance(part, str) else part
        line.append(shown_text(text), style=style)
    return line


def shown_markup(text: object) -> str:
    """``text`` ready to put into markup: control characters as escapes, then every square
    bracket that could open a tag escaped (``rich.markup.escape``), so it reads as typed."""
    return escape(shown_text(str(text)))
