"""The look-ups of orders a fresh listing leaves out, on a trade stream gone silent (the
sandbox's ``ws_mute``), when one of them keeps failing.

An order of the desk that the listing of open orders leaves out has ended unheard and is
looked up by its client id (``brokers.alpaca_unlisted``). The look-ups were asked in turn and
the first that failed stopped the rest until the next cycle, where the same one came first
again: one order whose look-up keeps failing (Alpaca answering it with an error, or with a
number no order has) held every order queued behind it, so a second order cancelled by hand
in Alpaca's web page stayed ``new`` in the desk for good, its symbol counted as working. Now a
failed look-up goes to the back of the queue: the others are asked, it is asked again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.test_flatten_refused import _hold_spy
from tui_trader.core.orders import OrderType, Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder


def _offer(sandbox: SandboxHandle, desk: TradingSession, qty: float, above: float) -> str:
    """``qty`` SPY offered by hand ``above`` (a share: 0.1 is 10%) over the market; its id."""
    price = float(sandbox.admin.state()["prices"]["SPY"])
    desk.request_manual_order(
        ManualOrder(
            "SPY",
            Side.SELL,
            qty=qty,
            order_type=OrderType.LIMIT,
            limit_price=round(price * (1 + above), 2),
        )
    )
    [order] = desk.apply_kill_requests().orders
    assert order.status.is_open
    return order.client_order_id


def fail_look_ups(desk: TradingSession, client_order_id: str) -> list[str]:
    """Every look-up of ``client_order_id`` by the desk's alpaca-py session answered 500 (the
    bytes over HTTP replaced); the look-ups asked, by client id, from now on."""
    http = desk.broker.client._session  # type: ignore[attr-defined]
    send = http.request
    asked: list[str] = []

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = send(method, url, *args, **kwargs)
        if url.split("?")[0].endswith(":by_client_order_id"):
            cid = (kwargs.get("params") or {}).get("client_order_id", "")
            asked.append(cid)
            if cid == client_order_id:
                response.status_code = 500
                response._content = b'{"code": 50010000, "message": "internal server error"}'
        return response

    http.request = request
    return asked


def _row(cid: str) -> str:
    """The audit trail's status of one order."""
    return LiveOrder.get(LiveOrder.client_order_id == cid).status


def test_a_look_up_that_keeps_failing_does_not_hold_the_others_back(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Two sells by hand cancelled in Alpaca's web page while the stream is silent; the first's
    look-up answered 500 every time: the second's row says cancelled within three cycles, the
    first's stays working (nothing says it ended) and is asked again."""
    desk = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",))
    try:
        held = _hold_spy(sandbox, desk)
        first = _offer(sandbox, desk, held / 4, 0.1)
        second = _offer(sandbox, desk, held / 4, 0.2)
        sandbox.admin.set_faults(ws_mute=1)
        asked = fail_look_ups(desk, first)
        for cid in (first, second):  # by hand; the stream says nothing
            trading.cancel_order_by_id(trading.get_order_by_client_id(cid).id)
        for _ in range(3):
            sandbox.admin.step()
            desk.broker._open_cache = None  # type: ignore[attr-defined]  # 30 s later
            desk.run_iteration()
        assert desk.broker.feed is not None and desk.broker.feed.connected
        assert _row(second) == "canceled"
        assert _row(first) == "new", "no word of its end: still counted as working"
        assert asked.count(first) >= 2, "the failed look-up is asked again"
    finally:
        desk.finish("stopped")
        desk.broker.close()
