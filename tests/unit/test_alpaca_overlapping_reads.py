"""A decision cycle on Alpaca reads the account and the positions with both requests in flight
at once (issue 17: one round trip less between a bar and its orders); a failed read still
stops the cycle with a ``BrokerError`` naming it."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import requests

from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_calls import CallPolicy
from tui_trader.brokers.alpaca_reads import AlpacaReads

DEADLINE_S = 10.0


class _Alpaca:
    """alpaca-py's two reads: the account answers only once the positions were asked for."""

    def __init__(self, positions_fail: bool = False) -> None:
        self.positions_asked = threading.Event()
        self.overlapped: bool | None = None
        self.positions_fail = positions_fail

    def get_account(self) -> SimpleNamespace:
        self.overlapped = self.positions_asked.wait(DEADLINE_S)
        return SimpleNamespace(
            cash="1000",
            equity="1500",
            buying_power="1000",
            last_equity="1400",
            account_number="PA1",
            trading_blocked=False,
            account_blocked=False,
        )

    def get_all_positions(self) -> list[SimpleNamespace]:
        self.positions_asked.set()
        if self.positions_fail:
            raise requests.ConnectionError("connection reset")
        return [
            SimpleNamespace(
                symbol="SPY", qty="5", side="long", current_price="100", avg_entry_price="90"
            )
        ]


def _reads(client: _Alpaca) -> AlpacaReads:
    """The broker's reading half on a fake alpaca-py client (no retries)."""
    reads = AlpacaReads()
    reads.client = client
    reads.policy = CallPolicy(retries=0)
    reads._stop = threading.Event()
    reads._last = {}
    return reads


def test_the_account_and_the_positions_are_asked_for_at_the_same_time() -> None:
    """The account's request is still waiting when the positions' request goes out."""
    client = _Alpaca()
    account, positions = _reads(client).account_and_positions()
    assert client.overlapped is True
    assert (account.equity, account.last_equity) == (1500.0, 1400.0)
    assert positions["SPY"].qty == 5.0


def test_a_failed_positions_read_stops_the_cycle_with_its_reason() -> None:
    """The positions cannot be read: the cycle gets a ``BrokerError`` saying so."""
    client = _Alpaca(positions_fail=True)
    with pytest.raises(BrokerError, match="reading positions"):
        _reads(client).account_and_positions()
