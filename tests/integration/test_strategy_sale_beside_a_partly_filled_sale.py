"""A strategy's sale beside another desk's sale that filled in part and still works, the positions
read lagging that fill: sized from what the fills say, it never sells those shares again.

The desk holds SPY and its strategy turns flat. Another desk's sale of every share (a rebalance
leg of a session that ended, its symbol taken over since) has filled half and works on; the
positions read still hold every share (Alpaca's may leave out the fills of an order still
working). Before, the strategy sold what it saw free (held less that sale's rest): the
broker refuses it while the rest works, and where the rest fills first it sells shares the
account no longer holds: a short (``holds32``). Now what that sale has filled is left out too
(``risk.holdings.less_sales_filled``, as a halt's flatten's close does): nothing is sold while it
works. The desk's own partly filled sale is not counted so (its positions are taken at what its
own fills make).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_session
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, OrderType, Side


class _Turns:
    """Long until ``flat`` is set, then flat."""

    name = "turns"

    def __init__(self) -> None:
        self.flat = False

    def on_bar(self, bar: Bar) -> Signal:
        """Long, then flat."""
        return Signal(0.0 if self.flat else 1.0, "turns")


class _BesideASale(PaperBroker):
    """A paper broker whose listing shows ``beside`` too (another desk's sale, working)."""

    def __init__(self) -> None:
        super().__init__(100_000.0, ("SPY",), PaperCosts())
        self.beside: list[Order] = []
        self.sent: list[OrderRequest] = []

    def submit(self, request: OrderRequest) -> Order:
        """Keep every request sent."""
        self.sent.append(request)
        return super().submit(request)

    def open_orders(self) -> list[Order]:
        """The paper broker's working orders, and ``beside``."""
        return super().open_orders() + self.beside


def _sale(cid: str, qty: float) -> Order:
    """A sale of ``qty`` SPY, half filled, working."""
    return Order(
        cid, "SPY", Side.SELL, qty, OrderType.MARKET, OrderStatus.PARTIALLY_FILLED,
        filled_qty=qty / 2,
    )  # fmt: skip


def _sells(broker: _BesideASale, key: str) -> list[OrderRequest]:
    """The session's sells the broker received."""
    return [o for o in broker.sent if o.side is Side.SELL and key in o.client_order_id]


def test_a_strategy_sale_beside_another_desks_partly_filled_sale_leaves_its_fills_out(
    tmp_path: Path,
) -> None:
    broker = _BesideASale()
    strategy = _Turns()
    session = make_session(
        tmp_path / "audit.db", broker=broker, symbols=("SPY",), strategies=[strategy]
    )
    for _ in range(3):
        session.run_iteration()
    held = broker.positions()["SPY"].qty
    assert held >= 2, "the strategy bought SPY"
    key = session.audit.session.key
    broker.beside = [_sale("tt-0badc0de_t1-3-SPY-r", held)]  # another desk's, half filled
    strategy.flat = True
    notes: list[str] = []
    for _ in range(2):
        report = session.run_iteration()
        notes += report.notes if report else []
    assert _sells(broker, key) == [], "the strategy sold the shares that sale had sold"
    said = [n for n in notes if n.startswith(f"sell {held / 2:g} SPY waits for the next cycle: ")]
    assert said, notes
    assert f"have sold {held / 2:g} shares already" in said[0], said
    assert "so at most 0 are free to sell" in said[0], said
    # the desk's own partly filled sale: its positions are taken at what its fills make
    broker.beside = [_sale(f"tt-{key}-3-SPY-r", held)]
    session.run_iteration()
    assert [o.qty for o in _sells(broker, key)] == [held / 2], "its own: sized as before"
    session.finish("stopped")


def test_the_strategy_sale_waiting_beside_others_filled_sales_is_said_once(
    tmp_path: Path,
) -> None:
    """While the other desk's sale works on, each cycle's wait is the same: said at its onset
    (before, every cycle said it again: a screen of the same line while that sale worked)."""
    broker = _BesideASale()
    strategy = _Turns()
    session = make_session(
        tmp_path / "audit.db", broker=broker, symbols=("SPY",), strategies=[strategy]
    )
    for _ in range(3):
        session.run_iteration()
    held = broker.positions()["SPY"].qty
    assert held >= 2, "the strategy bought SPY"
    broker.beside = [_sale("tt-0badc0de_t1-3-SPY-r", held)]  # another desk's, half filled
    strategy.flat = True
    waits: list[int] = []
    for _ in range(4):
        report = session.run_iteration()
        notes = report.notes if report else []
        waits.append(sum("SPY waits for the next cycle: other orders" in n for n in notes))
    assert waits == [1, 0, 0, 0], waits
    assert _sells(broker, session.audit.session.key) == []  # it still waits, unsent
    session.finish("stopped")
