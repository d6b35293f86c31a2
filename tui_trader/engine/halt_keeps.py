"""What a halt leaves working on the account: protective exits, and orders placed outside the desk.

A halt (the kill switch, a drawdown or daily-loss trip, a halt adopted from another session)
cancels the desk's working orders so nothing new fills. An Alpaca account is shared, though:
other desks keep protective exits under their positions there, and the user places orders of
their own (Alpaca's dashboard, another program). Alpaca's "cancel all orders" would take those
too: a kill switch that cancels the stop-loss under someone's position leaves it unprotected,
the opposite of what a halt is for. So a halt that does not flatten cancels the desk's own
orders (every session's of the halting session's store: the client order id names the session,
``core.order_ids``, and the store's ``sessions`` table says whether it is one of its own) and
keeps

- every protective exit (``risk.stops.is_protective``), which keeps protecting its position
  while trading is halted, as a desk that died would leave it;
- every order whose client id is not of the desk's form: the user's, left to the user, as a
  position bought by hand is (``engine.outside_changes``), and said in the halt's words;
- every order of a tui-trader session the store does not hold: a desk on the same account
  writing to another database does not adopt this halt (the halt is shared through the store),
  so cancelling its orders only made it send them again next cycle. Said in the halt's words.
  When the store cannot be read at that moment, those orders are cancelled (as before: a doubt
  never leaves an order working) and the words say so.

A session whose row this store lost (a store restored from an older backup holds none of the
sessions started after the backup) is told from another database's by its key: a key that
carries this store's tag (``store.store_identity``; the halting session's own key carries it)
was made by this store, so its orders are cancelled with the desk's, and the words say how many
(before, they were left working: the kill switch failed open). A key without a tag (made before
stores had an identity) keeps the old meaning. A copy of this store started by a second desk
carries the same tag: each one's halt cancels the other's orders too (README).

A halt that flattens still cancels everything: its closing sells need the shares those orders
hold, and Alpaca refuses a sell that could trade against the account's own working buy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_trader.core.order_ids import key_tag, read_order_id
from tui_trader.core.orders import Order
from tui_trader.risk.stops import is_protective
from tui_trader.store.lost_rows import sessions_by_key

if TYPE_CHECKING:
    from tui_trader.store.audit import AuditLog

KnownSessions = Callable[[list[str]], set[str]]
"""Those of the given session keys that the halting session's store holds (may raise)."""


def store_sessions(audit: AuditLog) -> KnownSessions:
    """The sessions of ``audit``'s store (the halting session's own always among them)."""
    own = audit.session.key if audit.session else None

    def known(keys: list[str]) -> set[str]:
        others = [key for key in keys if key != own]
        return {key for key in keys if key == own} | set(sessions_by_key(others))

    return known


def store_tag_of(audit: AuditLog) -> str | None:
    """The halting session's store's tag: the one its own session key carries."""
    return key_tag(audit.session.key) if audit.session else None


class HaltKeeps:
    """The ``keep`` test a halt gives ``Broker.cancel_all``; it counts what it kept, so the
    halt's risk event can say what is still working and why. ``known`` tells the sessions of
    the halting session's store; without it every tui-trader session's orders are the desk's.
    ``tag``: the store's tag, whose sessions are the desk's even when the store holds no row
    of them (``store_tag_of``)."""

    __slots__ = ("_known", "_seen", "_tag", "elsewhere", "exits", "outside", "rowless", "unread")

    def __init__(self, known: KnownSessions | None = None, tag: str | None = None) -> None:
        self.exits = 0
        self.outside = 0
        self.elsewhere = 0
        """Orders of tui-trader sessions this store does not hold (another database's desk)."""
        self.rowless = 0
        """Orders cancelled of sessions that carry this store's tag and have no row in it
        (a restore from an older backup, or a copy of this store)."""
        self.unread = ""
        """Why the store's sessions could not be read ('' when they could): every tui-trader
        order was then taken for the desk's and cancelled (fail closed)."""
        self._known = known
        self._tag = tag
        self._seen: dict[str, bool] = {}

    def __call__(self, order: Order) -> bool:
        """True for an order the halt leaves working."""
        parts = read_order_id(order.client_order_id)
        if parts is None:
            self.outside += 1
            return True
        if is_protective(order.client_order_id, order.order_type):
            self.exits += 1
            return True
        if self._ours(parts.session_key):
            return False
        if self._tag is not None and key_tag(parts.session_key) == self._tag:
            self.rowless += 1
            return False
        self.elsewhere += 1
        return True

    def _ours(self, session_key: str) -> bool:
        """Whether the session is in this store (asked once per session); True when it cannot
        be told: an order that should stop is never left working on a doubt."""
        if self._known is None or self.unread:
            return True
        if session_key not in self._seen:
            try:
                self._seen[session_key] = session_key in self._known([session_key])
            except Exception as exc:  # any failure of the store: cancel, as before, and say so
                self.unread = str(exc) or type(exc).__name__
                return True
        return self._seen[session_key]

    def said(self) -> str:
        """The halt action's words for what was left ('' when nothing was)."""
        parts = []
        if self.exits:
            parts.append(f"{self.exits} protective exit(s) kept")
        if self.outside:
            parts.append(
                f"{self.outside} order(s) placed outside tui-trader left working "
                "(cancel them at the broker if they should stop too)"
            )
        if self.elsewhere:
            parts.append(
                f"{self.elsewhere} order(s) of tui-trader sessions on another database left "
                "working (that desk does not share this halt: halt it there, or cancel them at "
                "the broker)"
            )
        if self.rowless:
            parts.append(
                f"{self.rowless} of the cancelled order(s) were of sessions this database made "
                "but holds no row of (restored from an older backup, or a copy of it in use)"
            )
        if self.unread:
            parts.append(
                f"this database's sessions could not be read ({self.unread}): every "
                "tui-trader session's orders were cancelled, other databases' desks' included"
            )
        return "".join(f"; {part}" for part in parts)
