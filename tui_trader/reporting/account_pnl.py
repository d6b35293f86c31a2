"""The realized PnL of a desk's session (or several), as ``report`` and ``history`` count it:
the round trips its fills closed in the account's ledger (``reporting.account_trips``), kept
up to date by adding the fills recorded since the last look.

``live monitor``, ``pnl`` and ``live readiness`` summed each desk's own ``live_trades``, which on
an account several desks (or a hand) trade are not the account's round trips: a trader saw one
profit in ``report`` and another on the monitor for the same session. They read this now.

The monitor looks every second or so, and an account's fills can number 200,000 (~3 s of CPU
to read): so the reader keeps each account's ``Book`` and reads only the fills of higher ids
than the last it took. That is the same as reading them all while the new fills come after
the ones taken (in execution order, then id) and nothing else changed; otherwise it reads them
all again: a fill recorded with a lower id (PostgreSQL hands ids out at insert, not commit) or
removed (the store's fill count says so), one that executed before the last one taken (a late
stream's news), a session added to the account, or a snapshot written at a time no later than
the last fill that looked at what the account held (``Book.asked_at``); and after a look the
store stopped answering part-way through (some books had taken new fills, the others not).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from tui_trader.reporting.account_trips import Book, Trip, fill_rows
from tui_trader.reporting.held_before import key_of
from tui_trader.store.models import AccountSnapshot, LiveFill, SessionRow
from tui_trader.store.peewee_names import fn

STOP_EVERY = 1_000
"""Fills taken between two asks of ``stop``: a look that reads every fill of an account of
200,000 gives way within about a tenth of a second of CPU (its first row, the query's sort,
takes most of that)."""


class LookStopped(Exception):
    """A look given up because ``stop`` said so (a kill switch pressed): nothing is taken of
    it, the next look reads every fill again."""


@dataclass(slots=True)
class Realized:
    """What round trips a scope's sessions closed made."""

    total: float = 0.0
    trades: int = 0
    by_symbol: dict[str, float] = field(default_factory=dict)
    by_day: dict[date, tuple[int, float]] = field(default_factory=dict)
    """Each exit day's count of round trips and their PnL."""

    def add(self, trip: Trip) -> None:
        """Count one round trip."""
        t = trip.trade
        self.total += t.pnl
        self.trades += 1
        self.by_symbol[t.symbol] = self.by_symbol.get(t.symbol, 0.0) + t.pnl
        day = t.exit_time.date()
        n, pnl = self.by_day.get(day, (0, 0.0))
        self.by_day[day] = (n + 1, pnl + t.pnl)


class _Account:
    """One account's book and what of the store it has taken."""

    def __init__(self, key: str, sessions: list[SessionRow], notes: list[str] | None) -> None:
        """Nothing taken yet."""
        self.notes = notes
        self.key = key
        self.sessions = sessions
        self.book = Book(key, notes)
        self.last_id = 0
        self.last_at: tuple[object, int] | None = None


