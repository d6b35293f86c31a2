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

import pytest

from tests.conftest import Flipper, make_session, simulate_death
from tui_trader.core.domain import TradingState
from tui_trader.core.order_ids import short_key
from tui_trader.engine.session import TradingSession
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.risk.merge import HALT_ADOPTED
from tui_trader.store.halt_requests import write_halt_request
from tui_trader.store.models import HaltRequest, LiveOrder, RiskEventRow, database
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


def test_a_request_whose_taker_died_before_acting_is_taken_by_the_next_session(
    store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session claims an unaddressed request and is killed while the broker cancels the
    halt's orders: the claim does not lose the press; the account's next session takes it,
    saying whose claim it took over."""
    first = _alpaca_like(store)
    for _ in range(2):
        first.run_iteration()
    HaltRequest.create(session=None, timestamp=PRESSED, requested_by="monitor", reason="ctrl+k")

    def killed(*args: object, **kwargs: object) -> object:
        """The process dies while the broker cancels the halt's orders."""
        raise KeyboardInterrupt

    monkeypatch.setattr(first.broker, "cancel_all", killed)
    with pytest.raises(KeyboardInterrupt):
        first.run_iteration()
    [claimed] = HaltRequest.select()
    assert claimed.taken_by == _session_id(first) and claimed.handled_at is None
    assert first.audit.session is not None
    key = first.audit.session.key
    simulate_death(first)
    first.audit.db.close()

    second = _alpaca_like(store)
    database.initialize(second.audit.db)
    report = second.run_iteration()
    assert report is not None and report.state is TradingState.HALTED
    assert [e.detail for e in report.risk_events if e.event_type == MANUAL_KILL] == [
        f"kill switch pressed by monitor at 14:03:07 UTC taken by session {short_key(key)}, "
        "which died before acting on it: ctrl+k"
    ]
    [taken] = HaltRequest.select()
    assert taken.taken_by == _session_id(second) and taken.handled_at is not None
