"""A monitor's kill request is taken by one session, however many read it at once.

A press addressed to a session that ended before acting on it is taken by another live session
of the account. Two such sessions that both read the pending request before either had written
its halt both halted: two ``manual_kill`` halts for one ctrl+k, and, asked to flatten, both sent
closing orders for the same positions. Now a session claims the request before acting on it
(one compare-and-set ``UPDATE``, ``store.kill_requests.claim``): the winner halts (and
flattens); the loser halts no second time, and adopts the account's halt the winner wrote: it
sends no order past it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import Flipper, make_session
from tui_trader.core.domain import TradingState
from tui_trader.engine.session import TradingSession
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.risk.merge import HALT_ADOPTED
from tui_trader.store.halt_requests import write_halt_request
from tui_trader.store.models import HaltRequest, LiveOrder, RiskEventRow
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.statements import load_risk_state

ACCOUNT = "paper:kill-once"
PRESSED = datetime(2026, 12, 6, 14, 3, 7, tzinfo=UTC)


def _alpaca_like(store: Path | PgUrl) -> TradingSession:
    """A session whose rows commit one by one, as an Alpaca session's do, trading each bar."""
    return make_session(store, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT)


def _session_id(session: TradingSession) -> int:
    """The session's row id."""
    assert session.audit.session is not None
    return session.audit.session.id


def _orders_of(session: TradingSession) -> int:
    """How many orders the session has written."""
    return LiveOrder.select().where(LiveOrder.session == _session_id(session)).count()


def test_two_live_sessions_reading_one_orphaned_request_halt_the_account_once(
    store: Path | PgUrl,
) -> None:
    """B reads the request, then C takes it and writes its halt (with the flatten) before B
    goes on: only C halts and flattens; B adopts the account's halt and sends nothing."""
    ended, b, c = (_alpaca_like(store) for _ in range(3))
    for session in (ended, b, c, b, c):
        session.run_iteration()
    write_halt_request(_session_id(ended), PRESSED, "monitor", "ctrl+k in the monitor", True)
    ended.finish("stopped")  # it ends before its next cycle took the press

    read = b.audit.halt_requested

    def read_then_c_takes_it(*args: object, **kwargs: object) -> object:
        """B's read of the pending request, C's whole cycle landing right after it."""
        request = read(*args, **kwargs)
        assert request is not None, "B sees the orphaned request"
        c.run_iteration()
        return request

    b.audit.halt_requested = read_then_c_takes_it  # type: ignore[method-assign]
    orders_before = _orders_of(b)
    report = b.run_iteration()
    assert report is not None

    kills = RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_KILL)
    assert [row.session_id for row in kills] == [_session_id(c)], "one halt, by C"
    assert [e.event_type for e in report.risk_events if e.halts] == []
    assert HALT_ADOPTED in [e.event_type for e in report.risk_events], "B adopts C's halt"
    assert report.state is TradingState.HALTED
    assert _orders_of(b) == orders_before, "B sent orders (a second flatten, or a trade)"
    assert load_risk_state(ACCOUNT).halted
    taken = HaltRequest.select().where(HaltRequest.handled_at.is_null(False))
    assert [row.taken_by for row in taken] == [_session_id(c)]

    b.audit.halt_requested = read  # type: ignore[method-assign]
    later = b.run_iteration()
    assert later is not None and later.state is TradingState.HALTED
    assert _orders_of(b) == orders_before, "B traded past the account's halt"
    for session in (b, c):
        session.finish("stopped")