class AccountPnl:
    """The realized PnL of ``session_ids``' round trips, read again with ``refresh``."""

    def __init__(
        self,
        session_ids: Iterable[int],
        notes: list[str] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        """Nothing read yet (the database must be open at ``refresh``); an unreadable fill's
        note goes to ``notes`` when given (a screen's), else the command line's; ``stop``,
        asked every ``STOP_EVERY`` fills: True gives the look up (``LookStopped``)."""
        self._wanted = set(session_ids)
        self._notes = notes
        self._stop = stop
        self._accounts: dict[str, _Account] = {}
        self._mark: tuple[int, int, int] | None = None
        self._realized = Realized()
        self.rebuilds = 0
        """How many times every fill was read (the first time counts): for the tests."""

    def refresh(self) -> Realized:
        """The sessions' realized PnL as the store holds it now (the object is the reader's:
        read it before the next ``refresh``)."""
        fills, newest = LiveFill.select(fn.COUNT(LiveFill.id), fn.MAX(LiveFill.id)).tuples().get()
        snaps = AccountSnapshot.select(fn.MAX(AccountSnapshot.id)).scalar() or 0
        mark = (fills or 0, newest or 0, snaps)
        if mark != self._mark:
            try:
                if not self._take_new(mark):
                    self._rebuild(mark)
            except BaseException:
                # the store stopped answering part-way: some books took fills the mark does
                # not say they did (the next look took them again: a +10 counted twice)
                self._mark = None
                raise
            self._mark = mark
        return self._realized

    def _groups(self) -> dict[str, list[SessionRow]]:
        """The wanted sessions' accounts and every session of each (a session of no recorded
        account alone)."""
        chosen = list(SessionRow.select().where(SessionRow.id.in_(sorted(self._wanted))))
        groups: dict[str, list[SessionRow]] = {}
        for s in chosen:
            key = s.account_key or ""
            if not key:
                groups[f"\0{s.id}"] = [s]
            elif key not in groups:
                groups[key] = list(
                    SessionRow.select().where(SessionRow.account_key == key).order_by(SessionRow.id)
                )
        return groups

    def _rebuild(self, mark: tuple[int, int, int]) -> None:
        """Read every fill of the sessions' accounts again."""
        self.rebuilds += 1
        self._accounts = {}
        self._realized = Realized()
        for key, sessions in self._groups().items():
            account = self._accounts[key] = _Account(
                key if key[:1] != "\0" else "", sessions, self._notes
            )
            self._take(account, 0, mark[1])

    def _take(self, account: _Account, after: int, upto: int) -> bool:
        """The account's fills of ids above ``after``, up to ``upto``, into its book; False
        when one executed before the last one taken (the book must read them all again)."""
        rows = fill_rows(account.sessions, account.notes, after, upto)
        stop = self._stop
        for n, (row, session, fill, executed, order) in enumerate(rows, 1):
            if stop is not None and not n % STOP_EVERY and stop():
                raise LookStopped  # (``refresh`` forgets the store: the next look reads all)
            at = (key_of(executed), row)
            if account.last_at is not None and after:
                try:
                    if at < account.last_at:
                        return False
                except TypeError:  # (times of two kinds: compared as nothing)
                    return False
            account.last_at = at
            account.last_id = max(account.last_id, row)
            for trip in account.book.take(row, session, fill, executed, order):
                if trip.session_id in self._wanted:
                    self._realized.add(trip)
        return True

    def _take_new(self, mark: tuple[int, int, int]) -> bool:
        """Add the fills recorded since the last look; False when that would not be what
        reading them all gives (see the module)."""
        if self._mark is None:
            return False
        fills, newest, snaps = mark
        old_fills, old_newest, old_snaps = self._mark
        added = (
            LiveFill.select(fn.COUNT(LiveFill.id))
            .where((LiveFill.id > old_newest) & (LiveFill.id <= newest))
            .scalar()
        )
        if fills != old_fills + (added or 0):
            return False  # (a fill of a lower id committed late, or some removed)
        groups = self._groups()
        if {k: [s.id for s in v] for k, v in groups.items()} != {
            k: [s.id for s in a.sessions] for k, a in self._accounts.items()
        }:
            return False
        if snaps != old_snaps and not self._snapshots_later(old_snaps):
            return False
        for account in self._accounts.values():
            if account.book.before is not None and snaps != old_snaps:
                account.book.before.add_snapshots(old_snaps)
            if not self._take(account, old_newest, newest):
                return False
        return True

    def _snapshots_later(self, after: int) -> bool:
        """Whether every snapshot of ids above ``after`` was written later than the last fill
        of its account that looked at what the account held."""
        query = (
            AccountSnapshot.select(AccountSnapshot.timestamp, SessionRow.account_key)
            .join(SessionRow)
            .where(AccountSnapshot.id > after)
        )
        for stamp, key in AccountSnapshot._meta.database.execute(query):
            account = self._accounts.get(key or "")
            if account is None or account.book.asked_at is None:
                continue
            try:
                if key_of(stamp) is None or key_of(stamp) <= key_of(account.book.asked_at):
                    return False
            except TypeError:
                return False
        return True


class ScopePnl:
    """The last scope's reader, kept while the scope's sessions are the same: the History
    screen's PnL days read only the fills since its last load, not all of them each time."""

    def __init__(self) -> None:
        """Nothing read yet."""
        self._ids: tuple[int, ...] | None = None
        self._reader: AccountPnl | None = None
        self._notes: list[str] = []
        self._lock = threading.Lock()
        """One load at a time (a load's worker thread may outlast the next one's start)."""

    def realized(self, sessions: list[SessionRow] | None, notes: list[str]) -> Realized:
        """The sessions' (None: every session's) realized PnL; the fills' notes (a hand edit)
        added to ``notes`` each time."""
        chosen = SessionRow.select(SessionRow.id) if sessions is None else sessions
        ids = tuple(sorted(s.id for s in chosen))
        with self._lock:
            if ids != self._ids or self._reader is None:
                self._notes = []
                self._reader, self._ids = AccountPnl(ids, self._notes), ids
            made = self._reader.refresh()
            notes.extend(note for note in self._notes if note not in notes)
            return replace(made, by_symbol=dict(made.by_symbol), by_day=dict(made.by_day))


def realized_of(sessions: list[SessionRow] | None, notes: list[str] | None = None) -> Realized:
    """The sessions' (None: every session's) realized PnL, read once (``pnl``, ``live
    readiness``, the History screen's days)."""
    chosen = [s.id for s in SessionRow.select(SessionRow.id)] if sessions is None else sessions
    return AccountPnl((s if isinstance(s, int) else s.id for s in chosen), notes).refresh()
