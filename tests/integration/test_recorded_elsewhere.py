"""A fill recorded elsewhere (another desk, or the own stream) counts once, by either path.

A desk learns of a fill two ways: the broker's trade updates (``_apply_updates``) and a look-up
(a start's reconciliation, the settlement of an order in doubt: ``_record_with_row``). Either
may find the fill already in the audit trail: another desk following the same ended desk's
order recorded it first (``crash29``, ``review29a``), or, for the desk's own order in doubt,
its own stream did (``review29a``). What no desk recorded is recorded; what was recorded
elsewhere is accounted for once: the broker holds those shares, so the desk's expectation of
the symbol (``engine.outside_changes``) and its round-trip ledger take them, and a fill this
desk itself recorded is not counted again.

Before (records30), the two paths did this differently: the stream's path booked another
desk's part into the ledger but not into the expectation, so the desk's next cycle held the
symbol (``the broker holds 20 SPY where this session's fills make 10; looking again next
cycle``); the look-up's path counted into the expectation a fill the desk's own stream had
already counted, the same hold the other way round (the fills made twice what was held).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, sandbox_orders
from tests.integration.ended_stop import RALLY
from tests.integration.test_followed_fill_once import LATER
from tests.integration.test_own_doubt_fill_words import _fill_heard
from tests.integration.test_unsettled_fill_once import MOMENTUM
from tui_trader.core.orders import OrderStatus
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder


def _held(desk: TradingSession) -> float:
    """What the broker holds of SPY."""
    spy = desk.broker.positions().get("SPY")
    return spy.qty if spy is not None else 0.0


def test_a_followed_fill_another_desk_recorded_counts_in_this_desks_expectation(
    sandbox: SandboxHandle, trading: Any, store: Any
) -> None:
    """Desk one's buy fills half and desk one stops; desks A and B start and both follow it;
    its rest fills and desk A records it first. Desk B's stream hears the same fill, refused
    (recorded once): B's expectation of SPY takes it all the same, and no cycle of B holds
    SPY as differing from its fills."""
    db: Any = store
    sandbox.admin.set_faults(partial_rate=1.0, partial_bars=LATER)
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    for _ in range(12):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
        one.sync_orders()
        if [o for o in LiveOrder.select() if o.status == "partially_filled"]:
            break
    one.finish("stopped")
    one.broker.close()
    [buy] = [o.client_order_id for o in LiveOrder.select() if o.status == "partially_filled"]
    desk_a, desk_b = (
        alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM) for _ in "AB"
    )
    held_b: list[str] = []
    try:
        for _ in range(LATER + 2):
            sandbox.admin.step()
            desk_a.run_iteration()
            desk_a.sync_orders()  # A hears of the rest first
            desk_b.sync_orders()
            desk_b.run_iteration()
            held_b += [f"{s}: {why}" for s, why in desk_b.outside.holds.items()]
        sandbox.admin.set_faults(partial_rate=0.0)
        held = _held(desk_b)
        assert filled_by_order().get(buy) == held  # the whole buy, recorded once
        assert desk_b.outside.fills_make("SPY") == pytest.approx(held)
        assert held_b == []
    finally:
        for desk in (desk_a, desk_b):
            desk.finish("stopped")
            desk.broker.close()


def test_an_own_fill_found_again_by_the_look_up_is_not_counted_twice(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone desk's buy goes out in doubt, fills, and the stream records it; the next
    look-up finds it filled (not recorded again): the desk's expectation of SPY is what the
    broker holds, not twice that, and its next cycle holds nothing."""
    desk = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",), learning=MOMENTUM)
    try:
        sandbox.admin.set_faults(lost_ack_rate=1.0)
        monkeypatch.setattr("tui_trader.brokers.alpaca_submit.settle", lambda broker, req: None)
        doubted = []
        for _ in range(12):
            sandbox.admin.step(shock=RALLY)
            report = desk.run_iteration()
            doubted = [o for o in report.orders if o.status is OrderStatus.UNKNOWN]
            if doubted:
                break
        assert doubted, "no order went out in doubt"
        [buy] = [o.client_order_id for o in doubted]
        monkeypatch.undo()
        sandbox.admin.set_faults(reset=True)
        sandbox.admin.step()
        assert [o for o in sandbox_orders(trading) if o.client_order_id == buy]
        wait_until(lambda: _fill_heard(desk, buy), what="the fill's trade update arrived")
        wait_until(
            lambda: desk.sync_orders() is not None and not desk.unsettled,
            what="the order in doubt settled",
        )
        held = _held(desk)
        assert held > 0 and filled_by_order().get(buy) == held
        assert desk.outside.fills_make("SPY") == pytest.approx(held)
        desk.run_iteration()
        assert "SPY" not in desk.outside.holds, desk.outside.holds
    finally:
        desk.finish("stopped")
        desk.broker.close()
