"""The protective exits' step keeps what it already did when the broker stops answering in it.

A cycle brings each position's exit in step, symbol after symbol, gathering what it did (a take
profit closed at market, an exit the broker rejected) to write with the cycle's other events.
When the broker stopped answering at a later symbol (the cancel before a resize), the step
failed with those events in a list of its own: the cycle's failure path never saw them. The
first symbol's take profit at market went out, its order row written, with no word of why in
the audit trail. Now the step hands them to the cycle as it fails, and they are written.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.test_protective_stops import FIVE_PCT, T0
from tui_trader.brokers import BrokerError
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.orders import Order, OrderRequest, Side
from tui_trader.core.timeframes import parse_interval
from tui_trader.engine.exit_placing import TAKE_PROFIT
from tui_trader.store.models import LiveOrder, RiskEventRow

DAY = timedelta(days=1)


class TwoScript:
    """A market of QQQ and SPY that gives the bars a test queues, one pair per cycle."""

    symbols = ("QQQ", "SPY")
    interval = parse_interval("1d")

    def __init__(self) -> None:
        self.queue: list[dict[str, Bar]] = []
        self.day = 20

    def warmup(self) -> dict[str, list[Bar]]:
        """Twenty quiet days at 100."""
        return {
            s: [Bar(s, T0 + d * DAY, 100, 101, 99, 100, 1e6) for d in range(20)]
            for s in self.symbols
        }

    def push(self, **closes: tuple[float, float, float, float]) -> None:
        """Queue the next day's bars (open, high, low, close by symbol; quiet if not given)."""
        at = T0 + self.day * DAY
        self.queue.append(
            {s: Bar(s, at, *closes.get(s, (100, 101, 99, 100)), 1e6) for s in self.symbols}
        )
        self.day += 1

    def next_bars(self) -> dict[str, Bar] | None:
        """The next queued bars, ``None`` when none are queued."""
        return self.queue.pop(0) if self.queue else None


class Targets:
    """A strategy whose target for each symbol the test sets."""

    name = "targets"

    def __init__(self) -> None:
        self.target = {"QQQ": 0.0, "SPY": 1.0}

    def on_bar(self, bar: Bar) -> Signal:
        """The target the test chose for the bar's symbol."""
        return Signal(self.target[bar.symbol], "test target")


def test_a_take_profit_at_market_is_written_when_the_next_exit_goes_unanswered(
    tmp_path: Path,
) -> None:
    """QQQ's buy fills below its take-profit level and the bar closes past it: the desk closes
    QQQ at market. SPY's position grew by 20 shares bought outside the desk: its exit pair must
    be cancelled to be resized, and the broker does not answer that cancel, so the cycle fails.
    The take profit is in the audit trail all the same, beside its order."""
    market, strategy = TwoScript(), Targets()
    session = make_session(
        tmp_path / "desk.db",
        market=market,
        strategies=[strategy],
        costs=PaperCosts(0.0, 0.0, 0.0),
        allocation_pct=10.0,
        stop_loss=FIVE_PCT,
        take_profit_pct=8.0,
        commit_before_send=True,  # rows commit one by one, as on a broker that outlives us
    )
    broker = session.broker
    market.push()
    session.run_iteration()  # SPY's buy goes out
    market.push()
    session.run_iteration()  # it fills: SPY's exit pair goes out
    strategy.target = {"QQQ": 1.0, "SPY": 1.0}
    market.push()
    session.run_iteration()  # QQQ's buy goes out
    broker.submit(OrderRequest("SPY", Side.BUY, 20, "outside-buy"))  # bought outside the desk
    cancel = broker.cancel

    def unanswered(client_order_id: str, confirm: bool = False) -> Order | None:
        raise BrokerError("cancelling an order: 503 Service Unavailable")

    broker.cancel = unanswered  # type: ignore[method-assign]
    market.push(QQQ=(100, 111, 100, 110))  # both buys fill at 100; QQQ closes past 108
    with pytest.raises(BrokerError):
        session.run_iteration()
    broker.cancel = cancel  # type: ignore[method-assign]
    closed = [o for o in LiveOrder.select() if o.symbol == "QQQ" and o.side == "sell"]
    assert closed, "QQQ was not closed at market: the test's scene is not set"
    said = RiskEventRow.select().where(RiskEventRow.event_type == TAKE_PROFIT)
    assert [(r.symbol, r.action_taken.startswith("closing")) for r in said] == [("QQQ", True)], (
        "the take profit at market is missing from the audit trail"
    )
    session.finish("stopped")
