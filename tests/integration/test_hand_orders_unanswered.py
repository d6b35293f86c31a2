"""Orders queued by hand whose reads the broker stops answering part way: each one not sent is
said and recorded, never dropped without a word.

The desk acts on the orders you queued by hand one after another, each after reading the
working orders, the positions and the account. A read the broker did not answer (a 503, a
spent request budget, an outage starting) ended the whole pass: the request being handled and
every one after it vanished, no risk event, no note, and the pass reported nothing, not even
the order by hand it had just sent. Since a kill press no longer refuses a close before those
reads (c3dbf48), a ctrl+k during an outage lost the orders queued the same way.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import file_rows, make_session
from tests.integration.test_kill_stops_hand_orders import Flat
from tui_trader.brokers import BrokerError
from tui_trader.core.domain import Account
from tui_trader.core.orders import OrderType, Side
from tui_trader.engine.manual_orders import MANUAL_REFUSED, ManualOrder


def test_hand_orders_the_broker_stops_answering_for_are_said_not_dropped(tmp_path: Path) -> None:
    """Three buys by hand queued; the broker answers the first one's reads, then not the
    account read of the second. The first goes out and the wake reports it; the second is
    refused as not sent because the broker did not answer, the third as dropped, both in
    the audit trail. Before: no report at all, no event, the two requests gone."""
    db = tmp_path / "desk.db"
    session = make_session(db, strategies=[Flat()])
    session.run_iteration()  # a bar: the tickets have prices
    broker = session.broker
    account = broker.account
    reads: list[str] = []

    def unanswered_after_the_first() -> Account:
        reads.append("account")
        if len(reads) > 1:
            raise BrokerError("reading the account: 503 Service Unavailable")
        return account()

    broker.account = unanswered_after_the_first  # type: ignore[method-assign]
    for symbol in ("SPY", "QQQ", "IWM"):
        session.request_manual_order(ManualOrder(symbol, Side.BUY, qty=1))
    report = session.apply_kill_requests()
    assert report is not None, "the wake reported nothing: the orders by hand went unsaid"
    assert [o.symbol for o in report.orders] == ["SPY"]
    refused = [e.action_taken for e in report.risk_events if e.event_type == MANUAL_REFUSED]
    assert refused == [
        "manual buy QQQ not sent: the broker did not answer (reading the account: 503 Service "
        "Unavailable)",
        "1 later manual request(s) dropped",
    ], report.risk_events
    rows = file_rows(
        db, "SELECT action_taken FROM live_risk_events WHERE event_type = ?", MANUAL_REFUSED
    )
    assert [a for (a,) in rows] == refused
    assert [s for (s,) in file_rows(db, "SELECT symbol FROM live_orders")] == ["SPY"]
    assert not session.manual_pending()
    session.finish("stopped")


def test_a_hand_order_sent_before_the_broker_stops_answering_its_state_is_said(
    tmp_path: Path,
) -> None:
    """Two buys by hand queued; before each the desk asks the broker whether orders may go out
    now (on Alpaca, the market's clock). It answers for the first, which goes out, and not for
    the second: the first is reported, the second refused as not sent, in the audit trail.
    Before, that question was asked outside the step that turns a silence into a refusal: the
    whole pass failed, the order just sent unreported and the second request gone unsaid."""
    db = tmp_path / "desk.db"
    session = make_session(db, strategies=[Flat()])
    session.run_iteration()  # a bar: the tickets have prices
    broker = session.broker
    asked: list[str] = []

    def ready_then_silent() -> str | None:
        asked.append("ready")
        if len(asked) > 1:
            raise BrokerError("reading the market clock: 503 Service Unavailable")
        return None

    broker.trading_ready = ready_then_silent  # type: ignore[method-assign]
    for symbol in ("SPY", "QQQ"):
        session.request_manual_order(ManualOrder(symbol, Side.BUY, qty=1))
    report = session.apply_kill_requests()
    assert report is not None, "the wake reported nothing: the order by hand went unsaid"
    assert [o.symbol for o in report.orders] == ["SPY"]
    refused = [e.action_taken for e in report.risk_events if e.event_type == MANUAL_REFUSED]
    assert refused == [
        "manual buy QQQ not sent: the broker did not answer (reading the market clock: 503 "
        "Service Unavailable)"
    ], report.risk_events
    rows = file_rows(
        db, "SELECT action_taken FROM live_risk_events WHERE event_type = ?", MANUAL_REFUSED
    )
    assert [a for (a,) in rows] == refused
    assert [s for (s,) in file_rows(db, "SELECT symbol FROM live_orders")] == ["SPY"]
    session.finish("stopped")


def test_a_cancel_by_hand_goes_out_when_the_question_of_new_orders_is_unanswered(
    tmp_path: Path,
) -> None:
    """A limit buy by hand rests; the broker then stops answering whether new orders may go
    out now (on Alpaca, the market's clock), and the trader cancels the buy. A cancel needs no
    answer to that question (it only takes an order away): it goes out and the buy ends.
    Before, the question was asked for the cancel too and its silence refused the cancel
    (`cancel ... stopped`): the buy kept working at the broker, able to fill."""
    db = tmp_path / "desk.db"
    session = make_session(db, strategies=[Flat()])
    session.run_iteration()  # a bar: the ticket has a price
    broker = session.broker
    price = session.last_prices["SPY"]
    session.request_manual_order(
        ManualOrder("SPY", Side.BUY, qty=1, order_type=OrderType.LIMIT, limit_price=price / 2)
    )
    placed = session.apply_kill_requests()
    assert placed is not None and [o.symbol for o in placed.orders] == ["SPY"]
    cid = placed.orders[0].client_order_id
    assert [o.client_order_id for o in broker.open_orders()] == [cid], "the buy does not rest"

    def silent() -> str | None:
        raise BrokerError("reading the market clock: 503 Service Unavailable")

    broker.trading_ready = silent  # type: ignore[method-assign]
    session.request_cancel(cid)
    report = session.apply_kill_requests()
    assert report is not None
    refused = [e.action_taken for e in report.risk_events if e.event_type == MANUAL_REFUSED]
    assert not refused, f"the cancel was refused: {refused}"
    assert not broker.open_orders(), "the buy the trader cancelled still works at the broker"
    statuses = file_rows(db, "SELECT status FROM live_orders WHERE client_order_id = ?", cid)
    assert statuses == [("canceled",)], statuses
    session.finish("stopped")
