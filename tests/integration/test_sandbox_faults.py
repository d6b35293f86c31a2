"""Each REST fault switch, seen through alpaca-py the way the broker adapter will see it."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from tui_trader.sandbox.faults import FaultSpecError, parse_faults
from tui_trader.sandbox.testing import make_fast, running_sandbox, wait_until


def order(coid: str | None = None, qty: int = 1) -> MarketOrderRequest:
    """A market buy of ``qty`` SPY (one share by default)."""
    return MarketOrderRequest(
        symbol="SPY",
        qty=qty,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        client_order_id=coid,
    )


def test_fault_spec_grammar():
    settings = parse_faults("latency=0.2, error_rate=0.1,error_status=503,lost_ack_mode=drop")
    assert (settings.latency, settings.error_rate, settings.error_status) == (0.2, 0.1, 503)
    assert settings.lost_ack_mode == "drop"
    assert "latency=0.2" in settings.describe()
    assert parse_faults("none").describe() == "none"
    for bad in ("latency", "bogus=1", "error_rate=2", "latency=-1", "error_status=404", "x=,"):
        with pytest.raises(FaultSpecError):
            parse_faults(bad)


def test_a_fault_given_twice_with_two_values_is_refused_not_the_last_taken():
    """``latency=0.1,latency=2`` silently ran with 2 s: which one the user meant is unknown."""
    with pytest.raises(FaultSpecError, match="'latency' given twice"):
        parse_faults("latency=0.1,latency=2")
    assert parse_faults("latency=0.1, latency=0.1").latency == 0.1  # the same twice is one


def test_admin_rejects_bad_fault_switches(sandbox):
    with pytest.raises(RuntimeError, match="unknown fault"):
        sandbox.admin.set_faults(nonsense=1)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        sandbox.admin.set_faults(spec="error_rate=5")


def test_faults_given_at_start_apply_to_the_first_request():
    with running_sandbox(faults="error_rate=1") as sb:
        client = make_fast(TradingClient(sb.key_id, sb.secret, url_override=sb.base_url))
        with pytest.raises(APIError) as err:
            client.get_account()
        assert err.value.status_code == 500
        sb.admin.clear_faults()
        assert float(client.get_account().cash) == 100_000


def test_latency_delays_every_answer(sandbox, trading):
    sandbox.admin.set_faults(latency=0.3)
    started = time.monotonic()
    trading.get_clock()
    assert time.monotonic() - started >= 0.3


def test_error_rate_gives_json_500_or_gateway_pages(sandbox, trading):
    sandbox.admin.set_faults(error_rate=1)
    with pytest.raises(APIError) as err:
        trading.get_account()
    assert err.value.status_code == 500 and err.value.code == 50010000
    sandbox.admin.set_faults(error_status=502)
    with pytest.raises(APIError) as err:
        trading.get_account()
    assert err.value.status_code == 502 and "<html>" in str(err.value)


def test_error_rate_is_a_seeded_share(sandbox):
    sandbox.admin.set_faults(error_rate=0.5)
    headers = {"APCA-API-KEY-ID": sandbox.key_id, "APCA-API-SECRET-KEY": sandbox.secret}

    def run() -> list[int]:
        with requests.Session() as session:
            return [
                session.get(sandbox.base_url + "/v2/clock", headers=headers, timeout=5).status_code
                for _ in range(40)
            ]

    first = run()
    assert 5 < first.count(500) < 35
    with running_sandbox(faults="error_rate=0.5") as again:
        sandbox_headers = headers
        with requests.Session() as session:
            second = [
                session.get(
                    again.base_url + "/v2/clock", headers=sandbox_headers, timeout=5
                ).status_code
                for _ in range(40)
            ]
    assert second == first  # same seed, same requests: same faults


def test_429_burst_is_retried_by_alpaca_py_and_then_served(sandbox, trading):
    sandbox.admin.set_faults(burst_429=2)
    assert trading.submit_order(order("burst-1")).client_order_id == "burst-1"
    sandbox.admin.set_faults(burst_429=1)
    trading._retry = 0
    with pytest.raises(APIError) as err:
        trading.get_account()
    assert err.value.status_code == 429


def test_rate_limit_answers_429_with_headers(sandbox):
    sandbox.admin.set_faults(rate_limit=5)
    headers = {"APCA-API-KEY-ID": sandbox.key_id, "APCA-API-SECRET-KEY": sandbox.secret}
    with requests.Session() as session:
        answers = [
            session.get(sandbox.base_url + "/v2/account", headers=headers, timeout=5)
            for _ in range(6)
        ]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[0].headers["X-RateLimit-Limit"] == "5"
    assert answers[4].headers["X-RateLimit-Remaining"] == "0"
    assert int(answers[5].headers["X-RateLimit-Reset"]) >= int(time.time())
    assert answers[5].json()["code"] == 42910000


def test_default_rate_limit_is_200_a_minute(sandbox):
    headers = {"APCA-API-KEY-ID": sandbox.key_id, "APCA-API-SECRET-KEY": sandbox.secret}
    with requests.Session() as session:
        codes = [
            session.get(sandbox.base_url + "/v2/clock", headers=headers, timeout=5).status_code
            for _ in range(201)
        ]
    assert codes.count(200) == 200 and codes[-1] == 429


def test_hang_holds_the_request_until_the_client_gives_up(sandbox, trading):
    sandbox.admin.set_faults(hang_rate=1)
    hung = make_fast(
        TradingClient(sandbox.key_id, sandbox.secret, url_override=sandbox.base_url), timeout=0.3
    )
    with pytest.raises(requests.exceptions.ReadTimeout):
        hung.get_account()
    sandbox.admin.clear_faults()
    assert trading.get_account().status.value == "ACTIVE"


def test_shutdown_is_prompt_while_a_request_hangs():
    outcome: list[BaseException | None] = []
    with running_sandbox(faults="hang_rate=1") as sb:
        client = TradingClient(sb.key_id, sb.secret, url_override=sb.base_url)  # no timeout

        def call() -> None:
            try:
                client.get_account()
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        wait_until(lambda: sb.admin.state()["hanging_requests"] == 1, what="the hanging request")
        started = time.monotonic()
    worker.join(timeout=5)
    assert time.monotonic() - started < 3
    assert not worker.is_alive()
    assert isinstance(outcome[0], requests.exceptions.ConnectionError)


def test_lost_ack_504_then_retry_meets_the_unique_client_order_id(sandbox, trading):
    sandbox.admin.set_faults(lost_ack_rate=1)
    with pytest.raises(APIError) as err:
        trading.submit_order(order("lost-1"))
    # alpaca-py retried the 504: the retry found the order already there.
    assert err.value.status_code == 422 and err.value.code == 40010001
    sandbox.admin.clear_faults()
    found = trading.get_order_by_client_id("lost-1")
    assert found.status.value == "filled"
    assert (
        len(trading.get_orders(filter=None)) == 0 and sandbox.admin.state()["orders"]["total"] == 1
    )


def test_lost_ack_without_client_order_id_makes_duplicates(sandbox, trading):
    sandbox.admin.set_faults(lost_ack_rate=1)
    trading._retry = 1
    with pytest.raises(APIError) as err:
        trading.submit_order(order())
    assert err.value.status_code == 504
    assert sandbox.admin.state()["orders"]["total"] == 2  # the retry placed a second order


def test_lost_ack_by_dropped_connection(sandbox, trading):
    sandbox.admin.set_faults(lost_ack_rate=1, lost_ack_mode="drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        trading.submit_order(order("drop-1"))
    sandbox.admin.clear_faults()
    assert trading.get_order_by_client_id("drop-1").status.value == "filled"


def test_cancel_refuse_leaves_orders_working_with_a_500_in_the_207(sandbox, trading):
    """Alpaca's "cancel all orders" answers a status per order: 500 for one it could not
    cancel, which stays working (``cancel_refuse_rate``); the next, without it, cancels."""
    from alpaca.trading.requests import LimitOrderRequest

    far_below = LimitOrderRequest(
        symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=1.0
    )
    placed = trading.submit_order(far_below)
    sandbox.admin.set_faults(cancel_refuse_rate=1)
    [answer] = trading.cancel_orders()
    assert (str(answer.id), answer.status) == (str(placed.id), 500)
    assert trading.get_order_by_id(placed.id).status.value == "new"
    sandbox.admin.clear_faults()
    [answer] = trading.cancel_orders()
    assert answer.status == 200
    assert trading.get_order_by_id(placed.id).status.value == "canceled"


def test_slow_cancel_leaves_the_order_pending_cancel_until_the_next_bar(sandbox, trading):
    """Alpaca cancels asynchronously: with ``slow_cancel_rate`` the cancel is answered (204)
    and the order stays ``pending_cancel``, listed open, a second cancel refused (422), until
    the next bar ends it ``canceled``."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest, LimitOrderRequest

    far_below = LimitOrderRequest(
        symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=1.0
    )
    placed = trading.submit_order(far_below)
    sandbox.admin.set_faults(slow_cancel_rate=1)
    trading.cancel_order_by_id(placed.id)
    assert trading.get_order_by_id(placed.id).status.value == "pending_cancel"
    listed = trading.get_orders(filter=GetOrdersRequest(status=QueryOrderStatus.OPEN))
    assert [str(o.id) for o in listed] == [str(placed.id)]
    with pytest.raises(APIError):
        trading.cancel_order_by_id(placed.id)
    sandbox.admin.step(1)
    assert trading.get_order_by_id(placed.id).status.value == "canceled"


