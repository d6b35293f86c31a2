"""A halted desk whose cancel Alpaca keeps refusing spends little of the request budget while it
waits for its next bar.

A halt whose cancel the broker refused (or did not answer) stays unfinished and tries again
(``test_halt_cancel_refused_said_once``): three requests a try (the positions, the open orders,
the cancel). Since the wait between bars looks every 2 s for another process's kill request
(``KILL_LOOK_S``), each look tried again: a desk halted on one refused cancel spent 90 of the
key's 180 requests a minute, all day, at the priority kept for orders and cancels, where it
spent three a bar before. The looks still come every 2 s; the halt's cancel is tried again once
every ``HALT_RETRY_S`` of the wait.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, working_spy_limit
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.runner import SessionRunner


def test_a_minutes_wait_halted_on_a_refused_cancel_tries_it_every_ten_seconds(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A working SPY limit, Alpaca refusing its cancel, ctrl+k: the halt is unfinished. The
    desk then waits a minute for its next bar (the test's clock waits at once): it tries the
    cancel again during the wait (the order may still fill), but about every 10 s, not at
    each of the 29 looks: at most 18 requests for the minute, not 87."""
    session = alpaca_session(sandbox, tmp_path / "halted.db")
    client = session.broker.client
    sent: list[str] = []
    request = client._request

    def counted(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(f"{method} {path}")
        return request(method, path, *args, **kwargs)

    client._request = counted
    try:
        working_spy_limit(session, sandbox, qty=7)
        sandbox.admin.set_faults(cancel_refuse_rate=1)  # every cancel of it is refused
        session.request_kill(reason="test")
        killed = session.apply_kill_requests()
        assert killed is not None and "cancel refused, retrying" in killed.halt, killed
        session.wake.clear()
        waited: list[float] = []

        def at_once(seconds: float, stop: threading.Event) -> bool:
            waited.append(seconds)
            return stop.is_set()

        session.clock.wait = at_once  # type: ignore[method-assign]
        before = len(sent)
        SessionRunner(session, every=60.0)._wait(60.0)
        during = sent[before:]
        assert sum(waited) == 60.0 and len(waited) == 30  # a look every 2 s, as before
        tries = during.count("DELETE /orders")
        assert 2 <= tries <= 6, f"{tries} cancel tries in a minute's wait: {during}"
        assert len(during) <= 18, f"{len(during)} requests in a minute's wait"
        assert sandbox.admin.state()["orders"]["open"] == 1  # still refused: still halted
        assert session.risk.state.halted
    finally:
        session.broker.close()
