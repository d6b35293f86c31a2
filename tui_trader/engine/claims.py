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
out as before. A symbol's protective exit is kept by exactly one live session that keeps exits,
the one holding the symbol's exit row (``may_protect``): its owner when the owner keeps exits,
else the first desk with exits to take the row; the others leave it alone, said once. The
stop a session that stopped or died left working is taken over with the symbol
(``engine.stop_takeover``). Desks on different
stores (another SQLite file, another machine's database) cannot see each other's claims: run
the desks of one account on one store (README, "Running several desks").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.order_ids import short_key
from tui_trader.engine.said_once import SaidOnce
from tui_trader.store import symbol_claims as store
from tui_trader.store.symbol_claims import Claim, exit_row

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
        self._left: dict[str, str] = {}
        """Symbols whose exit another live session keeps, this cycle (by that session)."""
        self._left_new: list[str] = []
        """The lines of exits left this cycle, not taken by ``left`` yet."""
        self.exits_said = SaidOnce()
        """The exits left to another session already said (once per onset)."""
        self._taken: set[str] = set()
        """Symbols this session took over from another session this cycle (``took_over``)."""

    def begin(self, key: str) -> None:
        """Before the positions are read: read the account's claims (``key``: this session's)."""
        self.key = key
        self._seen = store.read(self._db, self._account)
        self._alive = None
        if self.said or self._holds:
            self.said.still(self._holds)
        self._holds = {}
        if self.exits_said or self._left:
            self.exits_said.still(self._left)
        self._left = {}
        self._taken = set()

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
        if seen is not None:
            self._taken.add(symbol)
        return None

    def took_over(self, symbol: str) -> bool:
        """Whether this cycle took ``symbol`` (its claim or its exit row) over from another
        session: what that session left working may not be in this cycle's listing of the
        broker's orders yet (``engine.stop_takeover.late_exits``)."""
        return symbol in self._taken

    def may_protect(self, symbol: str) -> bool:
        """Whether this session keeps ``symbol``'s protective exit: it holds the symbol's exit
        row (``store.symbol_claims.exit_row``), or takes it by compare-and-set because no
        live session holds it and the live session trading the symbol (if another) keeps no
        exits. Two desks with stops on one account each resized the one stop a position can
        have (cancelling the other's), and each new stop was refused for want of shares
        ("insufficient qty"), cycle after cycle; and with the symbol's owner keeping no exits,
        every desk that kept exits believed the exit its own and they fought the same way. So
        exactly one live session keeps it: the first to take its row (the owner first, when it
        keeps exits); the others leave it, said once (``left``). A row nobody can read does not
        keep a position unprotected."""
        seen = self._seen.get(symbol)
        row = exit_row(symbol)
        keeper = self._seen.get(row)
        if (symbol in self._seen and seen is None) or (row in self._seen and keeper is None):
            return True
        if keeper is not None and keeper.holder == self.key:
            return True
        if keeper is not None and self._lives(keeper.holder):
            self._leave(symbol, keeper.holder)
            return False
        owner = seen is not None and seen.holder != self.key and self._lives(seen.holder)
        if owner and seen is not None and seen.protects:  # its owner keeps it: it goes first
            self._leave(symbol, seen.holder)
            return False
        if self._take(row, keeper):
            if keeper is not None or (seen is not None and seen.holder != self.key):
                # another session's before: what it left may not be listed yet
                self._taken.add(symbol)
            return True
        self._leave(symbol, "")  # another session took it since this cycle read the rows
        return False

    def left(self) -> list[str]:
        """The exits this cycle left to another session, each line at its onset only."""
        lines, self._left_new = self._left_new, []
        return lines

    def _leave(self, symbol: str, keeper: str) -> None:
        """Remember that ``symbol``'s exit is another session's this cycle; its line once."""
        self._left[symbol] = keeper
        if self.exits_said.first(symbol, keeper):
            whose = f"session {short_key(keeper)}" if keeper else "another session"
            self._left_new.append(
                f"{symbol}: its protective exit is kept by {whose} on this account; this desk "
                "leaves it to that session while it runs"
            )

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
