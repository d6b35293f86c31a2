"""A desk frozen after it read the account's claims never trades on that stale reading.

Each symbol of a shared account is one desk's at a time (``engine.claims``). A desk reads the
claims at the start of its cycle; frozen after that (SIGSTOP, a paused VM, a long stall) for
longer than its heartbeat window, it looks dead to the others, and another desk takes its symbol
over and trades it. Before, the frozen desk woke, went on with its cycle on its old reading and
sent its own order too: the account held twice the target. Now the claim is confirmed in the
store right before each order: taken over, the order is not sent, counts for nothing, and one
line says so. And a desk that finds it did not run for longer than its heartbeat window lets
the cycle's orders wait for the next cycle, which reads everything again.

The freeze is the boot clock moved on (what SIGSTOP or a suspend leaves a process to see) and
the desk's heartbeat aged in the store (what the other desks see), no sleeping.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tui_trader.core.order_ids import short_key
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store import clock_watch
from tui_trader.store.models import LiveOrder, database
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.risk_store import read_risk_state

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}
BOOT = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def _boot_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The boot clock, moved on by the seconds in the list (the time a process lost)."""
    lost = [0.0]
    real = time.clock_gettime
    monkeypatch.setattr(time, "clock_gettime", lambda c: real(c) + (lost[0] if c == BOOT else 0))
    # a real freeze moves the wall clock alike: the clock's watch sees no step in it
    monkeypatch.setattr(clock_watch, "_boot", lambda: real(BOOT))
    return lost


def _held(trading: Any) -> dict[str, float]:
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}


def _after_reading(session: TradingSession, then: Callable[[], Any]) -> list[Any]:
    """Make ``session``'s next positions read run ``then`` right after it (the desk freezes
    between its reading and its orders); what ``then`` gave."""
    read = session.broker.positions
    out: list[Any] = []

    def positions() -> Any:
        held = read()
        if not out:
            out.append(then())
        return held

    session.broker.positions = positions  # type: ignore[method-assign]
    return out


def _claim(desk: TradingSession, *symbols: str) -> None:
    """``desk`` holds these symbols' claims (it traded them before), and nothing of them."""
    assert desk.claims is not None
    desk.claims.begin(desk.audit.session.key)
    for symbol in symbols:
        assert desk.claims.take(symbol, f"buy 1 {symbol}") is None


def _sent_by(trading: Any, desk: TradingSession) -> list[str]:
    """The symbols of the orders ``desk`` sent, as the broker lists them."""
    mine = f"tt-{desk.audit.session.key}-"
    return [o.symbol for o in sandbox_orders(trading) if o.client_order_id.startswith(mine)]


def _before_send(session: TradingSession, then: Callable[[], Any]) -> list[Any]:
    """Make ``session``'s next order run ``then`` right before it is sent (after its slot and
    the release of its symbol's stops, where a desk keeping exits waits on the broker); what
    ``then`` gave."""
    release = session._release_stops
    out: list[Any] = []

    def released(*args: Any) -> Any:
        if not out:
            out.append(then())
        return release(*args)

    session._release_stops = released  # type: ignore[method-assign]
    return out


