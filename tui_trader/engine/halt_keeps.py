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
  never leaves an order working) and the words say so. A session whose row this store lost (a
  store restored from an older backup) looks like another database's too: the words tell the
  user to cancel such orders at the broker.

A halt that flattens still cancels everything: its closing sells need the shares those orders
hold, and Alpaca refuses a sell that could trade against the account's own working buy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_trader.core.order_ids import read_order_id
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


class HaltKeeps:
    """The ``keep`` test a halt gives ``Broker.cancel_all``; it counts what it kept, so the
    halt's risk event can say what is still working and why. ``known`` tells the sessions of
    the halting session's store; without it every tui-trader session's orders are the desk's."""

    __slots__ = ("_known", "_seen", "elsewhere", "exits", "outside", "unread")

    def __init__(self, known: KnownSessions | None = None) -> None:
        self.exits = 0
        self.outside = 0
        self.elsewhere = 0
        """Orders of tui-trader sessions this store does not hold (another database's desk)."""
        self.unread = ""
        """Why the store's sessions could not be read ('' when they could): every tui-trader
        order was then taken for the desk's and cancelled (fail closed)."""
        self._known = known
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
        if not self._ours(parts.session_key):
            self.elsewhere += 1
            return True
        return False

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
        if self.unread:
            parts.append(
                f"this database's sessions could not be read ({self.unread}): every "
                "tui-trader session's orders were cancelled, other databases' desks' included"
            )
        return "".join(f"; {part}" for part in parts)
