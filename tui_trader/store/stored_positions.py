"""A snapshot's open positions read back from the audit database, which may be hand-edited.

A session writes ``live_account_snapshots.positions`` as a JSON list of ``[symbol, qty,
avg_entry_price, last_price]`` (and a fifth, the multiplier, for an option contract: 100). A
hand edit may leave anything there: text that is not JSON, a list of numbers, a position of two
fields, ``Infinity`` (which Python's JSON reader takes). ``status`` ended with a crash line on
such text (``JSONDecodeError``, "cannot unpack non-iterable int object"), and so did the
monitor and the start of a session reconciling the account. Displays leave out what cannot be
read, with one note naming the row (``shown_positions``, as ``stored_numbers.shown``); money
paths refuse the whole snapshot (``required_positions``, as ``stored_numbers.required``).
"""

from __future__ import annotations

import json
from typing import Any

from tui_trader.core.domain import Position
from tui_trader.store.stored_numbers import note_unreadable, readable, refused

TABLE = "live_account_snapshots"
COLUMN = "positions"
WHAT = (
    "a list of positions ([symbol, qty, avg entry, last price], an option's with its "
    "multiplier, as sessions write)"
)


def _entries(text: object) -> list[Any] | None:
    """The JSON list a session writes, or None for anything else."""
    if text is None:
        return []
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # not JSON; nested beyond the reader's depth
        return None
    return value if isinstance(value, list) else None


def _position(entry: object) -> Position | None:
    """One ``[symbol, qty, avg entry, last price]`` entry (a fifth field: the multiplier of an
    option contract, 100), or None when any part is unreadable (not four or five fields, no
    symbol, a number that is not a readable one, a multiplier not above 0)."""
    if not isinstance(entry, list) or len(entry) not in (4, 5):
        return None
    symbol, *figures = entry
    if not isinstance(symbol, str) or not symbol:  # not held to the ticker rule: a broker
        return None  # account may hold what no session trades (BTC/USD, an option)
    numbers = [readable(f) for f in figures]
    if None in numbers:
        return None
    qty, avg, last, *multiplier = numbers
    if multiplier and not multiplier[0] > 0:  # type: ignore[operator]
        return None
    return Position(symbol, qty, avg, last, *multiplier)  # type: ignore[arg-type]


def shown_positions(snapshot: Any, notes: list[str] | None = None) -> list[Position]:
    """A snapshot's positions for display: those that can be read, with one note naming the
    row when any cannot (to ``notes`` when given, else the command line's)."""
    entries = _entries(snapshot.positions)
    read = [_position(e) for e in entries or []]
    if entries is None or None in read:
        note_unreadable(TABLE, snapshot.id, COLUMN, snapshot.positions, WHAT, notes)
    return [p for p in read if p is not None]


def required_positions(snapshot: Any) -> list[Position]:
    """A snapshot's positions for a money path (reconciling an account at a session's start):
    every one readable, else ``UnreadableValue`` naming the row."""
    entries = _entries(snapshot.positions)
    read = [_position(e) for e in entries or []]
    if entries is None or None in read:
        raise refused(TABLE, snapshot.id, COLUMN, snapshot.positions, WHAT)
    return [p for p in read if p is not None]
