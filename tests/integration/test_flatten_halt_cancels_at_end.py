"""A kill with flatten whose cancel had no answer still cancels at the desk's end.

A desk stopped before its unfinished halt acted makes the halt's cancel at its end
(``SessionFinish._halt_cancels_at_end``), but it skipped a halt that flattens unless the
halt had been entered after its cycle's halt step: "a flatten under way keeps its closing
sells working". A kill with flatten whose very first request got no answer (a network blip at
the press) had closed nothing and cancelled nothing, yet counted as under way: the desk's end
cancelled nothing, and the limit buys working kept working at the broker, able to fill, with
no desk left following them; the non-flattening kill in the same spot cancelled them. Now the
end cancels the working orders of any unfinished halt, keeping the protective exits and any
flatten's closing sells. Sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from requests import ConnectionError as Unreachable

from tests.conftest import file_rows
from tests.integration.alpaca_helpers import alpaca_session, sandbox_view, working_spy_limit
from tui_trader.sandbox.testing import SandboxHandle


def test_a_flatten_kill_unanswered_then_stopped_cancels_the_working_limit(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A limit buy of SPY works; ctrl+k with flatten finds Alpaca unreachable (nothing
    cancelled, nothing closed); the broker answers again and the desk is stopped. Before: the
    limit kept working after the desk ended. Now the end cancels it and its row says so."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db)
    client = session.broker.client
    listing = client.get_orders

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise Unreachable("connection refused")

    try:
        limit = working_spy_limit(session, sandbox)
        client.get_orders = unreachable
        try:
            session.request_kill(who="test", flatten=True)
            report = session.apply_kill_requests()
        finally:
            client.get_orders = listing
        assert report is not None and session.risk.state.halted
        assert sandbox_view(sandbox)[limit][0], "the broker did not answer: nothing cancelled"
        session.finish("stopped")
        assert not sandbox_view(sandbox)[limit][0], "the stopped desk left the limit buy working"
        [(status,)] = file_rows(
            db, "SELECT status FROM live_orders WHERE client_order_id = ?", limit
        )
        assert status in ("canceled", "pending_cancel"), status
    finally:
        session.broker.close()
