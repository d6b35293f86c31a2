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

A claim read at the start of a cycle can go stale before the order goes out: a desk frozen
(SIGSTOP, a paused VM, a long stall) past its heartbeat window looks dead to the others, one of
them takes the symbol over and trades it, and the frozen desk woke and sent its own order on its
old reading (the account held twice the target). So right before each order under a claim this
session holds, ``confirm`` checks it in the store with one statement that also moves its version
on: taken over meanwhile, the order is not sent and uses no order slot, said plainly, and the
symbol is the other session's from then on. A session that finds it went longer than its
heartbeat window without one (``store.session_rows.silent_for``) knows everything it read this
cycle (claims, positions, the orders listing, who is alive) is stale: the cycle's orders wait for
the next cycle, which reads it all again, said once. The claim is confirmed after the order's
slot and, if the release of the symbol's stops or a stall held the order up since
(``engine.send_gap.SendGap.overdue``), once more before its send. What remains: a desk frozen
after that last look and before its request leaves (its row's commit, a few statements) still
sends that one order, as with a halt (``engine.send_gap``).

Only orders the strategies decide take a claim. A halt's flatten and orders placed by hand go
out as before. A symbol's protective exit is kept by exactly one live session that keeps exits,
the one holding the symbol's exit row (``may_protect``): its owner when the owner keeps exits,
else the first desk with exits to take the row; the others leave it alone, said once. Like a
claim before an order, the exit row is confirmed right before this session changes the exit
(``confirm_exit``): a desk frozen past its window finds another desk took the exit over and
leaves the stop it placed alone. The
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
        self._stale_said = False
        """This cycle's reads were said stale already (``confirm``: once a cycle)."""
        self._confirmed: set[str] = set()
        """Exit rows confirmed this cycle (``confirm_exit``: once a cycle)."""

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
        self._stale_said = False
        self._confirmed = set()
        self._audit.mark_reads()

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

    def confirm(self, symbol: str, what: str) -> str | None:
        """Right before an order ``take`` let through goes out (``what``: "buy 20 SPY"):
        ``None`` to send it; else the line saying why it is not sent ("" when said already).
        One statement confirms the claim and moves its version on (``store.symbol_claims``)."""
        seen = self._seen.get(symbol)
        if seen is None or seen.holder != self.key:  # no claim of ours as read: not ours to send
            return self._hold(symbol, OWNED, what, "")
        silent = self._audit.silent_for()
        version = store.confirm(self._db, self._account, symbol, self.key, seen.version)
        if version is None:
            return self._lost(symbol, what, silent)
        self._seen[symbol] = Claim(self.key, version, seen.protects)
        window = self._audit.heartbeat_window
        if silent <= window:
            return None
        if self._stale_said:
            return ""
        self._stale_said = True
        return (
            f"{what} not sent: this desk did not run for {silent:.0f} s (stopped, suspended or "
            f"stalled) after it read the account, longer than its heartbeat window "
            f"({window:.0f} s), so other desks may have found it dead: what it read is stale, "
            "and this cycle's orders wait for the next cycle, which reads everything again"
        )

    def _lost(self, symbol: str, what: str, silent: float) -> str:
        """The line of an order whose claim ``confirm`` found gone: taken over by another
        session while this one looked dead to it, or the row changed by hand. The symbol is
        held for the rest of the cycle; the next one reads whose it is, as usual."""
        holder = store.holder_now(self._db, self._account, symbol)
        self._seen[symbol] = Claim(holder or "", -1)  # never this cycle's to take again
        if holder is None or holder == self.key:
            self._holds[symbol] = OWNED
            return (
                f"{what} not sent: the store's claim row for {symbol} (table symbol_claims) "
                "changed since this desk read it (deleted or edited by hand); the next cycle "
                "reads it again"
            )
        self._holds[symbol] = OWNED
        self.said.first(symbol, OWNED)  # the hold that follows is this one: not said again
        how = (
            f"was not running (frozen for {silent:.0f} s)"
            if silent > self._audit.heartbeat_window
            else "looked stopped to it (its heartbeat went stale)"
        )
        return (
            f"{what} not sent: {symbol} was taken over by session {short_key(holder)} while "
            f"this desk {how}; this desk leaves {symbol} to it"
        )

    def took_over(self, symbol: str) -> bool:
        """Whether this cycle took ``symbol`` (its claim or its exit row) over from another
        session: what that session left working may not be in this cycle's listing of the
        broker's orders yet (``engine.stop_takeover.late_exits``)."""
        return symbol in self._taken

    def may_protect(self, symbol: str, fresh: bool = False) -> bool:
        """Whether this session keeps ``symbol``'s protective exit: it holds the symbol's exit
        row (``store.symbol_claims.exit_row``), or takes it by compare-and-set because no
        live session holds it and the live session trading the symbol (if another) keeps no
        exits. Two desks with stops on one account each resized the one stop a position can
        have (cancelling the other's), and each new stop was refused for want of shares
        ("insufficient qty"), cycle after cycle; and with the symbol's owner keeping no exits,
        every desk that kept exits believed the exit its own and they fought the same way. So
        exactly one live session keeps it: the first to take its row (the owner first, when it
        keeps exits); the others leave it, said once (``left``). A row nobody can read does not
        keep a position unprotected. ``fresh``: who is alive is read again (taking over an
        ended session's exit, between bars too: the cycle's reading may still count a session
        that has ended since among the living)."""
        if fresh:
            self._alive = None
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

    def confirm_exit(self, symbol: str) -> bool:
        """Right before this session changes ``symbol``'s protective exit (places, resizes,
        cancels or takes over a stop) on a ``may_protect`` that said yes: whether it still
        keeps it. The exit row it holds as read at the start of the cycle is confirmed in the
        store, one compare-and-set statement that moves its version on (as ``confirm`` does
        for an order), once a cycle. A desk frozen past its heartbeat window looked dead to
        the others, and one of them may have taken the exit over and placed or resized its
        stop meanwhile: this one then changes nothing (a second stop would be refused for want
        of shares, or both would sell; a resize would cancel the other's), leaves the exit to
        that session, said once, and the position keeps the other session's stop. A row this
        session does not hold as read (unreadable, or ``may_protect`` said yes for another
        reason) has nothing to confirm."""
        row = exit_row(symbol)
        keeper = self._seen.get(row)
        if keeper is None or keeper.holder != self.key or row in self._confirmed:
            return True
        version = store.confirm(self._db, self._account, row, self.key, keeper.version)
        if version is not None:
            self._seen[row] = Claim(self.key, version, keeper.protects)
            self._confirmed.add(row)
            return True
        holder = store.holder_now(self._db, self._account, row)
        self._seen[row] = Claim(holder or "", -1)  # never this cycle's to take again
        if holder is not None and holder != self.key:  # (a row changed by hand: read again
            self._leave(symbol, holder)  # next cycle, nothing changed in this one)
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
