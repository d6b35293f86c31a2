"""The one-line bar on top of every screen: mode badge, trading state, session, staleness.

Every screen carries it, so the mode (LOCAL / PAPER / LIVE) and a HALTED state are never out of
sight. The app refreshes it from its tick; it reads plain values and never blocks.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from tui_trader.tui.state import DeskState, market_label
from tui_trader.tui.widgets.line import TextLine

BADGES = {
    "local": ("LOCAL", "bold black on #5fafd7"),
    "paper": ("PAPER", "bold black on #ffd75f"),
    "live": ("LIVE — REAL MONEY", "bold white on #d70000"),
}
"""Badge text and style per mode; live is unmistakable."""


def money(value: float, signed: bool = False) -> str:
    """Dollars with thousands separators (and a sign when asked)."""
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


def signed_text(value: float, suffix: str = "", pct: bool = False) -> Text:
    """A signed figure, green when up, red when down, plain at zero."""
    body = f"{value:+.2f}%" if pct else money(value, signed=True)
    style = "bold green" if value > 0 else "bold red" if value < 0 else ""
    return Text(body + suffix, style=style)


class DeskBar(TextLine):
    """Mode, state, session and how fresh the numbers are."""

    def show_desk(self, desk: DeskState, now: datetime | None) -> None:
        """Redraw from the desk (called by the app's tick on the visible screen)."""
        text = Text()
        info = desk.info
        if info is None:
            text.append(" NO SESSION ", style="bold black on #8a8a8a")
            text.append("  set one up and press Enter · ctrl+k is the kill switch", style="dim")
            self.show(text)
            return
        label, style = BADGES.get(info.mode, (info.mode.upper(), "bold reverse"))
        text.append(f" {label} ", style=style)
        text.append("  ")
        if desk.halted:
            text.append(" HALTED ", style="bold white on #d70000")
            if desk.ended:
                text.append(f" ENDED: {desk.ended} ", style="bold black on #8a8a8a")
        elif desk.ended:
            text.append(f" ENDED: {desk.ended} ", style="bold black on #8a8a8a")
        else:
            text.append(" ACTIVE ", style="bold black on #5fd75f")
        text.append(f" {info.key[:8]} · {info.connection}")
        report = desk.latest
        text.append(f" · {market_label(desk.bar_time, info.daily_bars)}")
        text.append(f" · iter {report.iteration if report else 0}")
        if desk.received_at is not None and now is not None:
            age = max((now - desk.received_at).total_seconds(), 0.0)
            stale = age > 10 and not desk.ended
            text.append(f" · updated {age:.0f}s ago", style="bold yellow" if stale else "dim")
        self.show(text)
