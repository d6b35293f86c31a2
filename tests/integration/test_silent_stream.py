"""A trade-updates stream gone silent: connected and listening, sending nothing (the sandbox's
``ws_mute``), while Alpaca ends the desk's orders unfilled.

A fill still shows in the position, and the desk looks the order up when the two disagree
(``engine.outside_changes``); an order that ends unfilled changes no position. Before, the
broker read its own orders over REST only while the stream was down, so such an order stayed
working in the desk's record for the rest of the session: a buy Alpaca rejected after
accepting it held its symbol back ("the strategies wait while a hand order works") with its
row ``pending_new``; a protective stop cancelled by hand in Alpaca's web page was still
counted as protecting the position, and no stop was put back. Now an order of ours the open
listing (read anyway, every half minute at most) leaves out is looked up by its client id
(``brokers.alpaca_unlisted``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.ended_stop import RALLY, RULE
from tests.integration.test_taken_over_stop_cancelled_before import MOMENTUM, _stops
from tui_trader.core.orders import OrderType, Side
from tui_trader.engine.manual_ticket import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder


def _cycle_on_a_fresh_listing(sandbox: SandboxHandle, desk: TradingSession) -> list[str]:
    """One bar and one cycle, half a minute after the last listing of open orders (its
    cached copy dropped, as its 30 s running out does): what the cycle said."""
    sandbox.admin.step()
    desk.broker._open_cache = None  # type: ignore[attr-defined]
    report = desk.run_iteration()
    return [] if report is None else [*report.notes, *(e.action_taken for e in report.risk_events)]


def _row(cid: str) -> str:
    """The audit trail's status of one order."""
    return LiveOrder.get(LiveOrder.client_order_id == cid).status


def test_a_buy_rejected_after_acceptance_on_a_silent_stream_stops_holding_its_symbol(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A limit buy Alpaca accepts and then rejects, the stream silent: within two cycles its
    row says rejected and SPY no longer waits for it."""
    desk = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",), learning=MOMENTUM)
    try:
        for _ in range(2):
            sandbox.admin.step()
            desk.run_iteration()
        price = float(sandbox.admin.state()["prices"]["SPY"])
        sandbox.admin.set_faults(ws_mute=1, reject_rate=1)
        limit = round(price * 0.9, 2)
        desk.request_manual_order(
            ManualOrder("SPY", Side.BUY, qty=10, order_type=OrderType.LIMIT, limit_price=limit)
        )
        desk.apply_kill_requests()
        [row] = LiveOrder.select().where(LiveOrder.client_order_id.endswith("-m1"))
        assert desk.broker.feed is not None
        for _ in range(2):
            _cycle_on_a_fresh_listing(sandbox, desk)
        assert desk.broker.feed.connected, "the stream stayed up (silent, not dropped)"
        assert _row(row.client_order_id) == "rejected"
        assert "SPY" not in desk.broker.working_symbols()
    finally:
        desk.finish("stopped")
        desk.broker.close()


def test_a_stop_cancelled_by_hand_on_a_silent_stream_is_put_back(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The desk's protective stop cancelled in Alpaca's web page while the stream is silent:
    the desk learns of it from the next listing, its row says cancelled, and the position
    gets a stop again."""
    desk = alpaca_session(
        sandbox, tmp_path / "desk.db", symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE
    )
    try:
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            desk.run_iteration()
        settle(sandbox, desk)
        [(old, qty)] = _stops(trading).items()
        sandbox.admin.set_faults(ws_mute=1)
        [broker_id] = [o.id for o in trading.get_orders() if o.client_order_id == old]
        trading.cancel_order_by_id(broker_id)  # by hand; the stream says nothing
        assert _stops(trading) == {}
        for _ in range(3):
            _cycle_on_a_fresh_listing(sandbox, desk)
            if _stops(trading):
                break
        assert desk.broker.feed is not None and desk.broker.feed.connected
        assert _row(old) == "canceled"
        assert list(_stops(trading).values()) == [qty], "the position has a stop again"
    finally:
        desk.finish("stopped")
        desk.broker.close()
