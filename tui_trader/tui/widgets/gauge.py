"""A horizontal gauge of a measure against its limit (drawdown, daily loss, orders used).

The gauge fits its own width: the bar takes what the label and the figures leave (at least
``MIN_BAR`` cells), and the figures shorten (``0.65%/5%``) where the full form would not fit, so
three gauges share an 80-column row without running into each other.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

WIDTH = 10
"""Bar cells where there is room."""
MIN_BAR = 3
"""The fewest bar cells a gauge draws."""


def _figures(value: float, limit: float, unit: str, short: bool) -> str:
    """``0.65% / 5.00%`` or, short, ``0.65%/5%``."""
    if unit == "%":
        return f"{value:.2f}%/{limit:g}%" if short else f"{value:.2f}% / {limit:.2f}%"
    return f"{value:.0f}/{limit:.0f}{unit}" if short else f"{value:.0f} / {limit:.0f}{unit}"


def gauge_text(label: str, value: float, limit: float, unit: str = "%", width: int = 0) -> Text:
    """``Drawdown ███░░░ 1.20% / 5.00%``, green under half the limit, yellow, then red; fitted
    to ``width`` cells when given."""
    ratio = min(max(value / limit, 0.0), 1.0) if limit > 0 else 0.0
    figures = _figures(value, limit, unit, short=False)
    bar = WIDTH
    if width:
        room = width - len(label) - len(figures) - 2
        if room < WIDTH:
            figures = _figures(value, limit, unit, short=True)
            room = width - len(label) - len(figures) - 2
        bar = max(min(room, WIDTH), MIN_BAR)
    filled = round(ratio * bar)
    colour = "green" if ratio < 0.5 else "yellow" if ratio < 0.8 else "bold red"
    text = Text()
    text.append(label, style="bold")
    text.append(" ")
    text.append("█" * filled, style=colour)
    text.append("░" * (bar - filled), style="dim")
    text.append(" ")
    text.append(figures, style=colour)
    return text


class Gauge(Widget):
    """A gauge the dashboard updates with ``gauge``; it repaints only when a figure changes."""

    DEFAULT_CSS = """
    Gauge {
        height: 1;
        width: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """Empty until the first ``gauge``."""
        super().__init__(id=id, classes=classes)
        self._values: tuple[str, float, float, str] | None = None

    def gauge(self, label: str, value: float, limit: float, unit: str = "%") -> None:
        """Take new figures (repaints only on a change)."""
        values = (label, value, limit, unit)
        if values != self._values:
            self._values = values
            self.refresh()

    def blank(self) -> None:
        """Show nothing, as before the first ``gauge`` (a new session has no figures yet)."""
        if self._values is not None:
            self._values = None
            self.refresh()

    def render(self) -> Text:
        """The gauge fitted to the widget's width."""
        if self._values is None:
            return Text()
        label, value, limit, unit = self._values
        return gauge_text(label, value, limit, unit, self.content_size.width)
