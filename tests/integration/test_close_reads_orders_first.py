"""A halt's flatten and an exit put back read the open orders before the positions: a sale
filling between the two reads can leave them too small for a pass, never past what is held.

Read the other way (positions, then orders: as the exit step did before ``campaign32``), a sale
of 10 of 20 SPY that filled between the reads was in neither: the positions still held the 20,
the listing no longer showed the sale. The flatten's close, or the exit placed again, was sized
for 20 on a position of 10: a short sale of 10 at Alpaca, where a sell beyond the shares held
is one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import make_session
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.domain import Position
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, OrderType, Side

HELD, SOLD = 20.0, 10.0


class _FillsBetweenReads(PaperBroker):
    """20 SPY held and a sale of 10 working, until the first read of either: right after it,
    the sale fills (10 held, nothing working)."""

    def __init__(self) -> None:
        super().__init__(100_000.0, ("SPY",), PaperCosts())
        self.filled = False
        self.sent: list[OrderRequest] = []

    def positions(self) -> dict[str, Position]:
        """What is held as of now; the sale fills right after."""
        held = HELD - SOLD if self.filled else HELD
        self.filled = True
        return {"SPY": Position("SPY", held, 500.0, 500.0)}

    def open_orders(self) -> list[Order]:
        """The sale while it works; it fills right after."""
        sale = Order(
            "tt-0ther_t1-3-SPY-r", "SPY", Side.SELL, SOLD, OrderType.MARKET, OrderStatus.NEW
        )
        working = [] if self.filled else [sale]
        self.filled = True
        return working

    def submit(self, request: OrderRequest) -> Order:
        """Kept, and accepted."""
        self.sent.append(request)
        return Order.from_request(request, OrderStatus.NEW, "")


def test_a_flatten_never_closes_shares_a_sale_sold_between_its_reads(tmp_path: Path) -> None:
    broker = _FillsBetweenReads()
    session = make_session(tmp_path / "audit.db", broker=broker, symbols=("SPY",))
    try:
        broker.filled = False  # (the start read both): the sale works again, until a read
        positions, book, _working, _since = session._closable_book()
        closable = book["SPY"].closable(-1, positions["SPY"].qty)
        assert closable <= HELD - SOLD, f"a close of {closable:g} on {HELD - SOLD:g} held"
    finally:
        session.finish("stopped")


def test_an_exit_put_back_is_never_sized_past_what_a_sale_left(tmp_path: Path) -> None:
    broker = _FillsBetweenReads()
    session = make_session(tmp_path / "audit.db", broker=broker, symbols=("SPY",))
    try:
        stop = Order(
            "tt-0ther_t1-2-SPY-ps1", "SPY", Side.SELL, HELD, OrderType.STOP,
            OrderStatus.CANCELED, stop_price=480.0,
        )  # fmt: skip
        why = "the order it was cancelled for did not go out"
        broker.filled = False  # (the start read both): the sale works again, until a read
        session._put_back("SPY", [(stop, None)], why, datetime.now(UTC))
        sold = sum(r.qty for r in broker.sent if r.side is Side.SELL)
        assert sold <= HELD - SOLD, f"an exit for {sold:g} on {HELD - SOLD:g} held"
    finally:
        session.finish("stopped")
