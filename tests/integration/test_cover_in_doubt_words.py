"""The words of a short's cover whose answer was lost: it may still buy the shares back.

A desk short SPY under a buy stop closes the short by hand: the stop is cancelled first (the
cover needs it gone), then the cover's answer is lost (in doubt: it may still arrive). The stop
is not put back beside it, said NOT protected (``engine.stop_release._exit_after``). Before,
the line said the buy "may still sell the same shares", words for a long's sale; it says "may
still buy back the same shares" now (``engine.exit_words.may_still``).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_session
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, Side
from tui_trader.risk.stops import StopRule, is_protective


class _Short:
    """Always short."""

    name = "short"

    def on_bar(self, bar: Bar) -> Signal:
        """Short."""
        return Signal(-1.0, "short")


class _LostCovers(PaperBroker):
    """A paper broker that loses the answer to a buy that is no exit while ``lose`` is set:
    it never arrives, and the desk cannot know that yet (``unknown``)."""

    def __init__(self) -> None:
        super().__init__(100_000.0, ("SPY",), PaperCosts(), allow_short=True)
        self.lose = False

    def submit(self, request: OrderRequest) -> Order:
        """Lose a cover's answer while ``lose``."""
        protective = is_protective(request.client_order_id, request.order_type)
        if self.lose and request.side is Side.BUY and not protective:
            return Order.from_request(request, OrderStatus.UNKNOWN, "answer lost")
        return super().submit(request)


def test_a_covers_lost_answer_says_it_may_still_buy_the_shares_back(tmp_path: Path) -> None:
    broker = _LostCovers()
    session = make_session(
        tmp_path / "audit.db",
        broker=broker,
        symbols=("SPY",),
        strategies=[_Short()],
        stop_loss=StopRule(pct=3.0),
        allow_short=True,
    )
    for _ in range(3):  # the short sale, then its buy stop
        session.run_iteration()
    held = broker.positions()["SPY"].qty
    stops = [o for o in broker.open_orders() if is_protective(o.client_order_id, o.order_type)]
    assert held < 0 and [o.side for o in stops] == [Side.BUY], (held, stops)
    broker.lose = True
    session.request_close("SPY")
    report = session.apply_kill_requests()
    assert report is not None
    said = [e.action_taken for e in report.risk_events if "is in doubt" in e.action_taken]
    assert len(said) == 1, report.risk_events
    assert f"buy {-held:g} SPY is in doubt (sent, no answer)" in said[0], said
    assert "while that order may still buy back the same shares" in said[0], said
    assert "may still sell" not in said[0], said
    session.finish("stopped")
