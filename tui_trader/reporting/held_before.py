"""What the account held just before a fill executed: the look-up ``reporting.account_trips``
makes for a sale of more than the recorded fills hold.

The shares are the account's newest snapshot written no later than the fill executed (one
written after may already count the sale, its news come late), carried forward by the
account's fills since it (a snapshot is a cycle old: a flip sold as 10 then 15 read 20 held
at the 15); the price of those beyond the ledger's is set so that with the ledger's they make
the broker's average there (7 held at 90 beside the ledger's 3 at 100: the broker's 93, the 7
at 90; at the 93 the ledger's 3 counted twice).

It asked the database once for each such fill, and every fill that opens a position from flat
is one (the ledger holds nothing, so it may be selling shares held before the store): on an
account of 204,000 fills that was 76,000 queries, two minutes under load. The account's
snapshots are read once instead, their times and ids only (the first time one is needed), and
each snapshot's positions when a fill first needs them; the snapshot is the query's: the
highest id whose time is no later than the fill's execution time, compared as the database
compares the stored values. The fills since it come from memory: each symbol's fills as the
ledger took them (``add``, 32 bytes a fill), bisected by the snapshot's time.
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_right
from datetime import datetime

from tui_trader.core.ledger import TradeLedger
from tui_trader.core.order_views import QTY_EPS
from tui_trader.core.orders import Fill
from tui_trader.store.models import AccountSnapshot, SessionRow
from tui_trader.store.stored_numbers import readable, shown_time

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


key_of = _key
"""A stored time's place in the database's order (``reporting.account_pnl`` compares them)."""


class HeldBefore:
    """The account's snapshots, looked up by a fill's execution time, and the fills the ledger
    took, to carry a snapshot forward (see the module)."""

    def __init__(self, account_key: str, notes: list[str] | None = None) -> None:
        """Nothing read yet: an account whose fills never need it never reads its snapshots."""
        self._account_key = account_key
        self._notes = notes
        self._keys: list[_Key] | None = None
        self._newest: list[tuple[int, object]] = []
        """The highest snapshot id among the first i+1 in time order, and its stored time."""
        self._positions: dict[int, dict[str, tuple[float, float]]] = {}
        self._times: dict[int, float | None] = {}
        """A snapshot's time in POSIX seconds (None: unreadable, a hand edit)."""
        self._moves: dict[str, tuple[array[float], ...]] = {}
        """Each symbol's fills: their times, the running sum of their signed quantities, and
        the ledger's shares and average price after each."""
        self._last: tuple[datetime | None, float] = (None, 0.0)

    def add(self, fill: Fill, ledger: TradeLedger) -> None:
        """Count ``fill`` (the fills come in execution order), the ledger having taken it."""
        moves = self._moves.get(fill.symbol)
        if moves is None:
            moves = self._moves[fill.symbol] = (array("d"), array("d"), array("d"), array("d"))
        times, sums, held, paid = moves
        when = fill.timestamp
        if when is not self._last[0]:  # (fills of one bar share their time)
            self._last = (when, when.timestamp())
        times.append(self._last[1])
        sums.append((sums[-1] if sums else 0.0) + fill.qty * fill.side.sign)
        held.append(ledger.held(fill.symbol))
        paid.append(ledger.average(fill.symbol))

    def add_snapshots(self, after: int) -> None:
        """Take the account's snapshots of ids above ``after`` (written since they were read):
        added at the end when none is older than the newest read (the common case: a cycle's
        snapshot), else all read again at the next look. The fills counted and the positions
        read stay."""
        if self._keys is None:
            return  # (not read yet: the first look reads them all)
        rows = self._rows(after)
        last = self._keys[-1] if self._keys else None
        try:
            in_order = last is None or all(last <= key for key, _, _ in rows)
        except TypeError:
            in_order = False
        if not in_order:
            self._keys = None
            return
        newest = self._newest[-1] if self._newest else (0, None)
        for key, row, stamp in rows:
            if row > newest[0]:
                newest = (row, stamp)
            self._newest.append(newest)
            self._keys.append(key)

    def _rows(self, after: int = 0) -> list[tuple[_Key, int, object]]:
        """The account's snapshots of ids above ``after``: their times' places, ids and times,
        in time order."""
        query = (
            AccountSnapshot.select(AccountSnapshot.timestamp, AccountSnapshot.id)
            .join(SessionRow)
            .where((SessionRow.account_key == self._account_key) & (AccountSnapshot.id > after))
        )
        rows = []
        for stamp, row in AccountSnapshot._meta.database.execute(query):
            key = _key(stamp)
            if key is not None:
                rows.append((key, row, stamp))
        try:
            rows.sort(key=lambda found: found[0])
        except TypeError:  # (two kinds of time in one store: none such is written)
            rows = [found for found in rows if found[0][0] != 1 or isinstance(found[0][1], str)]
            rows.sort(key=lambda found: found[0])
        return rows

    def _load(self) -> list[_Key]:
        """The account's snapshots' times, in order, and the newest id up to each."""
        rows = self._rows()
        newest: tuple[int, object] = (0, None)
        self._newest = []
        for _, row, stamp in rows:
            if row > newest[0]:
                newest = (row, stamp)
            self._newest.append(newest)
        return [key for key, _, _ in rows]

    def held(self, fill: Fill, executed: object) -> tuple[float, float]:
        """The shares of ``fill``'s symbol (signed) the account held just before it, and the
        price of those the ledger did not hold (see the module): the newest snapshot written
        no later than ``executed`` (the fill's time as stored), plus the fills ``add`` counted
        since it; (0, 0) when it held none, or there is none."""
        if self._keys is None:
            self._keys = self._load()
        key = _key(executed)
        if key is None or not self._keys:
            return 0.0, 0.0
        try:
            at = bisect_right(self._keys, key)
        except TypeError:  # (a time of another kind than the snapshots')
            return 0.0, 0.0
        if at == 0:
            return 0.0, 0.0
        snapshot, stamp = self._newest[at - 1]
        positions = self._positions.get(snapshot)
        if positions is None:
            positions = self._positions[snapshot] = _read_positions(snapshot)
        qty, price = positions.get(fill.symbol, (0.0, 0.0))
        if snapshot not in self._times:
            when = shown_time(stamp, "live_account_snapshots", snapshot, "timestamp", self._notes)
            self._times[snapshot] = when.timestamp() if when is not None else None
        written = self._times[snapshot]
        if not qty or written is None:
            return 0.0, 0.0
        since, mine, mine_paid = self._moved(fill.symbol, written)
        beyond = qty - mine
        if qty * mine > 0 and beyond * qty > QTY_EPS and mine_paid > 0:
            rest = (abs(qty) * price - abs(mine) * mine_paid) / abs(beyond)
            price = rest if rest > 0 else price  # (10 at 93 with the ledger's 3 at 100: 90)
        return qty + since, price

    def _moved(self, symbol: str, written: float) -> tuple[float, float, float]:
        """The signed shares of ``symbol`` the fills counted so far moved after ``written``
        (POSIX seconds), and the ledger's shares and average price then."""
        moves = self._moves.get(symbol)
        if moves is None or not moves[0]:
            return 0.0, 0.0, 0.0
        times, sums, held, paid = moves
        at = bisect_right(times, written)
        if not at:
            return sums[-1], 0.0, 0.0
        return sums[-1] - sums[at - 1], held[at - 1], paid[at - 1]


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
