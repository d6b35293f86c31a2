"""Broker-held take profits at the sandbox (Alpaca's contract, the real alpaca-py client):
``--stop-loss`` with ``--take-profit`` puts one OCO pair (a take-profit limit whose leg is the
stop) at the broker for each position; the take-profit leg fills there and the stop leg ends;
an add or an exit cancels the pair first (it holds the shares, and a buy beside its sell legs
would be refused as a potential wash trade)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import filled_by_order, settle
from tests.integration.broker_protection import (
    buy_and_protect,
    buy_more,
    client,
    open_pairs,
    spy_held,
)
from tui_trader.sandbox.testing import running_sandbox, wait_until
from tui_trader.store.models import LiveOrder


def _value(x: Any) -> str:
    return str(getattr(x, "value", x))


def test_the_pair_goes_out_with_both_legs_and_its_take_profit_fills_at_the_broker(
    tmp_path: Path,
) -> None:
    """One GTC OCO for the whole position: a sell limit 5% above entry whose leg is a stop 2%
    below, audited with both prices. A 10% jump fills the take-profit leg at the sandbox: the
    stop leg is cancelled there, the position is closed, and the desk records the fill."""
    db = tmp_path / "p.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = buy_and_protect(sb, db, protected=open_pairs, shock=0.5, take_profit_pct=5.0)
        try:
            [pair] = open_pairs(sb)
            held = spy_held(sb)
            entry = float(client(sb).get_open_position("SPY").avg_entry_price)
            [leg] = pair.legs
            assert (_value(pair.type), _value(pair.side), _value(pair.time_in_force)) == (
                "limit",
                "sell",
                "gtc",
            )
            assert float(pair.qty) == held and float(leg.qty) == held
            assert float(pair.limit_price) == round(entry * 1.05, 2)
            assert (_value(leg.type), float(leg.stop_price)) == ("stop", round(entry * 0.98, 2))
            row = LiveOrder.get(LiveOrder.client_order_id == pair.client_order_id)
            assert row.rationale.startswith("OCO exit: protective stop 2% below entry")
            assert f"take profit 5% above entry {entry:,.2f} at {float(pair.limit_price):g}" in (
                row.rationale
            )
            sb.admin.step(shock={"SPY": 10.0})
            wait_until(lambda: spy_held(sb) == 0, what="the take profit to fill at the sandbox")
            settle(sb, session)
            done = client(sb).get_order_by_id(pair.id)
            assert _value(done.status) == "filled"
            assert _value(done.legs[0].status) == "canceled"
            row = LiveOrder.get(LiveOrder.client_order_id == pair.client_order_id)
            assert row.status == "filled" and row.filled_price >= float(pair.limit_price)
            assert filled_by_order()[str(pair.client_order_id)] == held
            assert open_pairs(sb) == []
        finally:
            session.broker.close()


def test_an_add_and_a_close_cancel_the_pair_first_and_are_not_refused(tmp_path: Path) -> None:
    """Five more shares bought by hand: the sandbox would refuse the buy beside the pair's sell
    legs (potential wash trade); the desk cancels the pair first, the buy fills, and a later
    cycle protects the whole position with one new pair. Closing the position: the pair holds
    the shares (a second sell would be refused: insufficient qty available), so the close
    cancels it, waits for the confirmation, and the sell fills."""
    from tui_trader.risk.limits import RiskLimits

    db = tmp_path / "a.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = buy_and_protect(
            sb,
            db,
            protected=open_pairs,
            shock=0.5,
            take_profit_pct=5.0,
            limits=RiskLimits(max_position_pct=50.0),
        )
        try:
            [old] = open_pairs(sb)
            buy_more(sb, session, 5)
            for _ in range(3):  # the strategy may trim back to its target meanwhile
                sb.admin.step()
                session.run_iteration()
                settle(sb, session)
            [new] = open_pairs(sb)
            assert new.id != old.id and float(new.qty) == float(new.legs[0].qty) == spy_held(sb)
            session.request_close("SPY")
            report = session.apply_kill_requests()
            assert report is not None
            assert not [n for n in report.notes if "rejected" in n], report.notes
            wait_until(lambda: session.sync_orders() is not None and spy_held(sb) == 0, what="sell")
            done = client(sb).get_order_by_id(new.id)
            assert (_value(done.status), _value(done.legs[0].status)) == ("canceled", "canceled")
            row = LiveOrder.get(LiveOrder.client_order_id == new.client_order_id)
            assert row.status == "canceled"
        finally:
            session.broker.close()
