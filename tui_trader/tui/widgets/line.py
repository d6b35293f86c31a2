"""A fixed-height text widget that repaints only itself, and only when its text changes.

``Static.update`` asks for a layout pass (its size may change); on a dashboard that redraws ten
times a second those passes were most of the UI thread's time. A line has a fixed height (one
row unless the stylesheet gives it more; longer text wraps inside it), so a change is a plain
repaint.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TextLine(Widget):
    """Shows one rich ``Text`` in a fixed height; ``show`` repaints only when the text differs."""

    DEFAULT_CSS = """
    TextLine {
        height: 1;
        width: 1fr;
    }
    """

    def __init__(self, text: Text | str = "", *, id: str | None = None, classes: str | None = None):
        """Start with ``text``."""
        super().__init__(id=id, classes=classes)
        self._text = Text(text) if isinstance(text, str) else text

    def show(self, text: Text | str) -> None:
        """Replace the text; repaint if it changed."""
        new = Text(text) if isinstance(text, str) else text
        if new != self._text:
            self._text = new
            self.refresh()

    def render(self) -> Text:
        """The current text."""
        return self._text
