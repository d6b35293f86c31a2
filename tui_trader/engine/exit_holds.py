"""Symbols held back by a protective exit the session does not keep, said once per onset.

A session started without ``--stop-loss``/``--take-profit`` on an account where an earlier
session's exit still works sends no buy in that symbol, and a session of any kind no order
beside another live session's exit or another store's (``StopTakeover._exits_not_kept``: the
broker would refuse each one beside the exit; an ended session's exit is cancelled before a
sell, ``engine.stop_takeover``). Said every cycle, the same line filled the
trader's log all day and told nothing new. So, as ``engine.rate_refusals`` does for the daily
order limit, the session keeps its own memory of what it has said: the first cycle that holds an
order back because of an exit says so in the cycle's notes and records one ``exit_not_kept``
risk event; later cycles hold their orders back silently while that same exit works. When the
exit stops working (filled, cancelled) or another one takes its place, the symbol's memory is
forgotten, so a hold that starts again, or a new exit, is said again.
"""

from __future__ import annotations

from tui_trader.core.domain import RiskEvent
from tui_trader.engine.said_once import SaidOnce

EXIT_NOT_KEPT = "exit_not_kept"
"""Risk event: orders in a symbol are held back while a protective exit this session does not
keep works at the broker (one event per onset)."""


class ExitHolds(SaidOnce):
    """One session's memory of the exit holds it has said: by symbol, the reason said (it
    names the exit), while that exit works (``still`` forgets the others)."""

    __slots__ = ()

    def hold(self, symbol: str, reason: str, note: str) -> RiskEvent | None:
        """The event to record for an order in ``symbol`` held back for ``reason`` (``note``:
        the cycle's line about it): at the hold's onset, else ``None`` (said already)."""
        if not self.first(symbol, reason):
            return None
        return RiskEvent(
            EXIT_NOT_KEPT,
            0.0,
            0.0,
            f"no orders in {symbol} while the exit works; said once: later cycles hold them "
            "back without another note or event, until the exit stops working or changes",
            symbol=symbol,
            detail=note,
        )
