"""The sandbox's own door: /admin needs its keys, and its listen queue takes a burst."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tui_trader.sandbox.testing import running_sandbox

SECRET = "admin-test-secret-0b7e"


def raw(url: str, method: str, headers: dict[str, str], body: dict | None = None) -> int:
    """One request without the admin client's keys; the status code."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "text/plain", "Origin": "https://evil.example"},
        {"APCA-API-KEY-ID": "PKSANDBOX0000000000000", "APCA-API-SECRET-KEY": "wrong"},
    ],
)
def test_admin_refuses_requests_without_the_sandbox_keys(headers: dict[str, str]) -> None:
    """No keys (a web page's form post), or a wrong secret: 401 on every admin endpoint, and
    neither the faults nor the market nor the speed change."""
    with running_sandbox(secret=SECRET) as sb:
        before = sb.admin.state()
        for method, path, body in [
            ("GET", "/admin/state", None),
            ("POST", "/admin/faults", {"error_rate": 1}),
            ("POST", "/admin/step", {"bars": 5, "shock": {"SPY": -50}}),
            ("POST", "/admin/speed", {"speed": 1000}),
            ("POST", "/admin/drop_streams", {}),
        ]:
            assert raw(sb.base_url + path, method, headers, body) == 401, path
        after = sb.admin.state()
        assert after["faults"] == before["faults"]
        assert after["bars_emitted"] == before["bars_emitted"] == 0
        assert after["prices"] == before["prices"] and after["speed"] == before["speed"]


def test_admin_answers_with_the_sandbox_keys() -> None:
    """The same requests with the keys work (what the admin client and the docs' curl send)."""
    with running_sandbox(secret=SECRET) as sb:
        keys = {"APCA-API-KEY-ID": sb.key_id, "APCA-API-SECRET-KEY": SECRET}
        assert raw(sb.base_url + "/admin/step", "POST", keys, {"bars": 2}) == 200
        assert sb.admin.state()["bars_emitted"] == 2


def test_a_hundred_simultaneous_order_posts_are_all_answered() -> None:
    """100 clients connect at once and post an order each: no connection is reset or refused,
    every one gets its answer, and the sandbox holds 100 orders."""
    with running_sandbox(secret=SECRET, cash=10_000_000.0) as sb:
        host = urlsplit(sb.base_url)
        n = 100
        gate = threading.Barrier(n)
        errors: list[BaseException] = []
        statuses: list[int] = []
        lock = threading.Lock()

        def post(i: int) -> None:
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
            body = json.dumps(
                {
                    "symbol": "SPY",
                    "qty": "1",
                    "side": "buy",
                    "type": "market",
                    "time_in_force": "day",
                    "client_order_id": f"burst-{i}",
                }
            )
            headers = {
                "APCA-API-KEY-ID": sb.key_id,
                "APCA-API-SECRET-KEY": SECRET,
                "Content-Type": "application/json",
            }
            try:
                gate.wait(timeout=30)
                conn.request("POST", "/v2/orders", body, headers)
                status = conn.getresponse().status
                with lock:
                    statuses.append(status)
            except Exception as exc:
                with lock:
                    errors.append(exc)
            finally:
                conn.close()

        threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == [], f"{len(errors)} failed, e.g. {errors[0]!r}"
        assert statuses == [200] * n
        assert sb.admin.state()["orders"]["total"] == n


@pytest.mark.parametrize("speed", [1e12, float("inf"), -1])
def test_a_speed_the_clock_cannot_keep_is_refused(speed: float) -> None:
    """``POST /admin/speed`` with 1e12 (or Infinity) was taken: within a second the simulated
    clock passed Python's last date, the pacer thread died with a traceback and the market no
    longer moved. It is now a 400 that names the range, and the pace is unchanged."""
    with running_sandbox(secret=SECRET) as sb:
        keys = {"APCA-API-KEY-ID": sb.key_id, "APCA-API-SECRET-KEY": SECRET}
        before = sb.admin.state()["speed"]
        assert raw(sb.base_url + "/admin/speed", "POST", keys, {"speed": speed}) == 400
        assert sb.admin.state()["speed"] == before
        assert raw(sb.base_url + "/admin/speed", "POST", keys, {"speed": 100_000}) == 200
        assert sb.admin.state()["speed"] == 100_000


