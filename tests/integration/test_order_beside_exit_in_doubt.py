"""An order by hand waits while the symbol's protective exit is in doubt.

Before an order in a protected symbol the desk cancels the symbol's exit (it needs the exit's
shares; ``engine.stop_release``). An exit whose send is in doubt (its answer lost, the broker
not knowing it yet) cannot be cancelled: it may still arrive. Before, a close by hand went out
beside it for the whole position (the gate leaves exits out of what a sell may take), and had
the exit arrived too, both would have sold the shares: a long turned short. Now the order waits,
said in plain words, until the broker says whether it has the exit; once it never received it,
the close goes out.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_session
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, Side
from tui_trader.risk.stops import StopRule, is_protective
from tui_trader.store.models import LiveOrder


class _Hold:
    """Always long."""

    name = "hold"

    def on_bar(self, bar: Bar) -> Signal:
        """Long."""
        return Signal(1.0, "hold")


class _LostExits(PaperBroker):
    """A paper broker that loses the answer to protective exits while ``lose`` is set: the
    exit never arrives, and the desk cannot know that yet (``unknown``)."""

    def __init__(self) -> None:
        super().__init__(100_000.0, ("SPY",), PaperCosts())
        self.lose = False
        self.sells: list[OrderRequest] = []

    def submit(self, request: OrderRequest) -> Order:
        """Lose an exit's answer while ``lose``; note the sells that are not exits."""
        protective = is_protective(request.client_order_id, request.order_type)
        if protective and self.lose:
            return Order.from_request(request, OrderStatus.UNKNOWN, "answer lost")
        if request.side is Side.SELL and not protective:
            self.sells.append(request)
        return super().submit(request)


def test_a_close_by_hand_waits_while_the_symbols_stop_is_in_doubt(tmp_path: Path) -> None:
    broker = _LostExits()
    session = make_session(
        tmp_path / "audit.db",
        broker=broker,
        symbols=("SPY",),
        strategies=[_Hold()],
        stop_loss=StopRule(pct=3.0),
        commit_before_send=True,
    )
    broker.lose = True
    for _ in range(2):  # the buy, then its stop: sent, its answer lost
        session.run_iteration()
    held = broker.positions()["SPY"].qty
    [stop] = [o for o in session.unsettled.in_doubt() if o.symbol == "SPY"]
    assert is_protective(stop.client_order_id, stop.order_type)
    broker.lose = False
    session.request_close("SPY")
    report = session.apply_kill_requests()
    assert report is not None
    assert broker.sells == [], "a close went out beside a stop that may still arrive"
    said = " ".join(e.action_taken for e in report.risk_events)
    assert f"manual sell SPY not sent: its protective exit {stop.client_order_id}" in said, said
    assert broker.positions()["SPY"].qty == held
    for _ in range(300):  # the look-ups, on the session's clock, past the settlement window
        if not session.unsettled:
            break
        session.sync_orders()
    assert LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id).status == (
        "not_received"
    )
    session.request_close("SPY")  # the broker never had the stop: the close goes out
    session.apply_kill_requests()
    assert [(o.side, o.qty) for o in broker.sells] == [(Side.SELL, held)]
    session.finish("stopped")
