"""Two sessions on one account never both act on one reading of its positions.

Each desk trades towards its targets from the broker's positions, which every session of the
account shares. Two desks running the same bar read the positions, both see what neither has
bought yet, and both send the order: the account then holds twice the target, past the
position limit each desk checked on its own, and the next bar both sell the surplus. The
account's sessions on one store take turns per symbol through ``store.symbol_claims``:

- at the start of a cycle, before the positions are read (``begin``), a session lets go of the
  symbols where its own orders have ended, then reads the account's claims;
- a strategy's order in a symbol goes out only if the session takes the symbol's claim
  (``take``): refused while another live session's order there may still fill, and refused when
  another session sent one since this cycle read the claims (its positions reading is stale
  then). The symbol waits for a later cycle, said once per onset; nothing is sent, no order
  slot of the day is used.

Only orders the strategies decide from the positions take a claim. A halt's flatten, protective
exits and orders placed by hand go out as before. Desks on different stores (another SQLite
file, another machine's database) cannot see each other's claims: run the desks of one account
on one store (README, "Several processes on one account").
"""

from __future__ import annotations

from typing import Any

from tui_trader.brokers import Broker
from tui_trader.core.orders import Order
from tui_trader.engine.said_once import SaidOnce
from tui_trader.risk.stops import is_protective
from tui_trader.store import symbol_claims as store
from tui_trader.store.symbol_claims import Claim

BUSY = "busy"
UNREADABLE = "unreadable"


class AccountClaims:
    """A session's turns per symbol on a shared account (see the module)."""

    def __init__(self, db: Any, account_key: str) -> None:
        self._db = db
        self._account = account_key
        self.key = ""
        """This session's key (set when its row exists)."""
        self._seen: dict[str, Claim | None] = {}
        self._mine: set[str] = set()
        """Symbols whose claim this session holds busy."""
        self._alive: dict[str, bool] = {}
        self._holds: dict[str, str] = {}
        self.said = SaidOnce()

    @property
    def holding(self) -> bool:
        """Whether this session holds a claim busy (an order of its own may still fill)."""
        return bool(self._mine)

    def begin(self, key: str, broker: Broker) -> None:
        """Before the positions are read: let go of the symbols whose orders ended
        (``release_done``), then read the account's claims (this session's key: ``key``)."""
        self.key = key
        if self._mine:
            self.release_done(broker)
        self._seen = store.read(self._db, self._account)
        self._alive.clear()
        if self.said or self._holds:
            self.said.still(self._holds)
        self._holds = {}

    def release_done(self, broker: Broker) -> None:
        """Release the claims of the symbols where none of this session's orders may still
        fill as far as the broker's news drained so far tell, protective exits aside (they do
        not move the position until they fill, and may rest all day). Also between bars, so a
        desk on daily bars does not keep a symbol from the others until its next bar."""
        done = self._mine - broker.working_symbols(ignore=_is_exit)
        if done:
            store.release(self._db, self._account, self.key, sorted(done))
            self._mine -= done

    def take(self, symbol: str, what: str) -> str | None:
        """Take ``symbol``'s claim for an order (``what``: "buy 20 SPY"); ``None`` if taken,
        else the line saying why it is not sent, or "" when that was said already."""
        seen = self._seen.get(symbol)
        reason = ""
        if symbol in self._seen and seen is None:
            reason = UNREADABLE
        elif seen is not None and seen.busy and seen.holder != self.key and self._lives(seen):
            reason = BUSY
        else:
            version = store.take(self._db, self._account, symbol, self.key, seen)
            if version is not None:
                self._seen[symbol] = Claim(self.key, True, version)
                self._mine.add(symbol)
                return None
            reason = BUSY  # another session sent one since ``begin`` read the claims
        self._holds[symbol] = reason
        if not self.said.first(symbol, reason):
            return ""
        return f"{what} not sent: {_WHY[reason].format(symbol=symbol)}"

    def _lives(self, claim: Claim) -> bool:
        """Whether a busy claim's holder is a session still alive (asked once a cycle)."""
        holder = claim.holder
        if holder not in self._alive:
            found = store.alive([holder])
            self._alive[holder] = holder in found
        return self._alive[holder]


def _is_exit(order: Order) -> bool:
    """Whether an order is one of the desk's protective exits."""
    return is_protective(order.client_order_id, order.order_type)


_WHY = {
    BUSY: (
        "another session on this account is trading {symbol} (its order may still fill, or "
        "went out after this cycle read the positions); {symbol} is decided again once that "
        "order ends"
    ),
    UNREADABLE: (
        "the store's claim row for {symbol} (table symbol_claims) is unreadable, edited by "
        "hand; delete that row to trade {symbol} again"
    ),
}