@pytest.mark.parametrize("when", [_after_reading, _before_send])
def test_a_frozen_desk_whose_symbol_was_taken_over_sends_nothing_there(
    sandbox: SandboxHandle,
    trading: Any,
    store: Path | PgUrl,
    monkeypatch: pytest.MonkeyPatch,
    when: Callable[[TradingSession, Callable[[], Any]], list[Any]],
) -> None:
    """Frozen right after it read the account, or right before its order's send. On one
    SQLite file, and on one PostgreSQL store (desks on two machines)."""
    lost = _boot_clock(monkeypatch)
    momentum = LearningSettings("momentum")
    one = alpaca_session(sandbox, store, symbols=("SPY",), learning=momentum)
    two = alpaca_session(sandbox, store, symbols=("SPY",), learning=momentum)
    try:
        for _ in range(2):  # quiet bars: nobody holds anything
            sandbox.admin.step()
            one.run_iteration()
            two.run_iteration()
        _claim(one, "SPY")

        def frozen_and_taken_over() -> Any:
            """Desk one stops for 41 s after reading the account; desk two finds it dead,
            takes SPY over and buys."""
            lost[0] += 41.0
            simulate_death(one)
            return two.run_iteration()

        sandbox.admin.step(shock=RALLY)
        taken = when(one, frozen_and_taken_over)
        report = one.run_iteration()
        assert taken[0].orders_sent == 1  # desk two bought SPY
        assert report.orders_sent == 0, "the frozen desk bought on its stale reading"
        assert _sent_by(trading, one) == []
        assert LiveOrder.select().where(LiveOrder.session == one.audit.session.id).count() == 0
        said = [n for n in report.notes if "SPY" in n]
        assert len(said) == 1, report.notes
        assert re.fullmatch(
            rf"buy \d+ SPY not sent: SPY was taken over by session "
            rf"{short_key(two.audit.session.key)} while this desk was not running \(frozen for "
            r"4\d s\); this desk leaves SPY to it",
            said[0],
        ), said
        row = read_risk_state(database.obj, one.risk.state.account_key)
        assert row is not None and row.orders_today == 1, "the unsent order was counted"
        assert one.risk.state.orders_today == 1
        notes: list[str] = []
        for _ in range(2):  # woken, desk one leaves SPY to desk two: not said again
            sandbox.admin.step(shock=RALLY)
            notes += one.run_iteration().notes
            two.run_iteration()
        assert _sent_by(trading, one) == []
        assert not [n for n in notes if "SPY" in n], notes
        assert _held(trading) == {"SPY": float(sum(_filled(trading, two)))}
    finally:
        for s in (one, two):
            s.finish("stopped")
            s.broker.close()


def _filled(trading: Any, desk: TradingSession) -> list[float]:
    """The shares bought (sold: negative) by each of ``desk``'s orders at the broker."""
    mine = f"tt-{desk.audit.session.key}-"
    return [
        float(o.filled_qty) * (1 if o.side.value == "buy" else -1)
        for o in sandbox_orders(trading)
        if o.client_order_id.startswith(mine)
    ]


def test_a_desk_that_did_not_run_past_its_window_trades_on_a_fresh_reading_only(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frozen for 41 s after reading the account, nobody took its symbols: still, what it
    read may be stale, so its cycle's orders wait (said once, none counted), and the next
    cycle, on a fresh reading, buys."""
    lost = _boot_clock(monkeypatch)
    desk = alpaca_session(sandbox, tmp_path / "desk.db", learning=LearningSettings("momentum"))
    try:
        for _ in range(2):
            sandbox.admin.step()
            desk.run_iteration()
        _claim(desk, *RALLY)
        sandbox.admin.step(shock=RALLY)
        _after_reading(desk, lambda: lost.__setitem__(0, lost[0] + 41.0))
        report = desk.run_iteration()
        assert report.orders_sent == 0 and sandbox_orders(trading) == []
        assert len(report.notes) == 1, report.notes
        assert re.fullmatch(
            r"buy \d+ IWM not sent: this desk did not run for 4\d s \(stopped, suspended or "
            r"stalled\) after it read the account, longer than its heartbeat window \(30 s\), so "
            r"other desks may have found it dead: what it read is stale, and this cycle's "
            r"orders wait for the next cycle, which reads everything again",
            report.notes[0],
        ), report.notes
        row = read_risk_state(database.obj, desk.risk.state.account_key)
        assert row is not None and row.orders_today == 0 == desk.risk.state.orders_today
        sandbox.admin.step(shock=RALLY)
        again = desk.run_iteration()
        assert again.orders_sent == 3 and sorted(_held(trading)) == sorted(RALLY)
        assert not [n for n in again.notes if "not sent" in n], again.notes
    finally:
        desk.finish("stopped")
        desk.broker.close()
