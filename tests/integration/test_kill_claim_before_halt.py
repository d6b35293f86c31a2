"""A session that loses a kill request's claim stops new orders even before the winner's halt.

A press addressed to a session that ended before acting on it is taken by one live session of
the account (``store.kill_requests.claim``). The winner commits its claim, then cancels at the
broker, then writes its halt: seconds on Alpaca, up to a request's deadline per call, and for
ever if it dies in between (its claim is taken over only once its heartbeat is stale). Before,
the loser only adopted what the account's row said when it lost, and in that window the row
still said active: the loser traded on after the press, with an order every bar. Now it halts
itself (one more ``manual_kill``, never a second flatten: the winner's press is the one that
flattens).
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_kill_request_taken_once import (
    ACCOUNT,
    PRESSED,
    _alpaca_like,
    _orders_of,
    _session_id,
)
from tui_trader.core.domain import TradingState
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.store.halt_requests import write_halt_request
from tui_trader.store.models import HaltRequest, LiveOrder, RiskEventRow
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.statements import load_risk_state


def test_the_loser_of_a_claim_halts_while_the_winner_has_not_written_its_halt(
    store: Path | PgUrl,
) -> None:
    """B reads the request; C claims it and is still at the broker (no halt written): B sends
    no order past the press, and does not flatten (C's press does)."""
    ended, b, c = (_alpaca_like(store) for _ in range(3))
    for session in (ended, b, c, b, c):
        session.run_iteration()
    write_halt_request(_session_id(ended), PRESSED, "monitor", "ctrl+k in the monitor", True)
    ended.finish("stopped")  # it ends before its next cycle took the press

    read = b.audit.halt_requested

    def read_then_c_claims_it(*args: object, **kwargs: object) -> object:
        """B's read of the pending request; C claims it right after, its halt not written."""
        request = read(*args, **kwargs)
        assert request is not None, "B sees the orphaned request"
        assert c.audit.claim_kill(request), "C takes the request"
        return request

    b.audit.halt_requested = read_then_c_claims_it  # type: ignore[method-assign]
    orders_before = _orders_of(b)
    report = b.run_iteration()
    assert report is not None

    assert report.state is TradingState.HALTED, "B trades on after the press"
    assert _orders_of(b) == orders_before, "B sent an order past the press"
    assert load_risk_state(ACCOUNT).halted
    kills = RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_KILL)
    assert [row.session_id for row in kills] == [_session_id(b)]
    assert "taken by another session of this account" in kills[0].detail
    [pending] = HaltRequest.select()
    assert pending.taken_by == _session_id(c) and pending.handled_at is None, "C's to act on"
    closes = LiveOrder.select().where(LiveOrder.session == _session_id(b))
    assert closes.count() == orders_before, "B flattened: that is C's to do"
    for session in (b, c):
        session.finish("stopped")
