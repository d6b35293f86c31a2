"""Two desks flattening one position on one halt: one close goes out, decided in the store.

A halt's flatten reads, right before each close, the other live desks' closes from the store
(``HaltFlatten._closed_beside``): one that went out and filled after this desk read the
positions is left out of its close. What remained: two desks whose store reads both came
before either close's row was committed (the same milliseconds) each saw nothing of the
other's, and both sold the whole position: a short on an account that allows shorting.

So each close is claimed with one compare-and-set on its symbol's close row
(``store.symbol_claims.close_row``, ``"SPY close"``), in this order: the row's version is read
before the positions and the store (``read``); the close's order row is written and committed;
then the close row is moved on from the version read (``fence``), and only then does the close
go out. Of two desks that both read the version before either moved it, exactly one moves it:
the other's close is not sent (its row ends ``rejected``, "not sent"), said among what the
flatten left open, and its next pass reads the first desk's close and closes only what is still
held. A desk that reads the version after another moved it reads the store after that desk's
order row was committed, so its ``_closed_beside`` sees that close. Whichever statement commits
first wins, on SQLite and PostgreSQL alike (as ``engine.claims``).

A protective exit another desk of the account puts back is claimed on the same row
(``ExitPlacing._place_exit``, its rows read before that desk's positions), and a flatten reads
the rows before the halt's cancels (``HaltFlatten._read_close_rows``). Before, a desk not halted
yet found its stop gone (the halt's flatten had cancelled every order), put it back, the stop
filled, and the flatten's close, sized from a read before that, sold the same shares: a short
(``crash30``, run 3009: 11, then 22 IWM, for 32 s). Now of a close and an exit read from one
version, one goes out: the exit not sent says so and is tried again next cycle; the close not
sent waits for the flatten's next pass, which cancels the exit again and closes what is held.
Two desks' exits in one symbol (one placed, one put back) race on the row too: one goes out.
An order by hand that sells (or covers) what is held is checked against the row
(``ManualOrders._gate_and_send``: read before the store and the positions, ``check`` right
before the send), without moving it: a close or exit claimed since leaves it unsent. Before,
a close by hand beside another desk's flatten on the account's halt sold the same shares.
What remains there: a flatten that read the store before the hand order's row was committed
and claims its row after the hand order's check (the few milliseconds between them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui_trader.core.order_ids import short_key
from tui_trader.store.symbol_claims import (
    CLOSE_ROW,
    Claim,
    close_row,
    holder_now,
    read,
    take,
    version_now,
)

if TYPE_CHECKING:
    from tui_trader.store.audit import AuditLog

RACED = (
    "not sent: another desk's flatten close of {symbol}, or an exit put back (or placed) there, "
    "was claimed by {claimer} while this desk read the account (whether that order went out or "
    "was refused is not known here); what is still held is closed at the next pass"
)
"""Why a close whose claim another desk moved on first was not sent: what is known is the claim
and who took it (the row's holder). Before, the words said that desk's close "went out", where
its send may have been refused (by the broker, or by its own last check) after its claim."""
EXIT_RACED = (
    "not sent: another desk's flatten close of {symbol} (the account's halt), or an exit of "
    "{symbol} another desk placed, was claimed after this desk read the positions; beside it, "
    "both could sell the same shares"
)
"""Why an exit was not placed where another desk moved the symbol's close row first: a flatten's
close, or an exit of its own (placed or put back: ``engine.exit_put_back``). Before, the words
named a halt's flatten close alone, and two desks' exits racing there (no halt at all) told the
user of a halt and a close that never were."""
HAND_RACED = (
    "not sent: another desk's flatten close of {symbol} (the account's halt), or an exit of "
    "{symbol} another desk placed, was claimed after this desk read the account, so the shares "
    "may be sold already; look at the position again before closing it by hand"
)
"""Why an order by hand that sells (or covers) what is held was not sent: another desk moved the
symbol's close row after this desk read the account (``CloseClaims.check``). Before, a close
by hand sized from that reading went out beside another desk's flatten close: a short."""
UNREADABLE = (
    "not sent: the store's close row for {symbol} (table symbol_claims, symbol "
    "'{row}') is unreadable, edited by hand; delete that row, then the next pass closes it"
)
"""Why a close was not sent when its symbol's close row cannot be read (fail closed)."""


class CloseClaims:
    """The account's close rows as read before a flatten's positions (see the module)."""

    def __init__(self, db: Any, account_key: str, holder: str) -> None:
        self._db = db
        self._account = account_key
        self._holder = holder
        self._seen: dict[str, Claim | None] = {
            row: claim for row, claim in read(db, account_key).items() if row.endswith(CLOSE_ROW)
        }

    def fence(self, symbol: str, raced: str = RACED) -> Callable[[], str | None]:
        """The last check of a close in ``symbol`` (or of an exit: ``raced`` says why it is
        not sent then), once its order row is committed: ``None`` to send it (the close row
        moved on), else why it is not sent."""

        def claim() -> str | None:
            row = close_row(symbol)
            if row in self._seen and self._seen[row] is None:
                return UNREADABLE.format(symbol=symbol, row=row)
            version = take(self._db, self._account, row, self._holder, self._seen.get(row))
            if version is None:
                return raced.format(symbol=symbol, claimer=self._claimer(row))
            self._seen[row] = Claim(self._holder, version)
            return None

        return claim

    def _claimer(self, row: str) -> str:
        """Who holds ``row`` now (the session that moved it on), in words: ``session
        1a2b3c4d``, or ``a session the store does not name`` (no row, or a hand edit)."""
        holder = holder_now(self._db, self._account, row)
        return f"session {short_key(holder)}" if holder else "a session the store does not name"

    def check(self, symbol: str, raced: str) -> Callable[[], str | None]:
        """The last check of an order by hand that sells (or covers) what is held in
        ``symbol``, once its row is committed: ``None`` to send it (the close row is still at
        the version read), else ``raced``. It does not move the row: a desk selling by hand
        often would otherwise keep another desk's exit from ever going out (each exit's claim
        finding the row moved since its read)."""

        def unchanged() -> str | None:
            row = close_row(symbol)
            seen = self._seen.get(row)
            if row in self._seen and seen is None:
                return UNREADABLE.format(symbol=symbol, row=row)
            now = version_now(self._db, self._account, row)
            if now != (seen.version if seen is not None else None):
                return raced.format(symbol=symbol, claimer=self._claimer(row))
            return None

        return unchanged


def read_close_rows(audit: AuditLog, shared: bool) -> CloseClaims | None:
    """The account's close rows as read now, where other desks may trade the account through
    this store (``shared``); else ``None`` (no claim needed: no other desk sends beside)."""
    session = audit.session
    if not shared or session is None:
        return None
    return CloseClaims(audit.db, session.account_key, session.key)