def test_slow_cancel_fill_lets_the_pending_cancel_order_fill_first(sandbox, trading):
    """Alpaca's race: with ``slow_cancel_fill_rate`` the order whose cancel is pending wins
    it at the next bar, filled in full for what was left, not ``canceled``; the account holds
    what it bought."""
    from alpaca.trading.requests import LimitOrderRequest

    far_below = LimitOrderRequest(
        symbol="SPY", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=1.0
    )
    placed = trading.submit_order(far_below)
    sandbox.admin.set_faults(slow_cancel_rate=1, slow_cancel_fill_rate=1)
    trading.cancel_order_by_id(placed.id)
    assert trading.get_order_by_id(placed.id).status.value == "pending_cancel"
    sandbox.admin.step(1)
    order = trading.get_order_by_id(placed.id)
    assert (order.status.value, float(order.filled_qty)) == ("filled", 2.0)
    assert float(order.filled_avg_price) == 1.0  # a limit fills at its limit
    assert {p.symbol: float(p.qty) for p in trading.get_all_positions()} == {"SPY": 2.0}


def test_pacer_moves_the_market_at_speed():
    with running_sandbox(speed=6000.0) as sb:  # 1m bars at 6000x: one bar every 10 ms
        wait_until(lambda: sb.admin.state()["bars_emitted"] >= 5, what="paced bars")
        sb.admin.set_speed(0)
        paused = sb.admin.state()["bars_emitted"]
        assert sb.admin.step(2)["bars_emitted"] == paused + 2


