"""A sell by hand, between bars, by a desk that keeps no exits, in a symbol held under a stop an
ended desk of the same store left working: the stop is cancelled first (said: ``exit_dropped``)
and the sell goes out, as a strategy's sell does; refused, the stop goes back.

Before, the desk's listing of the broker's orders (read at most every half minute while the
trade-updates stream runs) did not show the ended desk's stop, and only a cycle that took the
symbol over looked past it: the hand sell was sent beside the stop and the broker refused it
("insufficient qty available"), the position still under a stop the desk had not seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import sandbox_orders, settle
from tests.integration.test_stop_put_back import _ended_desks_stop, _held, _sells_refused, _stops
from tui_trader.core.orders import OrderType, Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.risk.limits import RiskLimits
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import RiskEventRow


def _ask(desk: TradingSession, how: str, held: float) -> None:
    """Ask ``desk`` by hand to sell ``held`` SPY: a limit sell, a market sell, or a close."""
    if how == "limit":
        price = round(desk.last_prices["SPY"] * 0.98, 2)
        ticket = ManualOrder("SPY", Side.SELL, held, order_type=OrderType.LIMIT, limit_price=price)
        desk.request_manual_order(ticket)
    elif how == "market":
        desk.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held))
    else:
        desk.request_close("SPY")


@pytest.mark.parametrize("how", ["limit", "market", "close"])
def test_a_hand_sell_cancels_the_ended_desks_stop_and_goes_out(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, how: str
) -> None:
    """The ended desk's stop is cancelled and said dropped; the sell fills, nothing refused."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(left, _qty, _price)] = _stops(trading)
        held = _held(trading)
        _ask(two, how, held)
        report = two.apply_kill_requests()
        assert report is not None
        assert not [n for n in report.notes if "rejected" in n], report.notes
        [dropped] = [e for e in report.risk_events if e.event_type == "exit_dropped"]
        assert dropped.detail in report.notes  # said at once, not a bar later
        assert f"cancelled the protective exit {left}" in dropped.detail
        assert dropped.detail.endswith(
            "so what the sell leaves of the SPY position has no protective exit"
        )
        assert [
            r.symbol for r in RiskEventRow.select().where(RiskEventRow.event_type == "exit_dropped")
        ] == ["SPY"]  # in the audit trail
        assert _stops(trading) == []
        sandbox.admin.step()  # the limit sell (2% under the last price) fills at the next bar
        settle(sandbox, two)
        assert _held(trading) == 0
        sells = [o for o in sandbox_orders(trading) if o.side.value == "sell"]
        assert sorted(o.status.value for o in sells) == ["canceled", "filled"]
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_refused_hand_sell_puts_the_ended_desks_stop_back(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The broker refuses the hand sell once the stop is cancelled: the stop is placed again at
    once, at its price, for the shares held, said."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(left, _qty, price)] = _stops(trading)
        held = _held(trading)
        with _sells_refused(sandbox, two) as refused:
            _ask(two, "market", held)
            report = two.apply_kill_requests()
        assert refused and report is not None
        assert _held(trading) == held
        [(again, qty, again_price)] = _stops(trading)
        assert again != left and (qty, again_price) == (held, price)
        said = [e.action_taken for e in report.risk_events if e.event_type == "exit_placed_again"]
        assert said == [
            f"sell {held:g} SPY refused (the broker rejected it: new orders are rejected by "
            f"user request): its stop at {price:.2f} placed again"
        ], report.risk_events
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_hand_buy_beside_the_ended_desks_stop_waits(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A buy by hand is not sent beside the ended desk's stop (the broker would refuse it as a
    wash trade): it is refused by the desk, saying why; the stop keeps protecting the shares."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(left, qty, price)] = _stops(trading)
        two.risk.limits = RiskLimits(max_position_pct=100.0)  # room under the position limit
        bought = len([o for o in sandbox_orders(trading) if o.side.value == "buy"])
        two.request_manual_order(ManualOrder("SPY", Side.BUY, qty=1))
        report = two.apply_kill_requests()
        assert report is not None
        [refusal] = [e for e in report.risk_events if e.event_type == "manual_order_refused"]
        assert refusal.action_taken.startswith(
            f"manual buy SPY not sent: its protective exit {left} is working at the broker"
        ), refusal
        assert _stops(trading) == [(left, qty, price)]
        assert len([o for o in sandbox_orders(trading) if o.side.value == "buy"]) == bought
    finally:
        two.finish("stopped")
        two.broker.close()
