"""A request whose deadline passes while its connection is still being opened is cut too.

The watchdog cuts a request by shutting its socket down (``brokers.request_deadline``); a
connection still being opened has none yet. Before, a deadline that passed then cut nothing
and forgot the request: once the connection was open, the request went out unwatched, and an
answer trickled a byte at a time (each byte within the socket timeout) blocked the desk for
as long as it lasted (about 100 s here), the very hang the deadline is there to end; an order
went out after its deadline, which the desk had already given up on. Now the connection,
once open, finds its request cut and goes no further: nothing is sent, the read fails as a
transient failure at its deadline and is retried within the policy.

The slow opening is a real one, held in the socket's connect (as a slow network or a SYN
lost and sent again holds it) until the watchdog has given the request up; the answer is the
sandbox's trickled one over real HTTP on loopback.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from urllib3.util import connection

from tests.integration.test_request_deadline import DEADLINE, TRICKLE, _broker, _within
from tui_trader.brokers import BrokerError
from tui_trader.brokers.request_deadline import watchdog
from tui_trader.sandbox.testing import SandboxHandle, wait_until


def _connects_after_the_deadline(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every connection the desk's thread opens from now on is held until the watchdog has
    given its request up (no request of this process in flight any more); returns the list
    of ports so opened."""
    opened: list[int] = []
    original = connection.create_connection
    here = threading.current_thread()

    def slow(address: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not here:  # the desk's thread (``_within``)
            wait_until(lambda: watchdog().in_flight() == 0, what="the request's deadline")
            opened.append(address[1])
        return original(address, *args, **kwargs)

    monkeypatch.setattr(connection, "create_connection", slow)
    return opened


def test_a_request_whose_deadline_passed_while_connecting_ends_there_and_sends_nothing(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = _broker(sandbox, retries=1)
    sandbox.admin.set_faults(trickle=TRICKLE)
    opened = _connects_after_the_deadline(monkeypatch)

    took, failed = _within(20, broker.account)

    assert isinstance(failed, BrokerError), failed
    message = str(failed)
    assert "reading the account failed after 2 attempts" in message  # transient: retried
    assert f"no complete answer within {DEADLINE:g} s" in message
    assert len(opened) == 2, opened  # each attempt opened its connection late
    assert sandbox.admin.state()["trickling_answers"] == 0, "a request went out unwatched"
    assert took < 2 * DEADLINE + 5, f"two attempts took {took:.1f} s"
    monkeypatch.undo()
    sandbox.admin.set_faults(trickle=0)
    assert broker.account().equity > 0, "a connection cut while opening was reused"
