"""Symbols held back by a protective exit the session does not keep, said once per onset.

A session started without ``--stop-loss``/``--take-profit`` on an account where an earlier
session's exit still works sends no order in that symbol (``ProtectiveStops._exits_not_kept``:
the broker would refuse each one beside the exit). Said every cycle, the same line filled the
trader's log all day and told nothing new. So, as ``engine.rate_refusals`` does for the daily
order limit, the session keeps its own memory of what it has said: the first cycle that holds an
order back because of an exit says so in the cycle's notes and records one ``exit_not_kept``
risk event; later cycles hold their orders back silently while that same exit works. When the
exit stops working (filled, cancelled) or another one takes its place, the symbol's memory is
forgotten, so a hold that starts again, or a new exit, is said again.
"""

from __future__ import annotations

from collections.abc import Mapping

from tui_trader.core.domain import RiskEvent

EXIT_NOT_KEPT = "exit_not_kept"
"""Risk event: orders in a symbol are held back while a protective exit this session does not
keep works at the broker (one event per onset)."""


class ExitHolds:
    """One session's memory of the exit holds it has said: by symbol, the reason said."""

    __slots__ = ("_said",)

    def __init__(self) -> None:
        self._said: dict[str, str] = {}
        """Symbol -> the reason said for it (it names the exit), while that exit works."""

    def still(self, reasons: Mapping[str, str]) -> None:
        """Once a cycle, with this cycle's reasons by symbol: forget each symbol whose exit
        stopped working or changed, so that its next hold is said again."""
        said = self._said
        for symbol in [s for s, reason in said.items() if reasons.get(s) != reason]:
            del said[symbol]

    def hold(self, symbol: str, reason: str, note: str) -> RiskEvent | None:
        """The event to record for an order in ``symbol`` held back for ``reason`` (``note``:
        the cycle's line about it): at the hold's onset, else ``None`` (said already)."""
        if self._said.get(symbol) == reason:
            return None
        self._said[symbol] = reason
        return RiskEvent(
            EXIT_NOT_KEPT,
            0.0,
            0.0,
            f"no orders in {symbol} while the exit works; said once: later cycles hold them "
            "back without another note or event, until the exit stops working or changes",
            symbol=symbol,
            detail=note,
        )
