"""Fixtures for tests that drive the real alpaca-py clients against the local sandbox."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.account_processes import Db
from tests.integration.alpaca_helpers import pumping
from tui_trader.sandbox.testing import SandboxHandle, make_fast, running_sandbox


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private working folder (data and log folders inside it)."""
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


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


@contextlib.contextmanager
def _pumped_sandbox() -> Iterator[SandboxHandle]:
    """A sandbox whose market a thread moves one bar every 30 ms, with no request-rate limit."""
    with running_sandbox(faults="rate_limit=0") as sb, pumping(sb):
        yield sb


@pytest.fixture
def pumped() -> Iterator[SandboxHandle]:
    """A sandbox whose market a thread moves one bar every 30 ms, with no request-rate limit:
    several sessions cycling every 0.1 s ask more than Alpaca's 200 a minute."""
    with _pumped_sandbox() as sb:
        yield sb


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> Db:
    """The store several processes share, on each engine."""
    if request.param == "sqlite":
        return tmp_path / "shared.db"
    return str(request.getfixturevalue("pg_url"))
