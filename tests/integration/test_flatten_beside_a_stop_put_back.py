"""A halt's flatten beside a stop another desk of the account puts back meanwhile: one of the
two sells the shares, never both (a short).

Desk one (``--stop-loss``) holds SPY under its stop; desk two (``--flatten-on-halt``), on the
same store and account, halts. Its flatten cancels every order on the account, desk one's stop
too, then reads the positions to size its close. Desk one, not halted yet (it had not seen the
halt), found its position without a stop and put one back; that stop filled; then desk two's
close, sized from its earlier read, sold the same shares (the ``crash30`` campaign, run 3009:
short 11, then 22 IWM, for 32 s). Now an exit another desk (re)places is claimed in the store
on the symbol's close row, as a flatten's close is (``engine.close_claims``), and that row is
read before the halt's cancels: of the two, the one claimed first goes out; the other is not
sent and says why (the close at the flatten's next pass, once the stop is cancelled again).
And a stop that filled just before the flatten's pass, under positions lagging that fill and
not recorded by its desk yet, is asked of the broker before the close (``engine.exits_beside``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.ended_stop import RALLY, RULE, working_stops
from tests.integration.test_stop_on_emptied_position import MOMENTUM
from tui_trader.core.orders import OrderStatus
from tui_trader.engine import protective_stops
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.pg_url import PgUrl

CRASH = {"SPY": -8.0}
"""A bar that fills desk one's 3% stop."""


def _held(sandbox: SandboxHandle) -> float:
    """SPY the sandbox account holds (its books)."""
    return float(sandbox.admin.state()["positions"].get("SPY", 0.0))


def _sells(report: Any) -> list[Any]:
    """The SPY sells a flatten pass sent (or left unsent)."""
    return [o for o in report.orders if o.symbol == "SPY" and o.side.value == "sell"]


@contextmanager
def _two_desks(
    sandbox: SandboxHandle, trading: Any, db: Path | PgUrl
) -> Iterator[tuple[TradingSession, TradingSession]]:
    """Desk one holding SPY under its stop, and desk two (no exits) on its store and account."""
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE)
    two = None
    try:
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            one.run_iteration()
        settle(sandbox, one)
        assert _held(sandbox) > 5 and len(working_stops(trading)) == 1
        two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
        two.sync_orders()
        wait_until(lambda: two.broker.trading_ready() is None, what="desk two's stream")
        yield one, two
    finally:
        for desk in (one, two):
            if desk is not None:
                desk.finish("stopped")
                desk.broker.close()


def _stops(orders: list[Any]) -> list[Any]:
    """The stop orders among ``orders`` (a desk's listing)."""
    return [o for o in orders if o.order_type.value == "stop"]


def _stop_put_back(sandbox: SandboxHandle, trading: Any, one: TradingSession, fills: bool) -> None:
    """Desk one, not halted yet, finds its stop gone and puts it back (``fills``: and the
    stop fills, unrecorded by desk one)."""
    assert working_stops(trading) == [], "the halt's flatten cancelled the stop"
    # its listing: the stop cancelled, once the stream's news of the cancel reached desk one
    # (under load it came after one look, and desk one, still listing its stop, put none back)
    wait_until(
        lambda: (one.sync_orders(), not _stops(one.broker.open_orders()))[1],
        what="desk one to hear of its stop's cancel",
    )
    one._protect(one.clock.now())
    assert len(working_stops(trading)) == 1, "desk one put its stop back"
    if fills:
        sandbox.admin.step(shock=CRASH)
        wait_until(lambda: working_stops(trading) == [], what="the stop's fill")


