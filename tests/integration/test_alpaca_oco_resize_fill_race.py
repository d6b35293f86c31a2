"""An OCO pair resized while its old pair's cancel is pending, and the old pair wins the race.

A pair cannot be resized in one step: the desk cancels it, waits for the broker's word, then
places the new pair. At Alpaca the cancel is only accepted (``pending_cancel``) and the old pair
may still fill (the sandbox's ``slow_cancel_rate`` and ``slow_cancel_fill_rate``). A fault
campaign saw it once: the old pair filled while the desk waited for its cancel, the desk took
"ended" for "gone" and placed the new pair for the position it had read before the fill, which
then sold shares the account no longer had: short until the desk bought back. Now an old exit
that ended filled is not replaced in that cycle: the position changed, said on the desk's line,
and the next cycle protects what the broker then shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import settle
from tests.integration.broker_protection import buy_and_protect, client, open_pairs, spy_held
from tui_trader.brokers import alpaca as alpaca_module
from tui_trader.core.orders import OrderClass, OrderType, Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.models import LiveOrder


def _pair_smaller_than_the_position(sb: Any, session: Any) -> tuple[float, float]:
    """Leave the desk's pair smaller than its position: a sell limit by hand far above the
    market takes part of it (the pair comes back for the rest), then that limit is cancelled
    at the broker behind the desk's back. The shares held, and those the pair covers."""
    held = spy_held(sb)
    part = float(int(held // 2))
    assert part >= 1
    price = float(sb.admin.state()["prices"]["SPY"])
    session.request_manual_order(
        ManualOrder(
            "SPY",
            Side.SELL,
            qty=part,
            order_type=OrderType.LIMIT,
            limit_price=round(price * 1.2, 2),
        )
    )
    report = session.apply_kill_requests()
    [limit] = {
        o.client_order_id: o
        for o in report.orders
        if o.order_type is OrderType.LIMIT and o.order_class is not OrderClass.OCO
    }.values()
    sb.admin.step()
    session.run_iteration()  # the pair comes back for what the limit leaves
    settle(sb, session)
    [pair] = open_pairs(sb)
    assert float(pair.qty) == held - part
    trading = client(sb)
    trading.cancel_order_by_id(trading.get_order_by_client_id(limit.client_order_id).id)
    settle(sb, session)
    return held, held - part


def test_an_old_pair_that_fills_while_its_cancel_is_pending_gets_no_new_pair_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk resizes its pair to the whole position; the old pair's cancel stays pending
    and the next bar, arriving while the desk waits for the broker's word, fills it. No new
    pair for the shares read before the fill (it would sell shares no longer held: a short);
    the desk says why, and a later cycle protects what is held then, never short."""
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = buy_and_protect(
            sb, tmp_path / "d.db", protected=open_pairs, shock=0.5, take_profit_pct=5.0
        )
        try:
            held, covered = _pair_smaller_than_the_position(sb, session)
            [old] = open_pairs(sb)
            original = alpaca_module.cancel_by_id
            raced: list[str] = []

            def cancel_then_bar(broker: Any, broker_id: str, what: str) -> bool:
                sent = original(broker, broker_id, what)
                if broker_id == str(old.id) and not raced:
                    raced.append(broker_id)
                    sb.admin.step()  # the bar comes while the desk waits: the old pair fills
                return sent

            monkeypatch.setattr(alpaca_module, "cancel_by_id", cancel_then_bar)
            sb.admin.set_faults(slow_cancel_rate=1, slow_cancel_fill_rate=1)
            sb.admin.step()
            report = session.run_iteration()  # resizes the pair: cancel pending, then filled
            assert raced, "the desk did not cancel the old pair to resize it"
            settle(sb, session)
            left = held - covered
            assert spy_held(sb) == left
            done = client(sb).get_order_by_id(old.id)
            assert str(done.status.value) == "filled"
            first = LiveOrder.get(LiveOrder.client_order_id == old.client_order_id).id
            sent = LiveOrder.select().where(LiveOrder.id > first, LiveOrder.side == "sell")
            big = [(r.client_order_id, r.quantity, r.status) for r in sent if r.quantity > left]
            assert big == [], "a new pair sent for shares no longer held (a short at Alpaca)"
            said = [e.action_taken for e in report.risk_events] if report is not None else []
            assert any("filled" in s and "SPY" in s for s in said), said
            monkeypatch.setattr(alpaca_module, "cancel_by_id", original)
            sb.admin.clear_faults()
            for _ in range(4):  # (the strategy may buy back to its target meanwhile)
                sb.admin.step()
                session.run_iteration()
                settle(sb, session)
                assert spy_held(sb) >= 0
                if open_pairs(sb):
                    break
            [new] = open_pairs(sb)
            assert float(new.qty) == spy_held(sb) > 0
        finally:
            session.broker.close()


def test_a_pair_whose_cancel_stays_pending_is_not_resized_until_the_broker_says_it_ended(
    tmp_path: Path,
) -> None:
    """The old pair's cancel stays pending past the desk's wait: no new pair beside it (both
    could sell the same shares), said on the desk's line; once the broker confirms the cancel,
    the next cycle places one pair for the whole position."""
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = buy_and_protect(
            sb, tmp_path / "p.db", protected=open_pairs, shock=0.5, take_profit_pct=5.0
        )
        try:
            _held, covered = _pair_smaller_than_the_position(sb, session)
            [old] = open_pairs(sb)
            sb.admin.set_faults(slow_cancel_rate=1)
            sb.admin.step()
            report = session.run_iteration()  # the resize's cancel: pending at the deadline
            pending = client(sb).get_order_by_id(old.id)
            assert str(pending.status.value) == "pending_cancel"
            first = LiveOrder.get(LiveOrder.client_order_id == old.client_order_id).id
            sent = LiveOrder.select().where(LiveOrder.id > first, LiveOrder.side == "sell")
            assert [r.client_order_id for r in sent] == [], "a new pair beside the pending one"
            said = [e.action_taken for e in report.risk_events] if report is not None else []
            assert any("not confirmed yet" in s and old.client_order_id in s for s in said), said
            sb.admin.clear_faults()
            for _ in range(4):  # the broker confirms the cancel at the next bar
                sb.admin.step()
                session.run_iteration()
                settle(sb, session)
                if open_pairs(sb):
                    break
            assert str(client(sb).get_order_by_id(old.id).status.value) == "canceled"
            [new] = open_pairs(sb)
            assert float(new.qty) == spy_held(sb) > covered
        finally:
            session.broker.close()
