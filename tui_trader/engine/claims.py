"""One session of an account trades a symbol at a time: the first to send an order in it, for as
long as it runs.

Each desk trades towards its targets from the broker's positions, which every session of the
account shares. Two desks running the same bar read the positions, both saw what neither had
bought yet, and both sent the order: the account held twice the target, past the position
limit each desk checked on its own. And two desks whose targets differ for a bar (another
strategy, or the same one a bar apart) took turns undoing each other: one bought, the other
sold, the first bought again, each round trip paying the spread (measured with three desks of
one configuration on the sandbox: four orders in IWM in twelve seconds). So the account's
sessions on one store share each symbol through ``store.symbol_claims``:

- at the start of a cycle, before the positions are read (``begin``), a session reads the
  account's claims;
- a strategy's order in a symbol goes out only if the session holds the symbol's claim or takes
  it (``take``): with one compare-and-set statement, which fails if another session took it
  since this cycle read the claims (its reading of the positions is stale then). A claim held
  by another session that is still alive (``store.liveness``) is that session's: this one
  leaves the symbol to it, said once, sends nothing and uses no order slot. A session that
  stopped or died holds nothing, and the next one to trade the symbol takes it over.

Only orders the strategies decide take a claim. A halt's flatten and orders placed by hand go
out as before. A symbol's protective exit is kept by the session that holds its claim when that
session keeps exits (``may_protect``); the others leave it alone. Desks on different
stores (another SQLite file, another machine's database) cannot see each other's claims: run
the desks of one account on one store (README, "Running several desks").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.order_ids import short_key
from tui_trader.engine.said_once import SaidOnce
from tui_trader.store import symbol_claims as store
from tui_trader.store.symbol_claims import Claim

if TYPE_CHECKING:
    from tui_trader.store.audit import AuditLog

OWNED = "owned"
UNREADABLE = "unreadable"


class AccountClaims:
    """A session's symbols on a shared account (see the module)."""

    def __init__(self, audit: AuditLog, account_key: str, protects: bool = False) -> None:
        self._audit = audit
        self._db = audit.db
        self._account = account_key
        self._protects = protects
        """Whether this session keeps protective exits (written with each claim it takes)."""
        self.key = ""
        """This session's key (set by ``begin``, once its row exists)."""
        self._seen: dict[str, Claim | None] = {}
        self._alive: set[str] | None = None
        """The account's other live sessions, read once a cycle when a claim asks."""
        self._holds: dict[str, str] = {}
        self.said = SaidOnce()

    def begin(self, key: str) -> None:
        """Before the positions are read: read the account's claims (``key``: this session's)."""
        self.key = key
        self._seen = store.read(self._db, self._account)
        self._alive = None
        if self.said or self._holds:
            self.said.still(self._holds)
        self._holds = {}

    def take(self, symbol: str, what: str) -> str | None:
        """Hold ``symbol``'s claim for an order (``what``: "buy 20 SPY"); ``None`` if this
        session holds it, else the line saying why the order is not sent, or "" when that was
        said already."""
        seen = self._seen.get(symbol)
        if symbol in self._seen and seen is None:
            return self._hold(symbol, UNREADABLE, what, "")
        if seen is not None and seen.holder == self.key:
            return None
        if seen is not None and self._lives(seen.holder):
            return self._hold(symbol, OWNED, what, seen.holder)
        if not self._take(symbol, seen):  # another session took it since this cycle read them
            return self._hold(symbol, OWNED, what, "")
        return None

    def may_protect(self, symbol: str) -> bool:
        """Whether this session keeps ``symbol``'s protective exit: it holds the claim, or
        takes it (no live session does), or the live session holding it keeps no exits.
        Two desks with stops on one account each resized the one stop a position can have
        (cancelling the other's), and each new stop was refused for want of shares
        ("insufficient qty"), cycle after cycle, with the strategies' own orders; so the exit
        is the symbol's owner's. A row nobody can read does not keep a position unprotected."""
        seen = self._seen.get(symbol)
        if symbol in self._seen and seen is None:
            return True
        if seen is not None and seen.holder == self.key:
            return True
        if seen is not None and self._lives(seen.holder):
            return not seen.protects
        return self._take(symbol, seen)

    def _take(self, symbol: str, seen: Claim | None) -> bool:
        """Take ``symbol``'s claim if its row is still as ``seen``; False if another session
        took it since this cycle read the claims."""
        version = store.take(self._db, self._account, symbol, self.key, seen, self._protects)
        if version is None:
            return False
        self._seen[symbol] = Claim(self.key, version, self._protects)
        return True

    def _hold(self, symbol: str, reason: str, what: str, holder: str) -> str:
        """Remember a hold of ``symbol`` this cycle; its line at its onset only."""
        self._holds[symbol] = reason
        if not self.said.first(symbol, reason):
            return ""
        if reason == UNREADABLE:
            return (
                f"{what} not sent: the store's claim row for {symbol} (table symbol_claims) is "
                f"unreadable, edited by hand; delete that row to trade {symbol} again"
            )
        whose = f" (session {short_key(holder)})" if holder else ""
        return (
            f"{what} not sent: {symbol} is traded by another session on this account{whose}; "
            f"this desk leaves {symbol} to it while that session runs"
        )

    def _lives(self, holder: str) -> bool:
        """Whether a claim's holder is another session still alive (``store.liveness``; the
        account's live sessions read once a cycle, only when a claim asks)."""
        if self._alive is None:
            self._alive = self._audit.others_alive_keys(self._account)
        return holder in self._alive
