"""The symbols a session left alone, read back from its audit trail (a monitor in another
process).

A session leaves a symbol alone when its position changed outside the session
(``engine.outside_changes``) and says so in an ``outside_change`` risk event. A monitor does not
run the session's ``OutsideChanges``: it rebuilds, from the recorded events, which symbols are
left alone and how many of their shares are not the desk's, as ``OutsideChanges.not_ours``
would say. Kept apart from ``engine.outside_changes`` (the session's own judging) so that each
file does one thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tui_trader.core.domain import Position, RiskEvent
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE, POSITIONS_ADOPTED, TOLERANCE


def recorded_left_alone(left: Mapping[str, float], events: Iterable[RiskEvent]) -> dict[str, float]:
    """``left`` (symbol -> shares not the desk's of each symbol a session left alone) moved on
    by that session's next recorded ``events``: what ``OutsideChanges.not_ours`` says, read
    back from the audit trail (a monitor in another process). An ``outside_change`` leaves its
    symbol alone with its difference (``value``: what the broker holds beyond the session's
    own fills); the session's own fills after it (a protective exit) move the position and
    what its fills make alike, so the difference stands; a later change outside is recorded
    again, with the new difference. A ``positions_adopted`` symbol is
    the desk's own."""
    out = dict(left)
    for event in events:
        if event.symbol is None:
            continue
        if event.event_type == OUTSIDE_CHANGE:
            out[event.symbol] = event.value
        elif event.event_type == POSITIONS_ADOPTED:
            out.pop(event.symbol, None)
    return out


def held_not_ours(left: Mapping[str, float], positions: Iterable[Position]) -> dict[str, float]:
    """The symbols of ``left`` still held, with the shares not the desk's (``not_ours``)."""
    return {
        p.symbol: left[p.symbol]
        for p in positions
        if p.symbol in left and abs(left[p.symbol]) > TOLERANCE
    }
