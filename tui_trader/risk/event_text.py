"""A risk event's measure in words with its unit, for every front end (desk and CLI).

One copy, so the desk's events log and the CLI's ``[RISK]`` lines never disagree about units.
Pure: no Textual, no rich.
"""

from __future__ import annotations

from tui_trader.core.domain import RiskEvent
from tui_trader.risk.gate import DRAWDOWN, ORDER_RATE, POSITION_SIZE
from tui_trader.risk.state import DAILY_LOSS

PERCENT_EVENTS = frozenset({DRAWDOWN, DAILY_LOSS, POSITION_SIZE})
"""Risk events whose value and limit are percentages of equity."""
CLOCK_OFF = "clock_off"
"""This machine's clock stopped agreeing after the desk's start (``store.clock_watch``)."""
CLOCK_AGREES = "clock_agrees"
"""That clock agrees again: new orders resume."""


def event_measure(event: RiskEvent) -> str:
    """The event's value against its limit, in its unit: ``410.44% (limit 10.00%)``,
    ``100 orders (limit 100)``; empty when the event has no limit.

    A bare ``410.44 (limit 10.00)`` left a trader guessing whether that was dollars, shares or
    percent. A protective order refused by the position check measures shares, not percent.
    """
    if not event.limit:
        return ""
    if event.event_type == ORDER_RATE:
        return f"{event.value:.0f} orders (limit {event.limit:.0f})"
    if event.event_type in PERCENT_EVENTS and "protective" not in event.action_taken:
        return f"{event.value:.2f}% (limit {event.limit:.2f}%)"
    if event.event_type in (CLOCK_OFF, CLOCK_AGREES):  # + ahead of the true clock, - behind
        return f"{event.value:+.0f} s off (limit {event.limit:.0f} s)"
    if event.event_type == POSITION_SIZE:
        return f"would leave {event.value:g} shares (held {event.limit:g})"
    return f"{event.value:.2f} (limit {event.limit:.2f})"
