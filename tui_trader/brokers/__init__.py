"""Brokers: the port the engine sends orders through, and its adapters.

``paper`` simulates fills in-process; ``alpaca`` speaks to Alpaca (or the project's sandbox)
through alpaca-py, imported lazily so that the local desk never pays for it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from tui_trader.core.domain import Account, Bar, Position
from tui_trader.core.orders import Order, OrderRequest, OrderUpdate


class BrokerError(Exception):
    """The broker could not be reached or gave an answer that cannot be trusted.

    Raising it from a money path stops new orders: the engine treats any doubt as a halt.
    """


class Throttled(BrokerError):
    """A request was not sent: the client-side request budget is spent, or the broker asked us
    to wait (HTTP 429). Nothing reached the broker, so an order refused this way was surely
    never received; a session skips the cycle (and says so) rather than halting."""


class Partial(list[Order]):
    """A listing of orders the broker could not give whole (more orders than the listing's
    bound, or a halt's cancels some of which the broker refused): the orders seen, and in
    plain words what was not seen or done and what to do. A money path that gets one fails
    closed: no new orders on a partial view of what is working."""

    def __init__(
        self, orders: list[Order], unseen: str, again: bool = False, refused: int = 0
    ) -> None:
        """``again``: asking once more may see further (a halt's cancels took orders off
        the listing), so a halt acts on it again at the next cycle. ``refused``: how many
        cancels the broker refused (those orders may still be working)."""
        super().__init__(orders)
        self.unseen = unseen
        self.again = again
        self.refused = refused


def unseen(orders: list[Order]) -> str:
    """What a listing could not see ('' when it is whole)."""
    return orders.unseen if isinstance(orders, Partial) else ""


def refused(orders: list[Order]) -> int:
    """How many of a halt's cancels the broker refused (``Partial.refused``; 0 when none)."""
    return orders.refused if isinstance(orders, Partial) else 0


def see_further(orders: list[Order]) -> bool:
    """Whether a partial listing may see further when asked again (``Partial.again``)."""
    return isinstance(orders, Partial) and orders.again


class Broker(Protocol):
    """Where orders go and where account, positions and fills come from."""

    name: str
    """Short label for headers and the audit trail: ``paper``, ``alpaca-paper``, ..."""
    outside_changes: bool
    """Whether anything but this session can move the account's positions (a person, another
    program): the session then checks its positions against its own fills each cycle."""
    replace_confirmed: bool
    """Whether a replace's answer means the old order has ended (the local broker: one step);
    False where the old order may still fill before its replacement works (Alpaca), so its
    row stays open until the broker's word (``brokers.alpaca_amend``)."""

    def account(self) -> Account:
        """Cash, equity and buying power now."""
        ...

    def positions(self) -> dict[str, Position]:
        """Open positions by symbol."""
        ...

    def open_orders(self) -> list[Order]:
        """Orders that may still fill; a ``Partial`` listing when the broker could not list
        them all (the desk then sends no new orders)."""
        ...

    def orders_since(self, after: datetime) -> list[Order]:
        """The account's orders placed after ``after``, open or closed (a pair as one order):
        where start-up reconciliation looks for the desk's own orders whose audit rows were
        lost. Empty when the account cannot hold an order from before this process; a
        ``Partial`` listing when older ones were not listed."""
        ...

    def working_symbols(self, ignore: Callable[[Order], bool] | None = None) -> set[str]:
        """Symbols with an order of this session that may still fill (as far as the updates
        drained so far tell): their positions may move by our own fills at any moment.
        Orders for which ``ignore`` is true (protective exits) are left out."""
        ...

    def look_up_orders(self, symbol: str) -> None:
        """Ask the broker now about this session's orders in ``symbol`` that may still fill;
        their changes and fills come with the next ``drain_updates`` (a fill whose news is
        still on its way, before a position difference is called a change made outside)."""
        ...

    def look_up_many(self, client_order_ids: list[str]) -> dict[str, Order]:
        """This session's orders among ``client_order_ids`` as the broker says now, in one
        read however many there are (at Alpaca one listing request, not one each): those the
        read showed, by client id (one it did not show is not known to have ended: ask it
        alone). Their changes and fills come with the next ``drain_updates``."""
        ...

    def submit(self, request: OrderRequest) -> Order:
        """Send an order; the answer is its acknowledged state (``rejected`` with a reason)."""
        ...

    def get_order(self, client_order_id: str) -> Order | None:
        """The order the broker has under this client id, or ``None`` if it never arrived."""
        ...

    def cancel(self, client_order_id: str, confirm: bool = False) -> Order | None:
        """Cancel one open order; return it as cancelled, or ``None`` if it is not working.

        ``confirm``: return only once the broker says the order is cancelled (``None`` if it
        did not say so in time, or the order finished otherwise): a sell for the shares the
        order held can go out after it (Alpaca cancels asynchronously)."""
        ...

    def replace(self, client_order_id: str, request: OrderRequest) -> Order | None:
        """Replace a working order by ``request`` (new client id, quantity, prices; same
        symbol, side and type) in one step, so that what it protects is never left without
        it; the new order's acknowledged state (``rejected``, with the old order still
        working), or ``None`` if the old order is no longer working."""
        ...

    def cancel_all(self, keep: Callable[[Order], bool] | None = None) -> list[Order]:
        """Cancel every open order on the account but those ``keep`` is true for (a halt
        keeps protective exits and orders placed outside the desk: ``engine.halt_keeps``);
        return this session's among them as cancelled (a ``Partial`` list when the broker's
        listing could not see every open order: some may still be working)."""
        ...

    def trading_ready(self) -> str | None:
        """Why new orders must wait now (stream down, market closed), or None."""
        ...

    def suspend_trading(self) -> None:
        """Stop the account itself from trading (``--suspend-on-halt``)."""
        ...

    def urgent(self) -> AbstractContextManager[None]:
        """A block whose reads are part of a halt (its positions, its listing, the account
        after it): they may take what a broker's request budget keeps for orders and cancels."""
        ...

    def adopt(self, order: Order) -> None:
        """Follow an order placed by an earlier run on this account (reconciliation)."""
        ...

    def on_bars(self, bars: dict[str, Bar]) -> None:
        """See the new bars: a simulated broker matches orders, a real one marks prices."""
        ...

    def drain_updates(self) -> list[OrderUpdate]:
        """Order changes and fills since the last call, oldest first."""
        ...

    def take_contradictions(self) -> list[str]:
        """What the broker said since the last call that cannot be true (a fill for more than
        an order's quantity, a filled quantity going down), in plain words; each once. The
        session halts on any: the books can no longer be trusted to match the broker's."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
