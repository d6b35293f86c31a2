"""Titled groups of ``name: value`` pairs packed into lines (the dashboard's regime and weights).

A pair never splits across lines (wrapped text once ended ``volatility:`` with its value cut off
below), and the widget packs again whenever its width changes.
"""

from __future__ import annotations

from rich.text import Text

from tui_trader.tui.widgets.line import TextLine


def packed(title: str, pairs: list[str], width: int) -> list[Text]:
    """``title`` and ``name: value`` pairs packed into lines of ``width`` cells; a pair never
    splits (a wrapped line once ended ``volatility:`` with its value cut off below)."""
    lines: list[Text] = []
    line = Text()
    line.append(title, style="bold")
    for pair in pairs:
        if len(line) + 2 + len(pair) > width and len(line) > len(title):
            lines.append(line)
            line = Text(" " * len(title))
        line.append("  " + pair)
    lines.append(line)
    return lines


class PackedLines(TextLine):
    """Titled groups of ``name: value`` pairs packed to the widget's width, re-packed when the
    width changes (packed once at the first draw's width, a wide screen kept narrow lines)."""

    def __init__(self, *, id: str | None = None) -> None:
        """No groups yet."""
        super().__init__("", id=id)
        self._groups: list[tuple[str, list[str]]] = []

    def set_groups(self, groups: list[tuple[str, list[str]]]) -> None:
        """New groups (repacked only when they differ)."""
        if groups != self._groups:
            self._groups = groups
            self._repack()

    def on_resize(self) -> None:
        """The width changed: pack again."""
        self._repack()

    def _repack(self) -> None:
        """Pack every group at the current width; as tall as the lines."""
        width = max(self.content_size.width or 40, 20)
        lines = [line for title, pairs in self._groups for line in packed(title, pairs, width)]
        if lines and (self.styles.height is None or self.styles.height.value != len(lines)):
            self.styles.height = len(lines)
        self.show(Text("\n").join(lines))
