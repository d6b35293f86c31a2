"""The one-line bar on top of every screen: mode badge, trading state, session, staleness.

Every screen carries it, so the mode (LOCAL / PAPER / LIVE) and a HALTED state are never out of
sight. The app refreshes it from its tick; it reads plain values and never blocks.
"""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from rich.text import Text

from tui_trader.tui.state import DeskState, bar_clock, market_clock
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

    def on_mount(self) -> None:
        """Drawn from the desk at once, not at the app's next tick: the screen's first frame
        carries the bar ("NO SESSION" on the setup screen). The tick's first redraw came after
        the setup form's first check (~0.4 s of CPU), so the first screen showed an empty bar.
        """
        desk = getattr(self.app, "desk", None)
        if isinstance(desk, DeskState):
            self.show_desk(desk, self.app.clock.now())  # type: ignore[attr-defined]

    def show_desk(self, desk: DeskState, now: datetime | None) -> None:
        """Redraw from the desk (called by the app's tick on the visible screen).

        Where the bar is too narrow for everything, the connection goes first, then the session
        key, then the iteration: the badge, the state, the market clock and the staleness stay.
        Still too narrow, they shorten: the clock to the session and its countdown, then the
        exposure cut and the staleness to their figures. A LIVE desk at 80 columns lost the
        end of its bar: "updated 0s" without "ago", and with an exposure cut no staleness at
        all (a desk no longer updated looked live).
        """
        info = desk.info
        if info is None and desk.starting:
            label, style = BADGES.get(desk.starting, (desk.starting.upper(), "bold reverse"))
            text = Text()
            text.append(f" {label} ", style=style)
            text.append("  ")
            text.append(" STARTING ", style="bold black on #d7d75f")
            doing = desk.starting_note or "building the session: market data, broker"
            text.append(f"  {doing} · ctrl+k halts", style="dim")
            self.show(text)
            return
        if info is None:
            text = Text()
            if getattr(self.app, "fleet_only", False):  # live monitor --all: nothing runs here
                text.append(" FLEET ", style="bold black on #5fafff")
                text.append("  every session on this database · ctrl+k halts a row's account")
            else:
                text.append(" NO SESSION ", style="bold black on #8a8a8a")
                text.append("  set one up and press Enter · ctrl+k is the kill switch", style="dim")
            self.show(text)
            return
        label, style = BADGES.get(info.mode, (info.mode.upper(), "bold reverse"))
        if desk.halted:
            state = (" HALTED ", "bold white on #d70000")
            if desk.ended:  # the followed session ended (or died) halted: say both
                state = (f" HALTED  ENDED: {desk.ended} ", "bold white on #d70000")
        elif desk.ended:
            state = (f" ENDED: {desk.ended} ", "bold black on #8a8a8a")
        elif desk.halt_request:  # the monitor asked the followed session to halt
            state = (" HALT REQUESTED ", "bold white on #d75f00")
            if desk.halt_refused:
                state = (" HALT NOT WRITTEN ", "bold white on #d70000")
        else:
            state = (" ACTIVE ", "bold black on #5fd75f")
        report = desk.latest
        clock_ts = desk.bar_time if info.mode == "local" or now is None else now
        if info.recorded:  # a replay's bars keep their own hours, long before now
            clock = bar_clock(desk.bar_time, info.daily_bars)
        else:
            clock = market_clock(clock_ts, info.daily_bars)
        parts: list[tuple[str, str, str]] = [  # (what, text, style)
            ("key", f" {info.key[:8]}", ""),
            ("connection", f" · {info.connection}", ""),
            ("clock", f" · {clock}", ""),
            ("iter", f" · iter {report.iteration if report else 0}", ""),
        ]
        if desk.unreachable and not desk.ended:  # the monitor's store: it keeps trying
            parts.insert(0, ("store", " · STORE UNREACHABLE, retrying", "bold yellow"))
        if desk.halt_request and not desk.halted:  # whether the request is written yet
            style = "bold" if desk.halt_written else "bold yellow"
            parts.insert(0, ("halt", f" {desk.halt_request}", style))
        shorter: dict[str, str] = {}  # what: its shorter text, for a bar still too narrow
        if report is not None and report.exposure < 1.0 and not desk.halted:
            # the drawdown nears its limit: the blend trades a share of its targets, and near
            # the limit none at all, so an ACTIVE desk would sit still without a word
            parts.append(("exposure", f" · exposure cut to {report.exposure:.0%}", "bold yellow"))
            shorter["exposure"] = f" · exposure {report.exposure:.0%}"
        if desk.received_at is not None and now is not None:
            age = max((now - desk.received_at).total_seconds(), 0.0)
            stale = age > 10 and not desk.ended
            parts.append(("age", f" · updated {age:.0f}s ago", "bold yellow" if stale else "dim"))
            shorter["age"] = f" · {age:.0f}s ago"
        width = self.content_size.width or 200
        fixed = len(label) + 2 + 2 + len(state[0])
        for drop in ("connection", "key", "iter", "clock", "exposure", "age"):
            if fixed + sum(cell_len(p[1]) for p in parts) <= width:
                break
            if drop in ("connection", "key", "iter"):
                parts = [p for p in parts if p[0] != drop]
                continue
            if drop == "clock" and not info.recorded and not info.daily_bars:
                shorter["clock"] = f" · {market_clock(clock_ts, False, short=True)}"
            if drop in shorter:  # the clock, exposure and staleness stay, shorter
                parts = [(w, shorter[w] if w == drop else t, s) for w, t, s in parts]
        text = Text()
        text.append(f" {label} ", style=style)
        text.append("  ")
        text.append(*state)
        for _, part, part_style in parts:
            text.append(part, style=part_style)
        self.show(text)
