"""A horizontal gauge of a measure against its limit (drawdown, daily loss, orders used)."""

from __future__ import annotations

from rich.text import Text

from tui_trader.tui.widgets.line import TextLine

WIDTH = 10
"""Bar cells."""


def gauge_text(label: str, value: float, limit: float, unit: str = "%") -> Text:
    """``Drawdown ███░░░ 1.20% / 5.00%``, green under half the limit, yellow, then red."""
    ratio = min(max(value / limit, 0.0), 1.0) if limit > 0 else 0.0
    filled = round(ratio * WIDTH)
    colour = "green" if ratio < 0.5 else "yellow" if ratio < 0.8 else "bold red"
    text = Text(f"{label} ", style="bold")
    text.append("█" * filled, style=colour)
    text.append("░" * (WIDTH - filled), style="dim")
    if unit == "%":
        text.append(f" {value:.2f}% / {limit:.2f}%", style=colour)
    else:
        text.append(f" {value:.0f} / {limit:.0f}{unit}", style=colour)
    return text


class Gauge(TextLine):
    """A gauge the dashboard redraws with ``show``."""

    def gauge(self, label: str, value: float, limit: float, unit: str = "%") -> None:
        """Redraw with new values (repaints only on a change)."""
        self.show(gauge_text(label, value, limit, unit))
