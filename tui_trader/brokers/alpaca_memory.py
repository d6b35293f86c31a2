"""How many finished orders the Alpaca broker keeps following: the newest ``REMEMBERED_ORDERS``.

The broker followed every order it ever sent or adopted, finished ones included, for the
whole session: a desk left running all week with a high order limit held thousands, and every
cycle's walks over them (``_poll_open``, ``working_symbols``, ``look_up_orders``, the cached
open-order listing) grew with them. Once per ``drain_updates`` the oldest finished orders
beyond the bound are forgotten, in batches (the local broker does the same,
``brokers.paper``). Never forgotten: an order still working, a cancel Alpaca has not confirmed
(a fill may still beat it), an OCO pair waiting to be looked up again. A forgotten order's
late event finds it unknown and, as one this session sent, raises no contradiction
(``alpaca_contradictions``); ``get_order`` always asks Alpaca, so it answers as before.
"""

from __future__ import annotations

from typing import Any

REMEMBERED_ORDERS = 1_000
"""Finished orders kept (the newest): far more than a cycle's orders, so an event arriving
late for a recent order still finds it."""
FORGET_BATCH = 100
"""Forget only once this many are over the bound: one walk per hundred orders, not per cycle."""


def forget_finished(broker: Any) -> int:
    """Drop the oldest finished orders ``broker`` (an ``AlpacaBroker``) follows beyond
    ``REMEMBERED_ORDERS``, with their OCO legs' back-references; return how many."""
    tracked = broker._tracked
    excess = len(tracked) - REMEMBERED_ORDERS
    if excess < FORGET_BATCH:
        return 0
    busy = broker._unconfirmed | broker._refresh.keys()
    old = [cid for cid, t in tracked.items() if t.order.status.is_final and cid not in busy][
        :excess
    ]
    for cid in old:
        del tracked[cid]
    gone = set(old)
    legs = broker._leg_parent
    for leg in [leg for leg, parent in legs.items() if parent in gone]:
        del legs[leg]
    return len(old)