def test_stale_rest_answers_the_previous_state_for_one_more_read(sandbox, trading):
    sandbox.admin.set_faults(stale_rest=1, partial_rate=1)
    ack = trading.submit_order(order(qty=10))  # answered pending_new; half fills at once
    assert ack.status.value == "pending_new"
    reads = [trading.get_order_by_id(ack.id) for _ in range(2)]
    assert [r.status.value for r in reads] == ["pending_new", "partially_filled"]
    sandbox.admin.step(1)  # the rest fills
    by_client = [trading.get_order_by_client_id(ack.client_order_id) for _ in range(2)]
    assert [r.status.value for r in by_client] == ["partially_filled", "filled"]
    assert float(by_client[1].filled_qty) == 10
    sandbox.admin.set_faults(stale_rest=0)
    assert trading.get_order_by_id(ack.id).status.value == "filled"


def test_replace_fill_leaves_the_old_order_to_fill_and_rejects_the_new_one(sandbox, trading):
    """Alpaca: a 200 to a replace does not mean the old order was replaced; if it fills before
    the new one reaches the exchange, the new one is rejected (``replace_fill_rate``)."""
    from alpaca.trading.requests import ReplaceOrderRequest, StopOrderRequest

    trading.submit_order(order("rf-buy", qty=10))
    price = float(sandbox.admin.state()["prices"]["SPY"])
    stop = trading.submit_order(
        StopOrderRequest(
            symbol="SPY",
            qty=10,
            side=OrderSide.SELL,
            time_in_force=TimeInForce.GTC,
            stop_price=round(price * 0.9, 2),
            client_order_id="rf-stop-1",
        )
    )
    sandbox.admin.set_faults(replace_fill_rate=1)
    change = ReplaceOrderRequest(qty=6, stop_price=round(price * 0.8, 2), client_order_id="rf-2")
    new = trading.replace_order_by_id(stop.id, change)
    assert (new.status.value, float(new.qty)) == ("pending_new", 6)
    assert trading.get_order_by_id(stop.id).status.value == "pending_replace"
    assert sandbox.admin.state()["positions"]["SPY"] == 10  # nothing happened yet
    sandbox.admin.step()  # the old order reaches the exchange first
    old = trading.get_order_by_id(stop.id)
    assert (old.status.value, float(old.filled_qty)) == ("filled", 10)
    assert trading.get_order_by_client_id("rf-2").status.value == "rejected"
    assert sandbox.admin.state()["positions"].get("SPY", 0) == 0
    sandbox.admin.clear_faults()


