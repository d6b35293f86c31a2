"""How the dashboard writes things: table cells, order / fill / risk-event lines, regime labels.

Each line starts from a plain ``Text`` and styles only its own spans: a ``Text`` made with a style
gives that style to everything appended later (the whole fill line came out bold cyan).
"""

from __future__ import annotations

from collections import Counter

from rich.text import Text

from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import Fill, Order
from tui_trader.core.prices import price_text
from tui_trader.risk.event_text import event_measure
from tui_trader.tui.widgets.deskbar import signed_text

REGIMES_LISTED = 4
"""Up to this many symbols the regime line names each one; beyond, it counts the labels."""


def regime_summary(regimes: dict[str, str]) -> str:
    """Each symbol's regime for a few symbols; for many, how many symbols are in each regime
    (fifty labels would push the orders and risk events off the screen)."""
    if len(regimes) <= REGIMES_LISTED:
        return "  ".join(f"{s}: {r}" for s, r in sorted(regimes.items()))
    ranked = sorted(Counter(regimes.values()).items(), key=lambda item: (-item[1], item[0]))
    return " · ".join(f"{n} {label}" for label, n in ranked)


def num(value: float, fmt: str = ",.2f") -> Text:
    """A right-aligned number cell."""
    return Text(format(value, fmt), justify="right")


def price_cell(value: float) -> Text:
    """A right-aligned price cell (``price_text``: four decimals under 10)."""
    return Text(price_text(value), justify="right")


def signed_cell(value: float | None, pct: bool = False) -> Text:
    """A right-aligned signed, coloured cell (``—`` when unknown)."""
    if value is None:
        return Text("—", justify="right", style="dim")
    text = signed_text(value, pct=pct)
    text.justify = "right"
    return text


def order_line(order: Order) -> Text:
    """One order for the orders log."""
    colour = "green" if order.side == "buy" else "red"
    text = Text()
    text.append(f"{order.side.upper():4}", style=f"bold {colour}")
    text.append(f" {order.qty:g} {order.symbol} ")
    text.append(str(order.status), style="bold" if order.status == "filled" else "dim")
    if order.filled_avg_price:
        text.append(f" @ {price_text(order.filled_avg_price)}")
    if order.reject_reason:
        text.append(f" ({order.reject_reason})", style="yellow")
    return text


def fill_line(fill: Fill) -> Text:
    """One fill for the orders log."""
    text = Text()
    text.append("FILL", style="bold cyan")
    text.append(f" {fill.side} {fill.qty:g} {fill.symbol} @ {price_text(fill.price)}")
    text.append(f"  fee {fill.commission:.2f}", style="dim")
    return text


def event_line(event: RiskEvent) -> Text:
    """One risk event for the events log."""
    halting = event.action_taken.startswith("halted")
    text = Text()
    text.append(event.event_type, style="bold red" if halting else "bold yellow")
    measure = event_measure(event)
    if measure:
        text.append(f" {measure}")
    text.append(f" → {event.action_taken}")
    return text


def note_line(note: str) -> Text:
    """One of the session's notes for the events log (an order not sent and why, a broker's
    rejection, a broker not ready yet)."""
    text = Text()
    text.append("note", style="bold")
    text.append(f" {note}", style="dim")
    return text


def not_desks_note(foreign: dict[str, float], held: set[str]) -> str:
    """The note under the positions: for each held symbol left alone after a change made outside
    the session, how many of its row's shares this desk did not trade (or lacks)."""
    lines = []
    for symbol in sorted(s for s in foreign if s in held):
        extra = foreign[symbol]
        if extra > 0:
            lines.append(
                f"* {symbol} left alone: includes {extra:g} shares not traded by this desk"
            )
        else:
            lines.append(
                f"* {symbol} left alone: {-extra:g} shares fewer than this desk's fills make"
            )
    return "\n".join(lines)
