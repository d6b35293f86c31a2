"""What a halt leaves working on the account: protective exits, and orders placed outside the desk.

A halt (the kill switch, a drawdown or daily-loss trip, a halt adopted from another session)
cancels the desk's working orders so nothing new fills. An Alpaca account is shared, though:
other desks keep protective exits under their positions there, and the user places orders of
their own (Alpaca's dashboard, another program). Alpaca's "cancel all orders" would take those
too: a kill switch that cancels the stop-loss under someone's position leaves it unprotected,
the opposite of what a halt is for. So a halt that does not flatten cancels the desk's own
orders (every session's: the client order id says whose, ``core.order_ids``) and keeps

- every protective exit (``risk.stops.is_protective``), which keeps protecting its position
  while trading is halted, as a desk that died would leave it;
- every order whose client id is not of the desk's form: the user's, left to the user, as a
  position bought by hand is (``engine.outside_changes``), and said in the halt's words.

A halt that flattens still cancels everything: its closing sells need the shares those orders
hold, and Alpaca refuses a sell that could trade against the account's own working buy.
"""

from __future__ import annotations

from tui_trader.core.order_ids import read_order_id
from tui_trader.core.orders import Order
from tui_trader.risk.stops import is_protective


class HaltKeeps:
    """The ``keep`` test a halt gives ``Broker.cancel_all``; it counts what it kept, so the
    halt's risk event can say what is still working and why."""

    __slots__ = ("exits", "outside")

    def __init__(self) -> None:
        self.exits = 0
        self.outside = 0

    def __call__(self, order: Order) -> bool:
        """True for an order the halt leaves working."""
        if read_order_id(order.client_order_id) is None:
            self.outside += 1
            return True
        if is_protective(order.client_order_id, order.order_type):
            self.exits += 1
            return True
        return False

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
        return "".join(f"; {part}" for part in parts)
