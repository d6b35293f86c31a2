"""A rebalance that fails part way still writes the refusals it decided before the failure.

A bar's rebalance goes symbol by symbol: QQQ's sell is refused by the risk gate (short selling
is off), then SPY's buy is written and sent, and the broker's answer to it cannot be read (an
error that is not the broker's silence: the session ends failed on it, the order's row pending
as today). The refusal was gathered in the rebalance's own list and lost with it: the audit
trail had SPY's order but no word of why QQQ got none. Now the rebalance gathers into the
cycle's list, and the cycle writes it as it fails. What the rebalance noted (an order the broker
rejected) before the broker fell silent is on the desk's line for the failed cycle too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.test_exit_events_kept_on_failure import Targets, TwoScript
from tests.integration.test_protective_stops import FIVE_PCT
from tui_trader.brokers import BrokerError
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.orders import Order, OrderRequest, OrderStatus
from tui_trader.risk.order_checks import NO_SHORT
from tui_trader.session.runner import SessionRunner
from tui_trader.session.store_endings import SESSION_ERROR
from tui_trader.store.models import LiveOrder, RiskEventRow


class UnreadableAnswer(Exception):
    """The broker answered an order with something the desk cannot read."""


def test_a_refusal_decided_before_the_next_order_fails_is_in_the_audit_trail(
    tmp_path: Path,
) -> None:
    """QQQ: a sell with nothing held, refused; SPY: a buy whose send fails with an error that is
    not the broker's silence, so the cycle fails and the desk ends failed. The refusal is a
    risk event in the store beside the desk's halt, and SPY's order row is there as before
    (pending: its answer was never read)."""
    market, strategy = TwoScript(), Targets()
    strategy.target = {"QQQ": -1.0, "SPY": 1.0}
    session = make_session(
        tmp_path / "desk.db",
        market=market,
        strategies=[strategy],
        costs=PaperCosts(0.0, 0.0, 0.0),
        allocation_pct=10.0,
        commit_before_send=True,  # rows commit one by one, as on a broker that outlives us
    )
    broker = session.broker

    def unreadable(request: OrderRequest) -> Order:
        """The send's answer cannot be read (no ``BrokerError``: not the broker's silence)."""
        raise UnreadableAnswer(f"order {request.client_order_id}: answer cannot be read")

    broker.submit = unreadable  # type: ignore[method-assign]
    market.push()
    with pytest.raises(UnreadableAnswer):  # the runner ends the desk failed, then re-raises
        SessionRunner(session, iterations=1).run()
    sent = [(o.symbol, o.side) for o in LiveOrder.select()]
    assert sent == [("SPY", "buy")], f"the scene is not set: orders {sent}"
    said = [
        (r.symbol, r.action_taken)
        for r in RiskEventRow.select().where(RiskEventRow.event_type == NO_SHORT)
    ]
    assert said == [("QQQ", "refused sell 100 QQQ: none held and short selling is off")], (
        f"the rebalance's refusal is missing from the audit trail: {said}"
    )
    failed = RiskEventRow.select().where(RiskEventRow.event_type == SESSION_ERROR)
    assert [r.action_taken.startswith("halted trading") for r in failed] == [True], (
        "the desk's failure is not in the audit trail beside the refusal"
    )


def test_a_rebalance_note_before_the_broker_falls_silent_is_on_the_outage_line(
    tmp_path: Path,
) -> None:
    """The broker rejects SPY's buy (the rebalance notes it), then stops answering the exits'
    step's read of the positions, so the cycle fails. The desk's line for the failed cycle
    (the runner's outage line) says what the rebalance noted, once."""
    market, strategy = TwoScript(), Targets()
    session = make_session(
        tmp_path / "desk.db",
        market=market,
        strategies=[strategy],
        costs=PaperCosts(0.0, 0.0, 0.0),
        allocation_pct=10.0,
        stop_loss=FIVE_PCT,
        commit_before_send=True,
    )
    broker = session.broker
    positions = broker.positions
    reads: list[bool] = []

    def rejected(request: OrderRequest) -> Order:
        """The broker refuses the order outright."""
        return Order.from_request(request, OrderStatus.REJECTED, "insufficient buying power")

    def silent_after_one(*args: object, **kwargs: object) -> object:
        """The cycle's own read answers; the next (the exits' step's) does not."""
        if reads:
            raise BrokerError("reading positions: 503 Service Unavailable")
        reads.append(True)
        return positions(*args, **kwargs)

    broker.submit = rejected  # type: ignore[method-assign]
    broker.positions = silent_after_one  # type: ignore[method-assign]
    market.push()
    with pytest.raises(BrokerError):
        session.run_iteration()
    line = session.outage_report([], ["no answer"])  # the runner's line for the cycle
    noted = [n for n in line.notes if n.startswith("broker rejected buy")]
    assert noted == ["broker rejected buy 100 SPY: insufficient buying power"], line.notes
    assert not session.outage_report([], ["no answer"]).notes[:-1], "said more than once"
