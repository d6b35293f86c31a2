"""Does this machine's clock agree with the shared store's? Asked once, as a desk starts.

Desks on several machines share one PostgreSQL store. Whether another desk is alive is judged
on the server's clock (``store.liveness``: heartbeats are stamped with ``clock_timestamp()``),
so a machine's own clock plays no part there. It still stamps what the desk writes: its order
rows' times (an order in doubt that another desk takes over after this one died is given the
rest of its two-minute settle window from that time, ``engine.settlement``), its session's
start, its events, reports; and the broker's fill times are checked against it
(``core.orders.FUTURE_TOLERANCE``: beyond a few seconds one of two clocks is wrong). A desk on a
machine whose clock is minutes behind wrote order times minutes early: a desk taking over its
order in doubt found the window long over and gave the order up after two look-ups, though
the request could still reach the broker (a duplicate); nothing said the clock was off.

So a broker-backed desk on a PostgreSQL store reads the server's clock once at its start and
refuses to start, in one plain line, when its own is off by more than ``CLOCK_TOLERANCE``
beyond the read's own round trip. A SQLite store is one machine's: nothing to compare.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tui_trader.store.db import from_db_time

CLOCK_TOLERANCE = 5.0
"""Seconds this machine's clock may differ from the store server's: machines kept by NTP
differ by milliseconds; beyond a few seconds one clock is wrong (as ``FUTURE_TOLERANCE``)."""
_SERVER_NOW = "SELECT clock_timestamp() AT TIME ZONE 'UTC'"


def clock_offset(db: Any) -> tuple[float, float] | None:
    """``(offset, uncertainty)`` in seconds: how far this machine's clock is ahead of the
    PostgreSQL server's (negative: behind), and half the read's round trip; ``None`` for a
    SQLite store or a server that cannot be asked now (its own error comes at the next
    statement)."""
    if not getattr(db, "is_postgres", False):
        return None
    try:
        before = time.time()
        row = db.execute_sql(_SERVER_NOW).fetchone()
        after = time.time()
        server = from_db_time(row[0]) if row else None
    except Exception:  # the server cannot be asked now: the desk's next statement says why
        return None
    if server is None:
        return None
    middle = (before + after) / 2.0
    return middle - server.timestamp(), (after - before) / 2.0


def clock_problem(db: Any) -> str | None:
    """Why this machine's clock is too far from the store's to trade beside other desks, in
    one line; ``None`` when it agrees (or there is nothing to compare)."""
    found = clock_offset(db)
    if found is None:
        return None
    offset, uncertainty = found
    if abs(offset) - uncertainty <= CLOCK_TOLERANCE:
        return None
    way = "ahead of" if offset > 0 else "behind"
    mine = datetime.fromtimestamp(time.time(), UTC).strftime("%H:%M:%S UTC")
    return (
        f"this machine's clock ({mine}) is {abs(offset):.0f} s {way} the PostgreSQL store's; "
        f"desks sharing a store must agree within {CLOCK_TOLERANCE:.0f} s (the times they "
        "write decide how long another desk waits on an order in doubt): the session did not "
        "start; set this machine's clock right (NTP) and start again"
    )
