"""Which session of an account trades a symbol: one table row per account and symbol, changed
only by compare-and-set on its ``version`` (``engine.claims`` says why).

The position read and the order are far apart (a network round trip each), so no lock can span
them; a version can. A session reads the account's claims (``read``) before it reads the
positions; before its first strategy order in a symbol it takes the symbol's claim (``take``)
with one conditional statement that succeeds only if the row is still at the version it read.
Another session that took it since (it raised the version) makes the take fail, on SQLite and
PostgreSQL alike (under PostgreSQL's read committed the second ``UPDATE`` waits for the first
and then finds the version moved on).

Before each strategy order in a symbol it holds, the session confirms the claim (``confirm``):
one conditional ``UPDATE`` on holder and version, right before the order's row and its send,
which moves the version on. A session frozen past its heartbeat window (SIGSTOP, a paused VM, a
long stall) looks dead to the others, and one of them may have taken the symbol over meanwhile:
the confirm then changes no row and the order is not sent. And a session that judged this one
dead from an older reading finds the version moved on: its take fails. Whichever statement
commits first wins, on SQLite and PostgreSQL alike.

A symbol's protective exit is one session's too (``engine.claims.may_protect``): a second row
per symbol, ``exit_row`` (``"SPY exit"``), whose holder keeps the exit, taken the same way. It
is read with the rest, in the same query. A third, ``close_row`` (``"SPY close"``), is moved on
by each halt's flatten close in the symbol before it goes out (``engine.close_claims``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tui_trader.store.statements import db_time


@dataclass(frozen=True, slots=True)
class Claim:
    """A symbol's row as read: the session that holds it, and whether it keeps exits."""

    holder: str
    version: int
    protects: bool = False


_READ_SQL = (
    'SELECT "symbol", "holder", "version", "protects" FROM "symbol_claims" WHERE "account_key" = ?'
)
_TAKE_SQL = (
    'UPDATE "symbol_claims" SET "holder" = ?, "protects" = ?, "version" = "version" + 1, '
    '"updated_at" = ? WHERE "account_key" = ? AND "symbol" = ? AND "version" = ? '
    'RETURNING "version"'
)
_CONFIRM_SQL = (
    'UPDATE "symbol_claims" SET "version" = "version" + 1, "updated_at" = ? '
    'WHERE "account_key" = ? AND "symbol" = ? AND "holder" = ? AND "version" = ? '
    'RETURNING "version"'
)
_HOLDER_SQL = 'SELECT "holder" FROM "symbol_claims" WHERE "account_key" = ? AND "symbol" = ?'
_VERSION_SQL = 'SELECT "version" FROM "symbol_claims" WHERE "account_key" = ? AND "symbol" = ?'
_FIRST_SQL = (
    'INSERT INTO "symbol_claims" ("account_key", "symbol", "holder", "protects", "version", '
    '"updated_at") VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT DO NOTHING RETURNING "version"'
)


EXIT_ROW = " exit"
"""The end of a symbol's exit row's name (a space: never part of a symbol)."""


def exit_row(symbol: str) -> str:
    """The name of the row whose holder keeps ``symbol``'s protective exit."""
    return symbol + EXIT_ROW


CLOSE_ROW = " close"
"""The end of a symbol's flatten-close row's name (``engine.close_claims``)."""


def close_row(symbol: str) -> str:
    """The name of the row a halt's flatten close in ``symbol`` moves on before it is sent."""
    return symbol + CLOSE_ROW


def _now() -> str | None:
    return db_time(datetime.now(UTC))


def _whole(value: Any) -> int | None:
    """A stored version as a whole number (a hand edit that is not one: ``None``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def read(db: Any, account_key: str) -> dict[str, Claim | None]:
    """The account's claims by symbol; a row a hand edit left unreadable maps to ``None``
    (it can never be taken: the caller holds the symbol and says so)."""
    out: dict[str, Claim | None] = {}
    for symbol, holder, version, protects in db.raw(_READ_SQL, (account_key,)).fetchall():
        whole = _whole(version)
        if not isinstance(symbol, str):
            continue
        if whole is None or not isinstance(holder, str) or protects not in (0, 1):
            out[symbol] = None
            continue
        out[symbol] = Claim(holder, whole, bool(protects))
    return out


def take(
    db: Any,
    account_key: str,
    symbol: str,
    holder: str,
    seen: Claim | None,
    protects: bool = False,
) -> int | None:
    """Make ``holder`` the session trading ``symbol`` (``protects``: it keeps exits) if its
    row is as ``seen`` (``None``: no row then); the new version, or ``None`` if another session
    changed it meanwhile."""
    with db.atomic():
        if seen is None:
            args = (account_key, symbol, holder, protects, _now())
            rows = db.raw(_FIRST_SQL, args).fetchall()
        else:
            args = (holder, protects, _now(), account_key, symbol, seen.version)
            rows = db.raw(_TAKE_SQL, args).fetchall()
    return _whole(rows[0][0]) if rows else None


def confirm(db: Any, account_key: str, symbol: str, holder: str, version: int) -> int | None:
    """Confirm that ``holder`` still holds ``symbol`` at ``version`` and move the version on
    (another session's take from an older reading then fails); the new version, or ``None``
    if the row changed since (taken over, deleted or edited by hand). One statement, which
    commits on its own (as an order's slot does: ``store.risk_store``)."""
    args = (_now(), account_key, symbol, holder, version)
    rows = db.raw(_CONFIRM_SQL, args).fetchall()
    return _whole(rows[0][0]) if rows else None


def holder_now(db: Any, account_key: str, symbol: str) -> str | None:
    """The session holding ``symbol``'s claim as the store says now (``None``: no row, or a
    holder a hand edit left unreadable)."""
    row = db.raw(_HOLDER_SQL, (account_key, symbol)).fetchone()
    return row[0] if row is not None and isinstance(row[0], str) else None


def version_now(db: Any, account_key: str, symbol: str) -> int | None:
    """The version of ``symbol``'s row as the store says now (``None``: no row, or a version a
    hand edit left unreadable)."""
    row = db.raw(_VERSION_SQL, (account_key, symbol)).fetchone()
    return _whole(row[0]) if row is not None else None
