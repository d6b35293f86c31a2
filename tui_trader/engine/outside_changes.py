"""Positions that change outside the session: noticed, said, and never traded against.

A session trades towards its targets from the broker's positions. If shares appear or vanish
that none of its own fills explain (a trade by hand in Alpaca's dashboard, another program on
the account, a split), rebalancing would quietly undo them: the desk would sell the shares a
person just bought. So the session keeps, per symbol it trades, what the broker should hold:
the broker's quantity at a quiet moment plus every fill the session has recorded since. A
symbol is quiet when none of the session's own orders in it may still be filling (the broker
adapter's ``working_symbols``); only then can a difference not be a fill of ours still on its
way, so only then is the symbol checked (and its expectation first taken).

A difference seen once holds the symbol's orders for that cycle (a position read may lag a
fill by a moment); seen again, the same, it is a change made outside the session: one
``outside_change`` risk event says what the broker holds, what the session's fills account
for, and that the session leaves the symbol alone from now on (a new session trades it
again, from the broker's whole position, after start-up reconciliation has reported the
difference). While another live session trades the same account (one audit database), its
fills are not ours and cannot be told from a hand trade: the expectation is then taken
afresh instead. A symbol that always has an order of ours working (a protective stop) is
never quiet, so it is not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.orders import Fill

OUTSIDE_CHANGE = "outside_change"
"""Risk event type of a position changed outside the session."""
TOLERANCE = 1e-6
"""Shares below which two quantities are the same (fractional fills are rounded to 1e-9)."""


class OutsideChanges:
    """What the broker should hold of each traded symbol, and the symbols left alone."""

    def __init__(self) -> None:
        self._expected: dict[str, float] = {}
        """Symbol -> the broker's quantity at a quiet moment plus our fills since."""
        self._seen: dict[str, float] = {}
        """Symbol -> the difference seen at the last check (confirmed if seen again)."""
        self.holds: dict[str, str] = {}
        """Symbol -> why the session sends no order in it (this cycle, or for good)."""
        self._left: set[str] = set()

    def on_fill(self, fill: Fill) -> None:
        """Count one of the session's own fills into the expectation of its symbol."""
        symbol = fill.symbol
        if symbol in self._expected:
            self._expected[symbol] += fill.qty * fill.side.sign

    def check(
        self,
        symbols: Iterable[str],
        positions: dict[str, Position],
        working: set[str],
        others_alive: Callable[[], bool],
    ) -> list[RiskEvent]:
        """Compare the broker's positions with the expectation of every quiet symbol; the
        events of changes made outside the session (``holds`` says which symbols to leave)."""
        events: list[RiskEvent] = []
        holds = self.holds
        for symbol in list(holds):
            if symbol not in self._left:
                del holds[symbol]
        expected = self._expected
        for symbol in symbols:
            if symbol in self._left or symbol in working:
                continue
            position = positions.get(symbol)
            have = position.qty if position is not None else 0.0
            want = expected.get(symbol)
            if want is None or abs(have - want) <= TOLERANCE:
                expected[symbol] = have
                self._seen.pop(symbol, None)
                continue
            drift = have - want
            seen = self._seen.get(symbol)
            if seen is None or abs(seen - drift) > TOLERANCE:
                self._seen[symbol] = drift
                holds[symbol] = (
                    f"the broker holds {have:g} {symbol} where this session's fills make "
                    f"{want:g}; looking again next cycle before trading {symbol}"
                )
                continue
            del self._seen[symbol]
            if others_alive():  # another session's fills: not ours to judge
                expected[symbol] = have
                continue
            self._left.add(symbol)
            holds[symbol] = (
                f"{symbol} changed outside this session (the broker holds {have:g}, its fills "
                f"make {want:g}): left alone, so as not to trade against the change"
            )
            events.append(
                RiskEvent(
                    OUTSIDE_CHANGE,
                    drift,
                    0.0,
                    f"no more orders for {symbol} in this session; a new session trades "
                    f"{symbol} again, rebalancing the broker's whole position to its target",
                    symbol=symbol,
                    detail=(
                        f"{symbol}: the broker holds {have:g}, this session's own fills account "
                        f"for {want:g} ({drift:+g}): changed outside the session (a trade by "
                        "hand, another program on the account, a split)"
                    ),
                )
            )
        return events
