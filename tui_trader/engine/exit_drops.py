"""An ended session's exit dropped again and again for one position: said once, then counted.

A session that keeps no exits cancels an ended session's protective exit before selling the
shares it held (``exit_dropped``: ``engine.stop_takeover``). When that sell does not go out (a
flatten's close the broker keeps refusing, say) the exit is placed again at once
(``engine.stop_release``), and the next try cancels it again: each try wrote the same
``exit_dropped`` line and risk event. As the daily order limit's refusals are
(``engine.rate_refusals``), the first drop of a position's exit is recorded and said, the later
ones are counted, and one more event says how many once the episode ends: a sell it was
dropped for went out, or the session ends. Every cancel still has its order row.
"""

from __future__ import annotations

from tui_trader.core.domain import RiskEvent

DROPPED = "exit_dropped"
"""Risk event: a session that keeps no exits cancelled an ended session's protective exit
before selling the shares it held (its value: the shares that exit protected)."""


class ExitDrops:
    """By symbol and the ended session whose exit it is, the drops since the first was said
    (an exit placed again keeps that session: ``StopTakeover.adopted_from``; another ended
    session's exit is a new episode)."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}

    def first(self, symbol: str, came: str) -> bool:
        """Whether a drop of ``symbol``'s exit left by session ``came`` is to be said: the
        first of its episode; a later one is counted."""
        key = (symbol, came)
        if key in self._counts:
            self._counts[key] += 1
            return False
        self._counts[key] = 0
        return True

    def over(self, symbol: str) -> list[RiskEvent]:
        """The episode of ``symbol`` ends (a sell its exit was dropped for went out): the
        event saying how many more drops were counted, if any."""
        keys = [key for key in self._counts if key[0] == symbol]
        count = sum(self._counts.pop(key) for key in keys)
        if not count:
            return []
        line = (
            f"{symbol}: the protective exit an ended session left was cancelled {count} more "
            "time(s) before sells that did not go out (placed again after each), counted "
            "without another event"
        )
        return [RiskEvent(DROPPED, float(count), 0.0, "exit cancelled again", symbol, line)]

    def close(self) -> list[RiskEvent]:
        """The session ends: every episode's count not said yet."""
        symbols = sorted({symbol for symbol, _came in self._counts})
        return [event for symbol in symbols for event in self.over(symbol)]