def test_partial_bars_and_position_lag(sandbox, trading):
    """``partial_bars``: the rest of a split order waits that many bars, partly filled;
    ``position_lag``: a positions read leaves out the fills of orders still working, and
    catches up once the order ends."""
    sandbox.admin.set_faults(partial_rate=1, partial_bars=3, position_lag=1)
    buy = trading.submit_order(order("pl-buy", qty=10))
    assert float(trading.get_order_by_id(buy.id).filled_qty) == 5  # half at once
    assert sandbox.admin.state()["positions"]["SPY"] == 5  # the books
    assert trading.get_all_positions() == []  # a lagging read: none of a working order's
    for _ in range(2):
        sandbox.admin.step()
        listed = trading.get_order_by_id(buy.id)
        assert (listed.status.value, float(listed.filled_qty)) == ("partially_filled", 5)
        assert trading.get_all_positions() == []
    sandbox.admin.step()  # the third bar: the rest fills, the read catches up
    assert trading.get_order_by_id(buy.id).status.value == "filled"
    [held] = trading.get_all_positions()
    assert float(held.qty) == 10 and float(trading.get_open_position("SPY").qty) == 10
    sandbox.admin.clear_faults()


def test_race_bars_keeps_a_replace_pending_and_listed_open(sandbox, trading):
    """``race_bars``: a replace that loses the race stays ``pending_replace`` that many bars,
    listed among the open orders (as Alpaca lists it); a "cancel all" cannot cancel it (a
    500 in its 207), and it fills when the race ends."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest, ReplaceOrderRequest, StopOrderRequest

    trading.submit_order(order("rb-buy", qty=10))
    price = float(sandbox.admin.state()["prices"]["SPY"])
    stop = trading.submit_order(
        StopOrderRequest(
            symbol="SPY",
            qty=10,
            side=OrderSide.SELL,
            time_in_force=TimeInForce.GTC,
            stop_price=round(price * 0.9, 2),
            client_order_id="rb-stop-1",
        )
    )
    sandbox.admin.set_faults(replace_fill_rate=1, race_bars=2)
    change = ReplaceOrderRequest(qty=6, stop_price=round(price * 0.8, 2), client_order_id="rb-2")
    trading.replace_order_by_id(stop.id, change)
    opened = GetOrdersRequest(status=QueryOrderStatus.OPEN)
    sandbox.admin.step()  # one bar: the exchange has not answered yet
    listed = {o.client_order_id: o.status.value for o in trading.get_orders(filter=opened)}
    assert listed == {"rb-stop-1": "pending_replace", "rb-2": "pending_new"}
    answers = {str(r.id): r.status for r in trading.cancel_orders()}
    assert answers[str(stop.id)] == 500  # not cancelable while being replaced
    assert trading.get_order_by_id(stop.id).status.value == "pending_replace"
    sandbox.admin.step()  # the second bar: the old stop fills first
    assert trading.get_order_by_id(stop.id).status.value == "filled"
    assert trading.get_orders(filter=opened) == []
    sandbox.admin.clear_faults()
