"""The desk's History screen's trades: the account's round trips, as ``tui-trader history``
shows them (``reporting.account_trips``), filtered, sorted and cut into pages.

The screen showed each desk's own ``live_trades`` rows, which on an account several desks trade
are not the account's round trips (README "Reports"): the desk and ``history`` disagreed. The
round trips are rebuilt from every fill of the account (~2-3 s on 204,000 fills), so the
screen keeps the last ones it read (``TripCache``) while the store holds the same fills and
snapshots (their count and newest ids, read each time: fills are only ever added, a prune
removes some), and reads them again otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tui_trader.reporting.account_trips import AccountTrip, account_trips
from tui_trader.store.browse import VIEWS, HistoryFilter
from tui_trader.store.models import AccountSnapshot, LiveFill, SessionRow
from tui_trader.store.peewee_names import fn

_TITLES = [c.title for c in VIEWS["trades"][1]]
"""The trades view's columns (``store.browse.VIEWS``), each row's values in this order."""


TRIP_SIDES = {"buy": "long", "sell": "short"}
"""A round trip's side as ``tui-trader history`` names it (the screen said buy/sell)."""


def trip_row(number: int, trip: AccountTrip) -> tuple[Any, ...]:
    """One round trip as the trades view's row (its number in the scope, oldest 1, is its id;
    its side long or short, as ``history`` says)."""
    t = trip.trade
    return (
        number,
        t.exit_time,
        trip.session_id,
        t.symbol,
        TRIP_SIDES[str(t.side)],
        t.quantity,
        t.entry_price,
        t.exit_price,
        t.pnl,
        t.pnl_pct,
        t.commission,
    )


def _store_mark() -> tuple[Any, ...]:
    """What changes when the fills or snapshots the round trips come from change."""
    fills = LiveFill.select(fn.COUNT(LiveFill.id), fn.MAX(LiveFill.id)).tuples().get()
    snaps = AccountSnapshot.select(fn.MAX(AccountSnapshot.id)).scalar()
    return (*fills, snaps)


class TripCache:
    """The last scope's round trips as rows, read again when the store's fills changed."""

    def __init__(self) -> None:
        """Nothing read yet."""
        self._key: tuple[Any, ...] | None = None
        self._rows: list[tuple[Any, ...]] = []
        self._notes: list[str] = []

    def rows(self, session_id: int | None, notes: list[str]) -> list[tuple[Any, ...]]:
        """Every round trip closed by the session (None: every session), oldest first; the
        fills' notes (a hand edit) are added to ``notes`` each time."""
        key = (session_id, _store_mark())
        if key != self._key:
            scope = None
            if session_id is not None:
                row = SessionRow.get_or_none(SessionRow.id == session_id)
                scope = [row] if row is not None else []
            self._notes = []
            trips = account_trips(scope, self._notes) if scope != [] else []
            self._rows = [trip_row(n, trip) for n, trip in enumerate(trips, 1)]
            self._key = key
        notes.extend(note for note in self._notes if note not in notes)
        return self._rows


def matching(rows: list[tuple[Any, ...]], filt: HistoryFilter) -> list[tuple[Any, ...]]:
    """The rows the filter keeps (symbol, entry side, exit date; the session is the scope)."""
    tests: list[Callable[[tuple[Any, ...]], bool]] = []
    if filt.symbol:
        tests.append(lambda r: r[3] == filt.symbol.upper())
    if filt.side:  # (the filter's buy/sell: the entry's side)
        tests.append(lambda r: r[4] == TRIP_SIDES.get(filt.side, filt.side))
    if filt.start is not None:
        tests.append(lambda r: r[1].date() >= filt.start)
    if filt.end is not None:
        end = filt.end + timedelta(days=1)
        tests.append(lambda r: r[1].date() < end)
    return [r for r in rows if all(test(r) for test in tests)]


def trip_page(
    cache: TripCache,
    filt: HistoryFilter,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
    notes: list[str],
) -> tuple[list[tuple[Any, ...]], int]:
    """One page of the trades view and the number of matching round trips."""
    rows = sorted_rows(cache, filt, sort, descending, notes)
    return rows[offset : offset + limit], len(rows)


def sorted_rows(
    cache: TripCache, filt: HistoryFilter, sort: str, descending: bool, notes: list[str]
) -> list[tuple[Any, ...]]:
    """Every matching round trip, sorted by the column titled ``sort`` (then its number)."""
    rows = matching(cache.rows(filt.session_id, notes), filt)
    at = _TITLES.index(sort) if sort in _TITLES else 0
    # (a round trip of no session, its session's row deleted, sorts first by session)
    return sorted(rows, key=lambda r: (r[at] is not None, r[at] or 0, r[0]), reverse=descending)
