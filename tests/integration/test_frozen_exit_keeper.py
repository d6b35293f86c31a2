"""A desk frozen while it kept a symbol's protective exit never changes that exit on its stale
reading once it wakes.

A symbol's exit is kept by one live desk at a time, the holder of its exit row
(``engine.claims.may_protect``). A desk reads the rows at the start of its cycle; frozen after
that (SIGSTOP, a paused VM, a long stall) for longer than its heartbeat window, it looks dead to
the others, and another desk with exits takes the exit over and places its stop. Before, the
frozen desk woke and placed its own stop too, on its old reading: two stops for one position
(Alpaca refuses the second for want of shares; a broker that does not hold shares would let both
sell). Now the desk confirms its exit row in the store right before it changes an exit
(``AccountClaims.confirm_exit``): taken over, it changes nothing, says once that the other desk
keeps the exit, and the position keeps that desk's stop. Not taken over, the confirm holds and
the stop goes out in that cycle: the position is never left without one.

The freeze is the boot clock moved on and the desk's heartbeat aged in the store, no sleeping.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tui_trader.core.order_ids import short_key
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store import clock_watch
from tui_trader.store.models import RiskEventRow
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.session_rows import RowEnded

RALLY = {"SPY": 0.8}
RULE = StopRule(pct=3.0)
BOOT = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def _boot_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The boot clock, moved on by the seconds in the list (the time a process lost)."""
    lost = [0.0]
    real = time.clock_gettime
    monkeypatch.setattr(time, "clock_gettime", lambda c: real(c) + (lost[0] if c == BOOT else 0))
    # a real freeze moves the wall clock alike: the clock's watch sees no step in it
    monkeypatch.setattr(clock_watch, "_boot", lambda: real(BOOT))
    return lost


def _stops(trading: Any) -> list[str]:
    """The client order ids of the stops working at the sandbox."""
    return [
        o.client_order_id
        for o in sandbox_orders(trading)
        if o.order_type.value == "stop" and o.status.value in ("new", "accepted", "pending_new")
    ]


def _sent_by(trading: Any, desk: TradingSession) -> list[str]:
    """The client order ids of the orders ``desk`` sent, as the broker lists them (any status)."""
    mine = f"tt-{desk.audit.session.key}-"
    return [
        o.client_order_id for o in sandbox_orders(trading) if o.client_order_id.startswith(mine)
    ]


def _desk(sandbox: SandboxHandle, store: Path | PgUrl) -> TradingSession:
    return alpaca_session(
        sandbox, store, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=RULE
    )


def _buys(sandbox: SandboxHandle, one: TradingSession, others: list[TradingSession]) -> None:
    """Quiet bars, then a rally: desk one buys SPY and keeps its exit (its exit row taken);
    its stop goes out next cycle, once the buy is no longer listed working."""
    for shock in (None, None, RALLY):
        sandbox.admin.step(shock=shock)
        one.run_iteration()
        for other in others:
            other.run_iteration()


def _frozen_before_its_stop(
    sandbox: SandboxHandle, one: TradingSession, trading: Any, then: Callable[[], Any]
) -> Any:
    """Bars until desk one decides SPY's exit with SPY held, no stop working and its buy no
    longer listed (it is about to place the stop): ``then`` runs there (the desk frozen after
    it read the exit rows and the broker's orders). That cycle's report, and what ``then``
    gave."""
    assert one.claims is not None
    decide = one.claims.may_protect
    out: list[Any] = []

    def may_protect(symbol: str) -> bool:
        listed = [o for o in one.broker.open_orders() if o.symbol == symbol]
        if not out and symbol == "SPY" and not listed and not _stops(trading):
            out.append(then())
        return decide(symbol)

    one.claims.may_protect = may_protect  # type: ignore[method-assign]
    for _ in range(4):  # (the buy's fill may reach the desk's listing a bar later)
        sandbox.admin.step()
        report = one.run_iteration()
        if out:
            return report, out[0]
        assert not _stops(trading), "desk one placed its stop without deciding it"
    raise AssertionError("desk one never came to place its stop")


