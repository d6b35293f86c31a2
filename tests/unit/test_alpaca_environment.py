"""What requests reads from the environment (proxies, their exceptions, a CA bundle) is still
honoured by the desk's Alpaca clients, and worked out once per host instead of on every
request (issue 17: ~0.3 ms a request, four requests between a bar and its order's answer)."""

from __future__ import annotations

import pytest
import requests.sessions

from tui_trader.brokers.alpaca_calls import CallPolicy, prepare

API = "https://paper-api.example/v2/orders"
DATA = "https://data.example/v2/stocks/bars"


def _client():
    """An alpaca-py trading client prepared as the broker prepares it (no request is sent)."""
    from alpaca.trading.client import TradingClient

    return prepare(TradingClient("key", "secret", paper=True), CallPolicy())


def _settings(client, url: str) -> dict:
    """What a request to ``url`` is sent with (as ``Session.request`` asks for it)."""
    return client._session.merge_environment_settings(url, {}, None, None, None)


def test_proxy_settings_from_the_environment_still_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS_PROXY is used for Alpaca, NO_PROXY exempts the data host, REQUESTS_CA_BUNDLE is
    the bundle checked against."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "data.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    client = _client()
    api = _settings(client, API)
    assert api["proxies"].get("https") == "http://proxy.example:3128"
    assert api["verify"] == "/etc/ssl/company.pem"
    assert not _settings(client, DATA)["proxies"].get("https")


def test_the_environment_is_read_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three requests to the trading host and one to the data host walk the environment for
    proxies twice, not four times."""
    walks: list[str] = []
    walk = requests.sessions.get_environ_proxies

    def counting(url: str, no_proxy=None):
        walks.append(url)
        return walk(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counting)
    client = _client()
    for _ in range(3):
        _settings(client, API)
    _settings(client, DATA)
    assert walks == [API, DATA]
