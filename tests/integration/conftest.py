"""Fixtures for tests that drive the real alpaca-py clients against the local sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tui_trader.sandbox.testing import SandboxHandle, make_fast, running_sandbox


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    """A fresh sandbox on free loopback ports, market paused, torn down after the test."""
    with running_sandbox() as handle:
        yield handle


@pytest.fixture
def trading(sandbox: SandboxHandle) -> Any:
    """alpaca-py's TradingClient pointed at the sandbox (5 s timeout, instant retries)."""
    from alpaca.trading.client import TradingClient

    client = TradingClient(
        sandbox.key_id, sandbox.secret, paper=True, url_override=sandbox.base_url
    )
    return make_fast(client)


@pytest.fixture
def market_data(sandbox: SandboxHandle) -> Any:
    """alpaca-py's StockHistoricalDataClient pointed at the sandbox."""
    from alpaca.data.historical.stock import StockHistoricalDataClient

    client = StockHistoricalDataClient(
        sandbox.key_id, sandbox.secret, url_override=sandbox.base_url
    )
    return make_fast(client)
