"""This session's protective exits whose send is in doubt: each counts as working for its
symbol until it settles.

An exit's answer can be lost (sent, no answer, and the broker does not know it yet:
``engine.settlement``). It may still arrive: a fresh exit placed beside it could sell the same
shares a second time at a broker that does not hold shares for a stop (an oversell: short), and
Alpaca refuses the second once the first is there ("insufficient qty available"), the position
said NOT protected every cycle. So ``ProtectiveStops._protect`` leaves the symbol as it is while
its exit is in doubt, said once; once the exit settles, the usual step decides: working, it is
this session's exit and is kept; never received (or ended without a fill), an exit is placed;
filled, the position it closed needs none.

A mixin of ``TradingSession`` under ``ProtectiveStops``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from tui_trader.engine.said_once import SaidOnce
from tui_trader.risk.stops import is_protective

if TYPE_CHECKING:
    from tui_trader.engine.settlement import Unsettled


class ExitsInDoubt:
    """Tell the symbols whose exit is in doubt, each said once per onset."""

    unsettled: Unsettled
    stop_notes: list[str]
    """The cycle's lines about exits (``StopTakeover``)."""

    def init_doubt(self) -> None:
        """Nothing said yet (called by ``init_stops``)."""
        self.doubt_said = SaidOnce()
        """By symbol, the exit in doubt already said."""

    def exits_in_doubt(self, listed: Collection[str]) -> set[str]:
        """The symbols where an exit of this session is in doubt and the broker's listing
        (``listed``: its client order ids) does not show it; each said once, in the notes."""
        if not self.unsettled and not self.doubt_said:  # (a replay has none)
            return set()
        found = {
            o.symbol: o.client_order_id
            for o in (self.unsettled.in_doubt() if self.unsettled else [])
            if o.client_order_id not in listed and is_protective(o.client_order_id, o.order_type)
        }
        self.doubt_said.still(found)
        for symbol, cid in sorted(found.items()):
            if self.doubt_said.first(symbol, cid):
                self.stop_notes.append(
                    f"{symbol}: its protective exit {cid} was sent but the broker's answer was "
                    "lost; it counts as working (no second exit beside it) until the broker "
                    "says whether it has it"
                )
        return set(found)