@pytest.mark.parametrize(
    "body",
    [
        {"bars": float("inf")},
        {"shock": {"SPY": float("nan")}},
        {"shock": {"SPY": -100}},
        {"shock": {"SPY": -250}},
        {"shock": {"SPY": 1e308}},
    ],
    ids=["bars-infinite", "shock-nan", "shock-minus-100", "shock-below-minus-100", "shock-huge"],
)
def test_a_step_the_market_cannot_take_is_refused(body: dict) -> None:
    """A step of infinitely many bars was a 500 with a traceback on the sandbox's terminal; a
    shock of NaN, -100% or less, or 1e308% was taken and left SPY's price NaN, zero, negative
    or infinite in every later bar. Now 400, and the market is as it was."""
    with running_sandbox(secret=SECRET) as sb:
        keys = {"APCA-API-KEY-ID": sb.key_id, "APCA-API-SECRET-KEY": SECRET}
        before = sb.admin.state()
        assert raw(sb.base_url + "/admin/step", "POST", keys, body) == 400
        assert raw(sb.base_url + "/admin/step", "POST", keys, {"bars": 1}) == 200
        after = sb.admin.state()
        assert after["bars_emitted"] == before["bars_emitted"] + 1
        price = after["prices"]["SPY"]
        assert 0.5 < price / before["prices"]["SPY"] < 2, price


def test_an_order_body_nested_too_deeply_is_a_bad_request() -> None:
    """A JSON body of 100,000 nested lists (half a megabyte) raised RecursionError in the
    handler: a 500 and a traceback on the sandbox's terminal. Now 400, as for any body that is
    not JSON, and the sandbox answers the next order."""
    with running_sandbox(secret=SECRET) as sb:
        keys = {"APCA-API-KEY-ID": sb.key_id, "APCA-API-SECRET-KEY": SECRET}
        deep = b"[" * 100_000 + b"]" * 100_000
        request = urllib.request.Request(
            sb.base_url + "/v2/orders", data=deep, method="POST", headers=keys
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 400
        assert json.loads(refused.value.read())["message"] == "request body format is invalid"
        order = {"symbol": "SPY", "qty": "1", "side": "buy", "type": "market"}
        assert (
            raw(sb.base_url + "/v2/orders", "POST", keys, order | {"time_in_force": "day"}) == 200
        )


@pytest.mark.parametrize(
    "body",
    [
        {"legs": "SPY261218C00500000"},
        {"legs": []},
        {"legs": [["SPY261218C00500000", "short"]]},
        {"legs": [["SPY261218C00500000", "buy"]], "qty": float("nan")},
        {"legs": [["SPY261218C00500000", "buy"]], "limit_price": float("inf")},
    ],
    ids=["legs-text", "no-legs", "bad-side", "qty-nan", "price-infinite"],
)
def test_an_options_order_no_one_could_place_is_refused(body: dict) -> None:
    """``/admin/options_order`` answers 400 to a body Alpaca's web page could not send, and
    lists nothing; a good one is listed."""
    with running_sandbox(secret=SECRET) as sb:
        keys = {"APCA-API-KEY-ID": sb.key_id, "APCA-API-SECRET-KEY": SECRET}
        assert raw(sb.base_url + "/admin/options_order", "POST", keys, body) == 400
        assert sb.sandbox.options.listed("all", None, None) == []
        good = {"legs": [["SPY261218C00500000", "buy"]], "qty": 1, "limit_price": 2}
        assert raw(sb.base_url + "/admin/options_order", "POST", keys, good) == 200
        assert len(sb.sandbox.options.listed("open", None, None)) == 1
