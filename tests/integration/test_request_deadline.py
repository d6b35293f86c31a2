"""A broker request has a deadline on the whole request, not only on each socket read.

The sandbox's ``trickle`` fault sends an answer's status and headers at once and then its body
a byte at a time, each byte well inside requests' per-read timeout: before, one ``get_account``
(about a thousand bytes) blocked for as long as the body lasted, minutes with a fraction of a
second a byte, whatever the policy's timeout said. Real alpaca-py, real HTTP over loopback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.alpaca_helpers import endpoint_for
from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.brokers.alpaca_calls import CallPolicy
from tui_trader.core.orders import OrderRequest, OrderStatus, Side
from tui_trader.sandbox.testing import SandboxHandle, wait_until

DEADLINE = 0.5
"""The policy's timeout in these tests: each byte of a trickled answer comes well within it."""
TRICKLE = 0.1
"""Seconds between two bytes of a trickled answer: an account takes ~100 s to arrive."""


def _broker(sandbox: SandboxHandle, retries: int = 1) -> AlpacaBroker:
    """The desk's Alpaca broker on the sandbox, with a short deadline and back-off."""
    policy = CallPolicy(timeout=DEADLINE, retries=retries, backoff=0.01, max_backoff=0.01)
    return AlpacaBroker(endpoint_for(sandbox), policy, use_stream=False, require_open_market=False)


def _within(seconds: float, call: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``call`` on a thread; (seconds it took, what it returned or raised). Fails, rather
    than hangs, when it is still running after ``seconds``."""
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            outcome["value"] = call()
        except Exception as exc:
            outcome["value"] = exc
        outcome["took"] = time.monotonic() - started
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(seconds), f"the call still blocked after {seconds:g} s"
    return outcome["took"], outcome["value"]


def test_a_trickled_read_ends_at_its_deadline_as_a_transient_failure_and_is_retried(
    sandbox: SandboxHandle,
) -> None:
    broker = _broker(sandbox, retries=1)
    sandbox.admin.set_faults(trickle=TRICKLE)

    took, failed = _within(30, broker.account)

    assert isinstance(failed, BrokerError), failed
    message = str(failed)
    assert "reading the account failed after 2 attempts" in message  # transient: retried
    assert f"no complete answer within {DEADLINE:g} s" in message
    assert 2 * DEADLINE <= took < 2 * DEADLINE + 5, f"two attempts took {took:.1f} s"
    sandbox.admin.set_faults(trickle=0)
    assert broker.account().equity > 0, "a connection cut at the deadline was reused"


def test_a_trickled_order_answer_is_an_order_in_doubt_settled_by_its_client_id(
    sandbox: SandboxHandle,
) -> None:
    """The order reached the sandbox; its answer trickles past the deadline. The broker asks
    for the client id (answered at full speed now) and finds it: sent once, known."""
    broker = _broker(sandbox)
    sandbox.admin.step()
    sandbox.admin.set_faults(trickle=TRICKLE)
    request = OrderRequest("SPY", Side.BUY, 1, "tt-deadline-1-SPY-r")
    outcome: list[tuple[float, Any]] = []
    sending = threading.Thread(
        target=lambda: outcome.append(_within(30, lambda: broker.submit(request))), daemon=True
    )
    sending.start()
    wait_until(lambda: sandbox.admin.state()["trickling_answers"], what="the order's answer")
    sandbox.admin.set_faults(trickle=0)  # only the order's own answer still trickles
    sending.join(30)

    assert outcome, "the submission did not end"
    took, order = outcome[0]
    assert not isinstance(order, Exception), order
    assert order.client_order_id == request.client_order_id
    assert order.status is not OrderStatus.UNKNOWN, order
    assert sandbox.admin.state()["orders"]["total"] == 1, "the order was sent twice"
    assert took < DEADLINE + 5, f"the submission took {took:.1f} s"


@pytest.mark.parametrize("spec", ["trickle=-1", "trickle=61"])
def test_a_bad_trickle_is_refused(sandbox: SandboxHandle, spec: str) -> None:
    with pytest.raises(RuntimeError, match="trickle"):
        sandbox.admin.set_faults(spec=spec)
