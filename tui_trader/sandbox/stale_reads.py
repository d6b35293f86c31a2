"""The ``stale_rest`` fault: a single-order REST read that answers what the previous read did.

Alpaca's REST API and its stream are eventually consistent: right after a fill the stream may
say ``filled`` while a read of the order still answers ``new``. The sandbox remembers the state
it last answered for each order (the ``POST`` that created it, or a read); when the order has
changed since, a roll of ``stale_rest`` answers that remembered state once more, and the read
after it the order as it is now.
"""

from __future__ import annotations

import threading
from typing import Any

from tui_trader.sandbox.faults import FaultDice
from tui_trader.sandbox.sim_order import SimOrder


def _state(order: SimOrder) -> tuple[Any, ...]:
    """What a reader would notice changing: status and filled quantity, legs included."""
    return (order.status, order.filled_qty, tuple(_state(leg) for leg in order.legs))


class StaleReads:
    """The last answered view of every order, and the dice that may answer it again."""

    def __init__(self, dice: FaultDice) -> None:
        """Answer stale views as often as ``dice`` rolls ``stale_rest``."""
        self._dice = dice
        self._lock = threading.Lock()
        self._answered: dict[str, SimOrder] = {}

    def answered(self, order: SimOrder) -> None:
        """Remember ``order`` (a REST snapshot) as the state REST last answered for it."""
        with self._lock:
            self._answered[order.id] = order

    def answer(self, order: SimOrder) -> SimOrder:
        """What a read of ``order`` (its REST snapshot now) answers: the previous answer, when
        the order has changed since and the dice say so; else ``order``."""
        with self._lock:
            before = self._answered.get(order.id)
            self._answered[order.id] = order
        if before is None or _state(before) == _state(order):
            return order
        return before if self._dice.roll("stale_rest") else order