def test_a_frozen_exit_keeper_leaves_the_stop_to_the_desk_that_took_the_exit_over(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On one SQLite file, and on one PostgreSQL store (desks on two machines)."""
    lost = _boot_clock(monkeypatch)
    one, two = _desk(sandbox, store), _desk(sandbox, store)
    try:
        _buys(sandbox, one, [two])
        assert [p.symbol for p in trading.get_all_positions()] == ["SPY"] and not _stops(trading)
        bought = _sent_by(trading, one)

        def frozen_and_taken_over() -> Any:
            """Desk one stops for 41 s; desk two finds it dead, takes SPY's exit over and
            places its stop."""
            lost[0] += 41.0
            simulate_death(one)
            return two.run_iteration()

        report, _ = _frozen_before_its_stop(sandbox, one, trading, frozen_and_taken_over)
        [stop] = _stops(trading)
        assert stop.startswith(f"tt-{two.audit.session.key}-"), "desk two placed the stop"
        assert _sent_by(trading, one) == bought, "the woken desk placed a second stop"
        assert not [e for e in report.risk_events if e.event_type == "protective_stop"]
        said = [n for n in report.notes if "SPY" in n]
        assert said == [
            f"SPY: its protective exit is kept by session {short_key(two.audit.session.key)} on "
            "this account; this desk leaves it to that session while it runs"
        ]
        notes: list[str] = []
        for _ in range(2):  # woken, desk one leaves the exit to desk two: not said again
            sandbox.admin.step()
            notes += one.run_iteration().notes
            two.run_iteration()
        assert _stops(trading) == [stop] and _sent_by(trading, one) == bought
        assert not [n for n in notes if "SPY" in n], notes
        mine = RiskEventRow.session == one.audit.session.id
        assert not RiskEventRow.select().where(mine & (RiskEventRow.symbol == "SPY")).count()
    finally:
        for s in (one, two):
            s.finish("stopped")
            s.broker.close()


def test_a_frozen_exit_keeper_does_not_cancel_the_stop_another_desk_took_over(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Desk one's stop works; frozen for 41 s after it read the account (and beat), desk two
    takes the exit over with that very stop (its row now desk two's). Desk one then acts on a
    close by hand the user asked for: before, it cancelled the stop desk two keeps and sold,
    and desk two's exit was gone. Now the close is not sent, said, and desk two's stop keeps
    working."""
    lost = _boot_clock(monkeypatch)
    db = tmp_path / "desk.db"
    one, two = _desk(sandbox, db), _desk(sandbox, db)
    try:
        _buys(sandbox, one, [two])
        for _ in range(4):  # desk one places its stop once its buy is no longer listed
            sandbox.admin.step()
            one.run_iteration()
            two.run_iteration()
            if _stops(trading):
                break
        [stop] = _stops(trading)
        assert stop.startswith(f"tt-{one.audit.session.key}-")
        held = {p.symbol: float(p.qty) for p in trading.get_all_positions()}["SPY"]
        sent = _sent_by(trading, one)
        act = one._take_manual_requests
        taken: list[Any] = []

        def manual(*args: Any) -> Any:
            """Desk one freezes before it acts on the close; desk two takes the exit over."""
            if not taken:
                lost[0] += 41.0
                simulate_death(one)
                taken.append(two.run_iteration())
            return act(*args)

        one._take_manual_requests = manual  # type: ignore[method-assign]
        one.request_manual_order(ManualOrder("SPY", Side.SELL, qty=5))
        sandbox.admin.step()
        report = one.run_iteration()
        assert taken and [e.event_type for e in taken[0].risk_events] == ["exit_taken_over"]
        assert _stops(trading) == [stop], "desk one cancelled the stop desk two keeps"
        assert _sent_by(trading, one) == sent, "desk one sold beside desk two's stop"
        assert {p.symbol: float(p.qty) for p in trading.get_all_positions()}["SPY"] == held
        refused = [e.action_taken for e in report.risk_events if "manual" in e.action_taken]
        assert refused == [
            f"manual sell SPY not sent: its protective exit {stop} is kept by another session now"
        ], report.risk_events
    finally:
        with contextlib.suppress(RowEnded):  # desk one's row was recorded died: its end says so
            one.finish("stopped")
        two.finish("stopped")
        for s in (one, two):
            s.broker.close()


def test_a_frozen_exit_keeper_nobody_took_over_places_its_stop_in_that_cycle(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frozen for 41 s with nobody taking its exit over, the desk's exit row confirms and the
    stop goes out at once: the freeze never leaves the position without its stop a cycle."""
    lost = _boot_clock(monkeypatch)
    desk = _desk(sandbox, tmp_path / "desk.db")
    try:
        _buys(sandbox, desk, [])
        report, _ = _frozen_before_its_stop(
            sandbox, desk, trading, lambda: lost.__setitem__(0, lost[0] + 41)
        )
        [stop] = _stops(trading)
        assert stop.startswith(f"tt-{desk.audit.session.key}-")
        assert not [e for e in report.risk_events if e.event_type == "protective_stop"]
    finally:
        desk.finish("stopped")
        desk.broker.close()
