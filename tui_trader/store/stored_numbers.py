"""Numbers read back from the audit database, which may be shared and hand-edited.

SQLite's loose typing keeps text in a REAL column (``'abc'``), and either database keeps
``inf``, ``-inf`` or ``1e308``: values no session ever writes, that crashed the reports
(``OverflowError``, ``TypeError``) and reached ``fleet --json`` as ``Infinity`` (not JSON).

A stored number is *readable* when it is a finite int or float no larger than ``LIMIT`` in size.
Read commands show any other value as unreadable (``None``, printed as "—", ``null`` in JSON)
and say so in one warning line naming the table, row and column (``shown``; the command line
prints the notes, ``take_notes``). Money paths (the risk state a session starts from) refuse
instead (``required``): a session must not trade from an equity nobody can read.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from tui_trader.store.db import StoreError, from_db_time

LIMIT = 1e15
"""The largest size a stored amount, price or quantity may have: far beyond any account, and
far enough below the float range that returns, Sharpe ratios and sums cannot overflow."""

_NOTES: list[str] = []
_REFUSING = "; refusing to go on (fix or delete the row: it was edited by hand)"


class UnreadableValue(StoreError):
    """A money path met a stored value no session writes (a hand edit): it refuses to go on."""

    def __init__(self, message: str, place: str = "") -> None:
        """The refusal's line, and ``place``: the row, column and value alone (for a display
        that leaves the value out instead, ``note_left_out``)."""
        super().__init__(message)
        self.place = place or message


class UnreadableNumber(UnreadableValue):
    """A money path met a stored number that is not a readable one: it refuses to go on."""


def readable(value: object, limit: float = LIMIT) -> float | None:
    """``value`` as a float when it is a readable number (see the module docstring; ``limit``:
    another bound on its size), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and abs(number) <= limit else None


def _where(
    table: str, row: object, column: str, value: object, what: str = "a readable number"
) -> str:
    """The place and raw value of an unreadable number (or of another value: ``what`` it
    should be), for one line."""
    return f"{table} row {row} column {column} holds {str(value)[:40]!r}, not {what}"


def shown(
    value: object, table: str, row: object, column: str, notes: list[str] | None = None
) -> float | None:
    """A stored number for display: readable, or None with a note (None stays None, unnoted).
    The note goes to ``notes`` when given (the desk's History screen says its own page's),
    else to the ones the command line prints at its end (``take_notes``)."""
    if value is None:
        return None
    number = readable(value)
    if number is None:
        _note(_where(table, row, column, value) + "; left out of what is shown", notes)
    return number


def _note(note: str, notes: list[str] | None) -> None:
    """Gather a display's note once: into ``notes`` when given, else the command line's."""
    gathered = _NOTES if notes is None else notes
    if note not in gathered:
        gathered.append(note)


def whole(value: object) -> int | None:
    """``value`` as an int when it is a readable whole number (a count, an id, a process id),
    else None."""
    number = readable(value)
    return int(number) if number is not None and number.is_integer() else None


def shown_whole(
    value: object, table: str, row: object, column: str, notes: list[str] | None = None
) -> int | None:
    """A stored whole number for display or a judgement that can do without it (a process
    id): the int, or None with a note as ``shown`` makes (None stays None, unnoted)."""
    if value is None:
        return None
    number = whole(value)
    if number is None:
        _note(
            _where(table, row, column, value, "a whole number") + "; left out of what is shown",
            notes,
        )
    return number


PID_MAX = 2**31 - 1
"""The largest process id there can be (``pid_t`` is a signed 32-bit int): ``os.kill`` raised
``OverflowError`` on a larger one."""


def shown_process_id(
    value: object, table: str, row: object, column: str, notes: list[str] | None = None
) -> int | None:
    """A stored process id, for display or a liveness check: a whole number from 1 to
    ``PID_MAX``, else None with a note as ``shown`` makes (None stays None, unnoted). A hand
    edit's 0 or negative id must never reach ``os.kill``: there it names a process group (-1:
    every process the user may signal)."""
    if value is None:
        return None
    number = whole(value)
    if number is None or not 1 <= number <= PID_MAX:
        what = f"a process id (1 to {PID_MAX:,})"
        _note(_where(table, row, column, value, what) + "; left out of what is shown", notes)
        return None
    return number


def required(
    value: object, table: str, row: object, column: str, nullable: bool = True, limit: float = LIMIT
) -> float | None:
    """A stored number a money path relies on: readable (or None where the column may be
    empty), else ``UnreadableNumber`` naming the row. ``limit``: the size bound, for a figure
    that is no amount (a learning record's sum of squared returns grows past 1e15)."""
    if value is None and nullable:
        return None
    number = readable(value, limit)
    if number is None:
        place = _where(table, row, column, value)
        raise UnreadableNumber(place + _REFUSING, place)
    return number


def refused(table: str, row: object, column: str, value: object, what: str) -> UnreadableValue:
    """The refusal of a money path that met ``value`` where a session writes ``what`` (a
    trading state, a date, a count): one line naming the row, like ``required``'s."""
    place = _where(table, row, column, value, what)
    return UnreadableValue(place + _REFUSING, place)


def note_left_out(refusal: UnreadableValue, notes: list[str] | None = None) -> None:
    """Note what a money path would refuse (``refusal``) as left out of a display instead: a
    report shows the rest and says which row it could not read."""
    _note(refusal.place + "; left out of what is shown", notes)


def required_count(value: object, table: str, row: object, column: str) -> int:
    """A stored count a money path relies on (the day's orders, a halt's number): a whole
    number from 0 up (empty: 0), else ``UnreadableValue`` naming the row. A negative count
    of the day's orders would raise the order limit by as much."""
    if value is None:
        return 0
    number = readable(value)
    if number is None or number < 0 or not number.is_integer():
        raise refused(table, row, column, value, "a count from 0 up")
    return int(number)


def note_unreadable(
    table: str, row: object, column: str, value: object, what: str, notes: list[str] | None = None
) -> None:
    """Note ``value``, left out of a display because it is not ``what`` a session writes there
    (a snapshot's positions, say), as ``shown`` notes a number."""
    _note(_where(table, row, column, value, what) + "; left out of what is shown", notes)


def shown_time(
    value: object, table: str, row: object, column: str, notes: list[str] | None = None
) -> datetime | None:
    """A stored time for display: the time, or None with a note as ``shown`` makes when it is
    no time (text, a number: a hand edit; None stays None, unnoted). ``report`` and ``status``
    ended with a crash line on such a time ("Invalid isoformat string", "'int' object has no
    attribute 'tzinfo'")."""
    if value is None:
        return None
    try:
        return from_db_time(value)  # type: ignore[arg-type]
    except (ValueError, TypeError, AttributeError, OverflowError):
        _note(_where(table, row, column, value, "a time") + "; left out of what is shown", notes)
        return None


def note_undated(table: str, row: object, column: str, notes: list[str] | None = None) -> None:
    """Note a row left out of a report by day because its time (``column``) reads as no date
    (text, a BLOB: a hand edit or another program), as ``shown`` notes a number."""
    _note(
        f"{table} row {row} column {column} holds no readable date; left out of what is shown",
        notes,
    )


def take_notes() -> list[str]:
    """The unreadable-number notes gathered so far, emptied."""
    notes = list(_NOTES)
    _NOTES.clear()
    return notes


def stored_parameters(text: str | None) -> dict[str, Any]:
    """A session row's stored parameters: the JSON object a session writes, or ``{}`` when a
    hand edit left anything else there (not JSON, a list); its numbers go through
    ``readable`` like any other."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