def test_a_flatten_and_a_stop_put_back_beside_it_never_both_sell(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """Desk one puts its stop back once desk two's flatten has read the positions and the
    store, and the stop fills before the close goes out: the close is not sent (before: -20
    SPY). On one SQLite file, and on one PostgreSQL store."""
    with _two_desks(sandbox, trading, store) as (one, two):
        beside = two._closed_beside
        put_back: list[bool] = []

        def put_back_after_the_read(symbol: str, *args: Any) -> float:
            seen = beside(symbol, *args)
            if not put_back:
                put_back.append(True)
                _stop_put_back(sandbox, trading, one, fills=True)
            return seen

        two._closed_beside = put_back_after_the_read  # type: ignore[method-assign]
        two.request_kill(reason="test", flatten=True)
        report = two.apply_kill_requests()
        assert report is not None and put_back, "the flatten read the store"
        wait_until(lambda: sandbox.admin.state()["orders"]["open"] == 0, what="every fill")
        assert _held(sandbox) == 0, "the flatten's close sold the shares the stop had sold"
        unsent = _sells(report)
        assert [o.status for o in unsent] == [OrderStatus.REJECTED], unsent
        assert "exit put back" in (unsent[0].reject_reason or ""), unsent[0].reject_reason
        words = " ".join(e.action_taken for e in report.risk_events)
        assert "NOT closed" in words, words


def test_a_flatten_beside_a_stop_filled_unseen_never_shorts(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """Desk one's stop filled before desk two's flatten, and desk one has not recorded it
    yet; the positions desk two reads lag that fill (Alpaca's may): no close of the shares the
    stop sold (before: -20 SPY; ``crash30`` run 3009's path)."""
    with _two_desks(sandbox, trading, store) as (_, two):
        before = two.broker.positions()
        sandbox.admin.step(shock=CRASH)
        wait_until(lambda: working_stops(trading) == [], what="the stop's fill")
        assert _held(sandbox) == 0
        two.broker.positions = lambda: before  # type: ignore[method-assign]
        two.request_kill(reason="test", flatten=True)
        report = two.apply_kill_requests()
        assert report is not None
        wait_until(lambda: sandbox.admin.state()["orders"]["open"] == 0, what="every fill")
        assert _held(sandbox) == 0, "the flatten's close sold the shares the stop had sold"
        assert _sells(report) == [], "no close sent"
        words = " ".join(e.action_taken for e in report.risk_events)
        assert "NOT closed" in words, words


def test_a_flatten_beside_a_stop_put_back_still_gets_flat(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The stop goes back right after the flatten's cancels and does not fill: it protects
    the position (the pass sends no close beside it) until the flatten's next pass cancels it
    again and closes the position, one sale, though desk one has not recorded that cancel."""
    with _two_desks(sandbox, trading, tmp_path / "desk.db") as (one, two):
        held = _held(sandbox)
        read = two.broker.positions
        put_back: list[bool] = []

        def positions() -> Any:
            found = read()
            if sys._getframe(1).f_code.co_name == "_closable_book" and not put_back:
                put_back.append(True)
                _stop_put_back(sandbox, trading, one, fills=False)
            return found

        two.broker.positions = positions  # type: ignore[method-assign]
        two.request_kill(reason="test", flatten=True)
        first = two.apply_kill_requests()
        assert first is not None and put_back
        assert [o for o in _sells(first) if o.status is not OrderStatus.REJECTED] == []
        assert len(working_stops(trading)) == 1, "the stop protects the position meanwhile"
        two.sync_orders()
        again = two.apply_kill_requests()
        assert again is not None
        closes = [o for o in _sells(again) if o.status is not OrderStatus.REJECTED]
        assert [o.qty for o in closes] == [held], _sells(again)
        sandbox.admin.step()
        wait_until(lambda: sandbox.admin.state()["orders"]["open"] == 0, what="the close's fill")
        assert _held(sandbox) == 0 and working_stops(trading) == []


def test_a_stop_put_back_after_a_flatten_close_is_not_sent(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Desk one read the positions and the store's other sales (none yet) to put its stop
    back; desk two's flatten then claimed its close, sent it, and it filled: desk one's stop,
    sized from its read, is not sent (before: a stop on a flat account, filled: -20 SPY)."""
    with _two_desks(sandbox, trading, store) as (one, two):
        beside = protective_stops.sales_beside
        flattened: list[bool] = []

        def flatten_after_the_read(*args: Any) -> Any:
            found = beside(*args)
            if not flattened:
                flattened.append(True)
                two.request_kill(reason="test", flatten=True)
                assert two.apply_kill_requests() is not None
                sandbox.admin.step()  # the close fills; desk two has not recorded it yet
                wait_until(lambda: _held(sandbox) == 0, what="the close's fill")
            return found

        monkeypatch.setattr(protective_stops, "sales_beside", flatten_after_the_read)
        one._cancel_all_of(one.broker.open_orders(), [])  # its stop gone: put back below
        events = one._protect(one.clock.now())
        assert flattened, "desk one read the store's other sales"
        said = " ".join(e.action_taken for e in events)
        assert "its exit was not sent: another desk's flatten close of SPY" in said, said
        sandbox.admin.step(shock=CRASH)  # (a stop there would fill now)
        wait_until(lambda: sandbox.admin.state()["orders"]["open"] == 0, what="every fill")
        assert working_stops(trading) == [] and _held(sandbox) == 0, "no short"
