"""A heartbeat the store refuses during a wait inside a cycle does not cut an order in half.

Waits inside a cycle write the heartbeat (``core.waiting``): the request budget's wait before a
sell, after the desk has cancelled the symbol's protective stop for it. Before, a heartbeat the
store refused there (SQLite busy past its timeout, a PostgreSQL connection dropped for a moment)
raised out of the broker's send: the stop cancelled, the sell never sent and never followed, the
session ended on the store error, and the position was left with no stop at the broker. Now the
wait goes on (the heartbeat is tried again at the next slice, and the cycle's own heartbeat still
says what the store did): the sell goes out, as it would have without the heartbeat.
"""

from __future__ import annotations

import threading
from pathlib import Path

import peewee
import pytest

from tests.conftest import make_session
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core import waiting
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.orders import Order, OrderRequest, Side
from tui_trader.risk.stops import StopRule, is_protective


class _HoldThenSell:
    """Long until told to sell (``long`` False), then flat."""

    name = "hold"

    def __init__(self) -> None:
        self.long = True

    def on_bar(self, bar: Bar) -> Signal:
        """Long, or flat once told."""
        return Signal(1.0 if self.long else 0.0, "hold, then sell")


def _stops(broker: PaperBroker) -> list[Order]:
    """The protective stops working at the broker."""
    return [o for o in broker.open_orders() if is_protective(o.client_order_id, o.order_type)]


class _WaitingBroker(PaperBroker):
    """A broker that waits for its request budget before each sell, as Alpaca's does at a low
    rate; ``store_fails`` makes the store refuse the heartbeat during that wait."""

    def __init__(self) -> None:
        super().__init__(100_000.0, ("SPY",), PaperCosts())
        self.waiting = False
        self.sent: list[OrderRequest] = []

    def submit(self, request: OrderRequest) -> Order:
        """Wait a couple of slices (the heartbeat written after each), then accept."""
        if request.side is Side.SELL and not is_protective(
            request.client_order_id, request.order_type
        ):
            self.waiting = True
            try:
                waiting.wait(threading.Event(), 2 * waiting.SLICE_S)
            finally:
                self.waiting = False
            self.sent.append(request)
        return super().submit(request)


def test_a_store_refusing_the_heartbeat_in_a_sells_wait_still_sends_the_sell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waiting, "SLICE_S", 0.01)
    broker = _WaitingBroker()
    strategy = _HoldThenSell()
    session = make_session(
        tmp_path / "audit.db",
        broker=broker,
        symbols=("SPY",),
        strategies=[strategy],
        stop_loss=StopRule(pct=3.0),
        commit_before_send=True,  # rows commit one by one, as an Alpaca session's do
    )
    beat = session.audit.beat

    def refused(force: bool = False, iterations: int | None = None) -> None:
        """The store is busy while the desk waits for its budget (not otherwise)."""
        if broker.waiting:
            raise peewee.OperationalError("database is locked")
        beat(force=force, iterations=iterations)

    monkeypatch.setattr(session.audit, "beat", refused)
    with waiting.beating(session.audit.beat_waiting):
        for _ in range(3):  # the buy, filled, then its stop
            session.run_iteration()
        assert _stops(broker) and not broker.sent, "SPY held under its stop"
        strategy.long = False
        session.run_iteration()  # flat: the stop cancelled, the sell waits for its budget
    assert broker.sent, "the sell went out"
    assert [o.side for o in broker.open_orders()] == [Side.SELL], "the sell works, no stop"
    session.run_iteration()  # it fills with the next bar
    assert "SPY" not in broker.positions()
    session.finish("stopped")
