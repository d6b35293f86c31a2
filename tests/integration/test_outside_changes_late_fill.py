"""A protective stop's fill whose news is late is the desk's own, not a change made outside.

Now that a protected symbol is checked every cycle, a stop that fills between the broker's
position read and the news of the fill (Alpaca's stream can lag) shows the position short of
what the desk's fills make. The broker here is the local paper broker playing Alpaca: anything
may move the account (``outside_changes``), and the news of a protective order is held back
until the desk looks the order up, as a stream event that has not arrived yet would be.
"""

from __future__ import annotations

from tests.integration.test_protective_stops import _held, _session, _step, _stops
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.orders import OrderUpdate
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE
from tui_trader.risk.stops import is_protective
from tui_trader.store.models import LiveFill, RiskEventRow


class LateStopNews(PaperBroker):
    """A paper broker whose protective orders' news waits until they are looked up."""

    outside_changes = True

    def __init__(self) -> None:
        super().__init__(100_000.0, ("SPY",), PaperCosts(0.0, 0.0, 0.0))
        self.late: list[OrderUpdate] = []
        self.arrived: list[OrderUpdate] = []

    def drain_updates(self) -> list[OrderUpdate]:
        """Every update but a protective order's (held back), and those looked up since."""
        out, self.arrived = self.arrived, []
        for update in super().drain_updates():
            order = update.order
            if is_protective(order.client_order_id, order.order_type):
                self.late.append(update)
            else:
                out.append(update)
        return out

    def working_symbols(self, ignore=None) -> set[str]:
        """As far as the news tells: an order whose news is late still looks working."""
        late = {u.order.symbol for u in self.late if ignore is None or not ignore(u.order)}
        return super().working_symbols(ignore) | late

    def look_up_orders(self, symbol: str) -> None:
        """The look-up brings the late news of ``symbol``'s orders."""
        self.arrived += [u for u in self.late if u.order.symbol == symbol]
        self.late = [u for u in self.late if u.order.symbol != symbol]


def test_a_stop_filled_with_its_news_late_is_counted_as_the_desks_own(db_path) -> None:
    broker = LateStopNews()
    session, market, strategy = _session(db_path, broker=broker)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    assert len(_stops(session)) == 1
    strategy.target = 0.0  # no re-entry after the stop
    _step(session, market, 97, 97.5, 90, 91)  # the stop fills; its news does not come
    assert _held(session) == 0 and broker.late
    notes = []
    for _ in range(3):
        report = _step(session, market, 91, 92, 90, 91)
        notes += report.notes
    assert RiskEventRow.select().where(RiskEventRow.event_type == OUTSIDE_CHANGE).count() == 0
    [fill] = LiveFill.select().where(LiveFill.symbol == "SPY", LiveFill.side == "sell")
    assert fill.quantity == 100 and fill.price == 95.0
    assert session.outside.holds == {} and broker.late == []  # brought by the look-up
    assert not [n for n in notes if "changed outside" in n], notes
