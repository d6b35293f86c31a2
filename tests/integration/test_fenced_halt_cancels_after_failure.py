"""A halt found at an order's slot still cancels the desk's orders when its cycle then fails.

A session that decided its rebalance with the account active refuses an order whose slot finds
the account halted by another process (``fleet halt``, another desk's kill switch): the halt is
adopted at once and the cycle acts on it as it ends (``_halted_meanwhile``: cancels). When the
broker then did not answer a later step of that cycle (the protective exits' reads), the cycle
failed before its end: the next cycle found itself halted already and did not act, and the
desk's limit order kept working under the halt, able to fill. Now the halt's cancels are owed
to the next cycle, as for a halt from a send in doubt. A local session whose rows commit one
by one (SQLite and PostgreSQL), the fleet's halt landing as its first order is sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_session
from tui_trader.brokers import BrokerError
from tui_trader.core.domain import Bar, Position, Signal
from tui_trader.core.orders import Order, OrderRequest, OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.stops import StopRule
from tui_trader.store.fleet_halts import halt_account
from tui_trader.store.pg_url import PgUrl


class Toggle:
    """A test strategy whose target for every symbol the test sets."""

    name = "toggle"

    def __init__(self) -> None:
        self.target = 1.0

    def on_bar(self, bar: Bar) -> Signal:
        """The target set."""
        return Signal(self.target, "toggled")


def test_a_fenced_halt_whose_cycle_failed_cancels_at_the_next_cycle(
    store: Path | PgUrl,
) -> None:
    """The desk is long; a hand limit buy of SPY works. The rebalance sells IWM, the fleet
    halts the account then, QQQ's slot finds it halted; the protective step's read of the
    positions gets no answer. Before: the SPY limit kept working through the next cycles.
    Now the next cycle cancels it. On either engine."""
    toggle = Toggle()
    session = make_session(
        store,
        strategies=[toggle],
        allocation_pct=5.0,
        commit_before_send=True,
        stop_loss=StopRule(pct=2.0),
    )
    broker = session.broker
    session.run_iteration()  # long the three symbols
    price = session.last_prices["SPY"]
    session.request_manual_order(
        ManualOrder(  # good till cancelled: a day order would expire at the next daily bar
            "SPY",
            Side.BUY,
            qty=1,
            order_type=OrderType.LIMIT,
            limit_price=round(price * 0.5, 2),
            time_in_force=TimeInForce.GTC,
        )
    )
    [limit] = session.apply_kill_requests().orders
    assert limit.status.is_open
    submit, positions = broker.submit, broker.positions
    halted: list[bool] = []

    def fleet_halt_after_the_first(request: OrderRequest) -> Order:
        order = submit(request)
        if not halted:
            halt_account(session.audit.db, session.account_key, "a test")
            halted.append(True)
        return order

    def unanswered() -> dict[str, Position]:
        if halted:
            raise BrokerError("positions: connection reset")
        return positions()

    broker.submit = fleet_halt_after_the_first  # type: ignore[method-assign]
    broker.positions = unanswered  # type: ignore[method-assign]
    toggle.target = 0.0  # the rebalance sells IWM and QQQ (SPY waits for the hand order)
    with pytest.raises(BrokerError):
        session.run_iteration()
    broker.submit, broker.positions = submit, positions  # type: ignore[method-assign]
    assert halted and session.risk.state.halted
    working = {o.client_order_id for o in broker.open_orders()}
    assert limit.client_order_id in working, "the failed cycle cancelled nothing"
    for _ in range(2):
        session.run_iteration()
    working = {o.client_order_id for o in broker.open_orders()}
    assert limit.client_order_id not in working, "the halt left the limit buy working"
