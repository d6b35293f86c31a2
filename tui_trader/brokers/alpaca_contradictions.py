"""What an Alpaca account said that cannot be true, kept for the session to halt on.

Alpaca's stream and REST are eventually consistent, so an old view of an order arriving late is
normal and changes nothing (``core.orders.is_stale``). Some views no reading can reconcile with
the books: a fill for more than the order's quantity, a filled quantity going down in a view
stamped later (``core.orders.contradiction``), a fill under this session's own client ids for an
order it never sent. Each is noted once per order, in plain words; ``AlpacaBroker``'s
``take_contradictions`` hands them to the session, which halts.
"""

from __future__ import annotations

from dataclasses import replace

from tui_trader.core.orders import Order


class Contradictions:
    """The contradictions noted since the last ``take``, and what is needed to see them."""

    def __init__(self) -> None:
        """Nothing sent, nothing noted."""
        self._found: list[str] = []
        self._orders: set[str] = set()
        """Orders a contradiction was noted for (each is said once)."""
        self._sent: set[str] = set()
        """Client ids the broker was asked to send (whatever became of them)."""
        self._prefixes: set[str] = set()
        """``tt-<session>-`` of the desk's ids sent: an id with one is this session's."""

    def sent(self, client_order_id: str) -> None:
        """Remember an order the broker is about to send."""
        self._sent.add(client_order_id)
        if client_order_id.startswith("tt-"):
            self._prefixes.add("-".join(client_order_id.split("-")[:2]) + "-")

    def note(self, client_order_id: str, text: str | None) -> None:
        """Note ``text`` (if any) about an order, unless one was noted for it already."""
        if text is not None and client_order_id not in self._orders:
            self._orders.add(client_order_id)
            self._found.append(text)

    def unknown_order(self, order: Order) -> None:
        """A view of an order the broker does not follow: another program's (reconciliation
        reports it), unless it is a fill under this session's own ids for one never sent."""
        cid = order.client_order_id
        own = any(cid.startswith(prefix) for prefix in self._prefixes)
        if own and cid not in self._sent and order.filled_qty > 0:
            self.note(
                cid,
                f"the broker reports {order.filled_qty:g} {order.symbol} filled for order "
                f"{cid}, which this session never sent",
            )

    def take(self) -> list[str]:
        """The contradictions noted since the last call."""
        found, self._found = self._found, []
        return found


def as_sent(view: Order, known: Order) -> Order:
    """``view`` in the symbol and on the side the order was sent with (``known``'s): a view
    saying otherwise is a ``contradiction``, noted; its fill is the order's own, not another
    symbol's or a sale."""
    if view.symbol == known.symbol and view.side == known.side:
        return view
    return replace(view, symbol=known.symbol, side=known.side)
