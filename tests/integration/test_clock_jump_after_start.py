"""A desk whose machine's clock jumps after its start sends no new orders until it agrees again.

A desk more than 5 s off the PostgreSQL store's clock does not start (``store.clock_check``);
a clock that jumped after the start (a VM's clock stepped after a pause, NTP stepping, a hand
setting the date) was not checked: the desk went on buying, its order rows stamped minutes off
(a desk taking over its order in doubt counts the settle window from them). Now every heartbeat
judges the clock (``store.clock_watch``): against the server's (PostgreSQL), or against the
machine's boot clock (SQLite). While it disagrees the strategy's new orders and opening hand
orders wait, said on the desk's line and written as a ``clock_off`` risk event; the kill
switch's flatten still sells; once the clock agrees again, orders resume (``clock_agrees``).

The desk's clock is moved in the process (``clock_watch._wall``: the machine's wall clock as
the watch reads it); the server's and the boot clock stay true, as a real step leaves them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tests.integration.test_flatten_never_shorts import PRESSED, RALLY, rally_until_bought
from tui_trader.core.orders import Side
from tui_trader.engine.manual_ticket import ManualOrder
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store import clock_watch
from tui_trader.store.halt_requests import write_halt_request
from tui_trader.store.models import HaltRequest, RiskEventRow
from tui_trader.store.pg_url import PgUrl

_real_wall = clock_watch._wall


def _shift(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """This machine's wall clock, as the desk's heartbeats read it, ``seconds`` off from now."""
    monkeypatch.setattr(clock_watch, "_wall", lambda: _real_wall() + seconds)


def _buys(trading: Any) -> int:
    """Buy orders the sandbox received."""
    return sum(1 for o in sandbox_orders(trading) if o.side.value == "buy")


def _events() -> list[str]:
    """The clock's risk events in the audit trail, oldest first."""
    rows = RiskEventRow.select().order_by(RiskEventRow.id)
    return [r.event_type for r in rows if r.event_type.startswith("clock_")]


@pytest.mark.parametrize("seconds", [120.0, -300.0], ids=["ahead", "behind"])
def test_a_desk_whose_clock_jumps_mid_run_holds_new_orders_until_it_agrees_again(
    sandbox: SandboxHandle,
    trading: Any,
    store: Path | PgUrl,
    monkeypatch: pytest.MonkeyPatch,
    seconds: float,
) -> None:
    desk = alpaca_session(sandbox, store, symbols=("SPY",))  # type: ignore[arg-type]
    try:
        desk.run_iteration()
        bought = _buys(trading)
        _shift(monkeypatch, seconds)  # the clock jumps: the desk runs on
        notes: list[str] = []
        for _ in range(6):  # the rally that has the desk buy (``rally_until_bought``)
            sandbox.admin.step(shock=RALLY)
            report = desk.run_iteration()
            notes += report.notes if report else []
        assert _buys(trading) == bought, "bought while its clock was off"
        if isinstance(store, Path):  # one machine: against its boot clock
            way = f"stepped {abs(seconds):.0f} s {'forward' if seconds > 0 else 'back'}"
        else:
            way = f"is {abs(seconds):.0f} s {'ahead of' if seconds > 0 else 'behind'} the Po"
        said = [n for n in notes if n.startswith("no new orders: this machine's clock")]
        assert said and way in said[0], notes
        assert _events() == ["clock_off"]
        desk.request_manual_order(ManualOrder("SPY", Side.BUY, qty=1))  # by hand: held too
        sandbox.admin.step(shock=RALLY)
        report = desk.run_iteration()
        assert report is not None
        assert any("not sent: this machine's clock" in e.detail for e in report.risk_events)
        assert _buys(trading) == bought
        monkeypatch.setattr(clock_watch, "_wall", _real_wall)  # set right again
        rally_until_bought(sandbox, desk, trading)
        assert _buys(trading) > bought, "orders did not resume once the clock agreed"
        assert _events() == ["clock_off", "clock_agrees"]
    finally:
        desk.finish("stopped")
        desk.broker.close()


