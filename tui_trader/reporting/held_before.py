"""What the account held before a fill, as its newest snapshot written before it shows: the
look-up ``reporting.account_trips`` makes for a sale of more than the recorded fills hold.

It asked the database once for each such fill, and every fill that opens a position from flat
is one (the ledger holds nothing, so it may be selling shares held before the store): on an
account of 204,000 fills that was 76,000 queries, two minutes under load. The account's
snapshots are read once instead, their times and ids only (the first time one is needed), and
each snapshot's positions when a fill first needs them; the answer is the query's: the
snapshot of the highest id whose time is no later than the fill's recorded time, compared as
the database compares the stored values.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from datetime import datetime

from tui_trader.store.models import AccountSnapshot, SessionRow
from tui_trader.store.stored_numbers import readable

_Key = tuple[int, object]
"""A stored time's place in the database's order (SQLite: numbers, then text, then bytes)."""


def _key(value: object) -> _Key | None:
    """``value``'s place among stored times (None: NULL, which compares with nothing)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value))
    if isinstance(value, str | datetime):  # (one kind in a store: text in SQLite, times in PG)
        return (1, value)
    if isinstance(value, bytes):
        return (2, value)
    return None


class HeldBefore:
    """The account's snapshots, looked up by a fill's recorded time (see the module)."""

    def __init__(self, account_key: str) -> None:
        """Nothing read yet: an account whose fills never need it never reads its snapshots."""
        self._account_key = account_key
        self._keys: list[_Key] | None = None
        self._newest: list[int] = []
        """The highest snapshot id among the first i+1 in time order."""
        self._positions: dict[int, dict[str, tuple[float, float]]] = {}

    def _load(self) -> list[_Key]:
        """The account's snapshots' times, in order, and the newest id up to each."""
        query = (
            AccountSnapshot.select(AccountSnapshot.timestamp, AccountSnapshot.id)
            .join(SessionRow)
            .where(SessionRow.account_key == self._account_key)
        )
        rows = []
        for stamp, row in AccountSnapshot._meta.database.execute(query):
            key = _key(stamp)
            if key is not None:
                rows.append((key, row))
        try:
            rows.sort(key=lambda pair: pair[0])
        except TypeError:  # (two kinds of time in one store: none such is written)
            rows = [(k, r) for k, r in rows if k[0] != 1 or isinstance(k[1], str)]
            rows.sort(key=lambda pair: pair[0])
        newest = 0
        self._newest = []
        for _, row in rows:
            newest = max(newest, row)
            self._newest.append(newest)
        return [key for key, _ in rows]

    def held(self, symbol: str, recorded: object) -> tuple[float, float]:
        """The shares of ``symbol`` (signed) and their average entry price in the account's
        newest snapshot written no later than ``recorded``; (0, 0) when it holds none, or
        there is none."""
        if self._keys is None:
            self._keys = self._load()
        key = _key(recorded)
        if key is None or not self._keys:
            return 0.0, 0.0
        try:
            at = bisect_right(self._keys, key)
        except TypeError:  # (a time of another kind than the snapshots')
            return 0.0, 0.0
        if at == 0:
            return 0.0, 0.0
        snapshot = self._newest[at - 1]
        positions = self._positions.get(snapshot)
        if positions is None:
            positions = self._positions[snapshot] = _read_positions(snapshot)
        return positions.get(symbol, (0.0, 0.0))


def _read_positions(snapshot: int) -> dict[str, tuple[float, float]]:
    """One snapshot's positions: each symbol's first readable (quantity, price)."""
    text = (
        AccountSnapshot.select(AccountSnapshot.positions)
        .where(AccountSnapshot.id == snapshot)
        .scalar()
    )
    try:
        positions = json.loads(text or "[]")
    except (ValueError, TypeError):
        return {}
    found: dict[str, tuple[float, float]] = {}
    for entry in positions if isinstance(positions, list) else []:
        if isinstance(entry, list) and len(entry) >= 3 and isinstance(entry[0], str):
            qty, price = readable(entry[1]), readable(entry[2])
            if qty and price and price > 0:
                found.setdefault(entry[0], (qty, price))
    return found
