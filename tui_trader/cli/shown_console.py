"""The console of the commands that print what the audit store holds (``risk show``,
``status``, ``history``, ``pnl``, ``live status``).

Those lines put stored text (account keys, hosts, halt details, rationales) into markup and
tables. A shared store can hold anything another writer put there, escape sequences included,
and rich passes an escape character through to the terminal as it is. ``ShownConsole`` writes
every control character of a string it is given as its escape (``core.shown.shown_text``), in
the one place rich turns strings into text: a print or a table cell, whatever the command.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from tui_trader.core.shown import shown_text


class ShownConsole(Console):
    """A rich ``Console`` that never sends a control character from a string to the terminal
    (the lines it prints are single lines: a newline in a stored value is shown as ``\\n``)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        """``Console.render_str`` of ``text`` with its control characters escaped."""
        return super().render_str(shown_text(text), **kwargs)
