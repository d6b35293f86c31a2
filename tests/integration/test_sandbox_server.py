"""The sandbox's one origin: REST and both streams on one port, JSON errors for every path and
method, keep-alive (issue 15)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
from alpaca.data.live import StockDataStream
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest
from alpaca.trading.stream import TradingStream

from tui_trader.sandbox.testing import StreamRunner, make_fast, running_sandbox, wait_until


def _request(base: str, method: str, path: str, keys: dict[str, str]) -> tuple[int, str, bytes]:
    """One raw request: status, content type and body."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, headers=keys)
        answer = conn.getresponse()
        return answer.status, answer.getheader("Content-Type") or "", answer.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("OPTIONS", "/v2/account", 405),
        ("PUT", "/v2/orders", 405),
        ("TRACE", "/v2/clock", 405),
        ("GET", "/index.html", 404),
        ("POST", "/v2/nothing/here", 404),
    ],
)
def test_unknown_paths_and_methods_answer_alpaca_json_errors(
    method: str, path: str, status: int
) -> None:
    """A method or path the API does not have answers Alpaca's ``{"code", "message"}`` JSON, never
    an HTML page (the old stdlib server sent Python's HTML 501 page for OPTIONS and TRACE)."""
    with running_sandbox() as sb:
        keys = {"APCA-API-KEY-ID": sb.key_id, "APCA-API-SECRET-KEY": sb.secret}
        got, content_type, body = _request(sb.base_url, method, path, keys)
        assert got == status
        assert content_type.startswith("application/json")
        answer = json.loads(body)
        assert set(answer) == {"code", "message"} and isinstance(answer["code"], int)


def test_rest_and_both_streams_share_one_port_and_keep_alive() -> None:
    """The trading stream (/stream) and the data stream (/v2/iex) are on the REST port, as on
    Alpaca's hosts; an order placed over REST arrives on the trading stream; the REST client's
    connection is reused across requests (keep-alive)."""
    with running_sandbox() as sb:
        port = urlsplit(sb.base_url).port
        assert urlsplit(sb.trading_stream_url).port == port
        assert urlsplit(sb.data_stream_url).port == port
        trading = TradingStream(sb.key_id, sb.secret, url_override=sb.trading_stream_url)
        updates = StreamRunner(trading)
        trading.subscribe_trade_updates(updates.handler)
        data = StockDataStream(sb.key_id, sb.secret, url_override=sb.data_stream_url)
        bars = StreamRunner(data)
        data.subscribe_bars(bars.handler, "SPY")
        updates.start()
        bars.start()
        try:
            client = make_fast(TradingClient(sb.key_id, sb.secret, url_override=sb.base_url))
            wait_until(lambda: sb.admin.state()["stream_clients"] == 2, what="both streams")
            order = client.submit_order(
                MarketOrderRequest(
                    symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
                )
            )
            update = updates.next(lambda u: str(u.order.id) == str(order.id))
            assert update.order.symbol == "SPY"
            sb.admin.step(1)
            bar = bars.next()
            assert bar.symbol == "SPY"
            for _ in range(5):
                client.get_clock()
            pool = client._session.get_adapter(sb.base_url).poolmanager
            connections = sum(p.num_connections for p in pool.pools._container.values())
            assert connections == 1  # six requests, one TCP connection
        finally:
            updates.stop()
            bars.stop()