def test_a_desk_whose_clock_is_off_still_flattens_on_the_kill_switch(
    sandbox: SandboxHandle,
    trading: Any,
    store: Path | PgUrl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    desk = alpaca_session(sandbox, store, symbols=("SPY",))  # type: ignore[arg-type]
    try:
        rally_until_bought(sandbox, desk, trading)
        held = {p.symbol: float(p.qty) for p in trading.get_all_positions()}
        assert held.get("SPY", 0.0) > 0
        _shift(monkeypatch, 600.0)
        sandbox.admin.step(shock=RALLY)
        desk.run_iteration()
        assert _events() == ["clock_off"]
        assert desk.audit.session is not None
        write_halt_request(desk.audit.session.id, PRESSED, "monitor", "ctrl+k", True)
        HaltRequest.update(session=None).execute()
        for _ in range(4):
            sandbox.admin.step()
            desk.run_iteration()
            if not trading.get_all_positions():
                break
        assert trading.get_all_positions() == [], "the kill switch's flatten did not sell"
        assert desk.risk.state.halted
    finally:
        desk.finish("stopped")
        desk.broker.close()


def test_a_desk_whose_clock_is_off_still_sells_part_of_a_position_by_hand(
    sandbox: SandboxHandle,
    trading: Any,
    store: Path | PgUrl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only opening hand orders wait for the clock: a sale by the ticket of part of what is
    held only takes risk off, as a close does (before, every ticket was held: on SQLite a
    clock set right by NTP left the trader only the whole position's close for the day)."""
    desk = alpaca_session(sandbox, store, symbols=("SPY",))  # type: ignore[arg-type]
    try:
        rally_until_bought(sandbox, desk, trading)
        held = {p.symbol: float(p.qty) for p in trading.get_all_positions()}.get("SPY", 0.0)
        assert held >= 2
        _shift(monkeypatch, 600.0)
        sandbox.admin.step()
        desk.run_iteration()
        assert _events() == ["clock_off"]
        sells = sum(1 for o in sandbox_orders(trading) if o.side.value == "sell")
        desk.request_manual_order(ManualOrder("SPY", Side.SELL, qty=1))
        sandbox.admin.step()
        report = desk.run_iteration()
        assert report is not None
        said = [e.detail for e in report.risk_events if "not sent" in e.detail]
        assert not said, said
        assert sum(1 for o in sandbox_orders(trading) if o.side.value == "sell") == sells + 1
        desk.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held + 5))  # a short: held
        sandbox.admin.step()
        report = desk.run_iteration()
        assert report is not None
        assert any("not sent: this machine's clock" in e.detail for e in report.risk_events)
    finally:
        desk.finish("stopped")
        desk.broker.close()


def test_a_desk_whose_clock_is_off_still_sells_when_its_strategy_says_so(
    sandbox: SandboxHandle,
    trading: Any,
    store: Path | PgUrl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The strategy's sale of what it holds only takes risk off, as an exit does: it goes while
    the clock is off; its buys wait (before, the desk sat on the position, on SQLite for the
    rest of the day, with nothing but its exits)."""
    desk = alpaca_session(sandbox, store, symbols=("SPY",))  # type: ignore[arg-type]
    try:
        rally_until_bought(sandbox, desk, trading)
        assert {p.symbol for p in trading.get_all_positions()} == {"SPY"}
        _shift(monkeypatch, -300.0)
        sells = sum(1 for o in sandbox_orders(trading) if o.side.value == "sell")
        for _ in range(4):  # calm, then the fall that has the trend strategy sell
            sandbox.admin.step()
            desk.run_iteration()
        for _ in range(6):
            sandbox.admin.step(shock={"SPY": -2.0})
            desk.run_iteration()
            if sum(1 for o in sandbox_orders(trading) if o.side.value == "sell") > sells:
                break
        assert _events() == ["clock_off"]
        assert sum(1 for o in sandbox_orders(trading) if o.side.value == "sell") > sells, (
            "the strategy's sale was held with the clock off"
        )
        bought = _buys(trading)
        for _ in range(6):  # the rally again: its buy waits for the clock
            sandbox.admin.step(shock=RALLY)
            desk.run_iteration()
        assert _buys(trading) == bought, "bought while its clock was off"
    finally:
        desk.finish("stopped")
        desk.broker.close()
