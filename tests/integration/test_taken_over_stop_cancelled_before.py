"""An ended desk's stop taken over from a listing up to half a minute old, which had already
ended at the broker while its row still said working (``engine.taken_over_ends``).

Desk one (``--stop-loss``) holds SPY under its stop and is killed just after its cancel of
that stop reached Alpaca, before its row said so. Desk two, on the same store and account,
reads the orders other desks placed at most every half minute while its stream runs, so it
still lists the stop: it took the stop over and followed it as working. With exits, it placed
no stop for the position (it had one, it thought), for good while its stream stayed up here
(16-38 s in the ``crash29`` campaign, where stream drops ended it); a sell's cancel answered
"nothing to cancel", read as a cancel not confirmed, so the sell waited too. Now the stop is
looked up once: cancelled, the position's new stop (or the sell) goes out in the same cycle;
replaced, its replacement protects the position and nothing goes out beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RALLY, RULE, spy_held
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder

MOMENTUM = LearningSettings("momentum")
"""Both desks follow momentum alone: the rally makes desk one buy SPY."""


def _stops(trading: Any) -> dict[str, float]:
    """Client id -> quantity of each stop working at the sandbox."""
    return {
        o.client_order_id: float(o.qty)
        for o in sandbox_orders(trading)
        if o.order_type.value == "stop"
        and o.status.value in ("new", "accepted", "pending_new", "pending_replace")
    }


def _two_desks(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, two_keeps_exits: bool
) -> tuple[TradingSession, TradingSession, Any]:
    """Desk one buys SPY in a rally under its stop; desk two runs beside it and has just read
    the account's open orders (its next read half a minute away): desk one's stop among them.
    Both desks and desk one's stop (alpaca-py's order) are returned."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE)
    exits = {"stop_loss": RULE} if two_keeps_exits else {}
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, **exits)
    for _ in range(6):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
        two.run_iteration()
    settle(sandbox, one)
    [stop] = [o for o in sandbox_orders(trading) if o.client_order_id in _stops(trading)]
    assert float(stop.qty) == spy_held(trading) > 0
    sandbox.admin.step()
    one.run_iteration()
    two.broker._open_cache = None  # its half-minute listing is read now, with the stop in it
    two.run_iteration()
    return one, two, stop


def _killed(one: TradingSession, two: TradingSession, sandbox: SandboxHandle) -> list[str]:
    """Desk one killed (its row says running, its heartbeat stopped); desk two's next cycle
    (its listing of the account's open orders still the one read before): its notes."""
    simulate_death(one)
    one.broker.close()
    sandbox.admin.step()
    return list(two.run_iteration().notes)


def test_a_desk_with_exits_places_the_stop_at_once_for_one_already_cancelled(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Before: no stop at all for every cycle of the test (desk two said nothing)."""
    one, two, stop = _two_desks(sandbox, trading, tmp_path, two_keeps_exits=True)
    try:
        trading.cancel_order_by_id(stop.id)  # desk one's cancel, its row not written
        notes = _killed(one, two, sandbox)  # the first cycle that takes the stop over
        held = spy_held(trading)
        for _ in range(2):
            if _stops(trading):
                break
            sandbox.admin.step()
            notes += two.run_iteration().notes
        assert list(_stops(trading).values()) == [held], "the position's stop is back"
        said = [n for n in notes if stop.client_order_id in n]
        assert said and "already canceled at the broker" in said[0], notes
        settle(sandbox, two)
        row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
        assert row.status == "canceled"
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_sell_beside_a_stop_already_cancelled_goes_out_at_once(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two keeps no exits; its sell by hand takes desk one's stop over and cancels it
    first. Before: "the cancel of its protective stop ... is not confirmed", not sent."""
    one, two, stop = _two_desks(sandbox, trading, tmp_path, two_keeps_exits=False)
    try:
        trading.cancel_order_by_id(stop.id)
        _killed(one, two, sandbox)
        held = spy_held(trading)
        two.request_manual_order(ManualOrder("SPY", Side.SELL, qty=5))
        report = two.apply_kill_requests()
        assert report is not None
        refused = [e.action_taken for e in report.risk_events if "not sent" in e.action_taken]
        assert refused == [], refused
        settle(sandbox, two)
        assert spy_held(trading) == held - 5, "the sell went out"
        assert _stops(trading) == {}, "desk two keeps no exits"
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_replaced_stop_never_gets_a_sell_beside_its_replacement(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk one replaces its stop (a resize, in one step) and is killed before its rows say
    so; desk two's listing shows the old stop. Desk two's sell by hand waits while the
    replacement works (said), never goes out beside it, and goes out once desk two has taken
    the replacement over and cancelled it; never two stops."""
    one, two, stop = _two_desks(sandbox, trading, tmp_path, two_keeps_exits=False)
    try:
        position = one.broker.positions()["SPY"]
        [old] = [o for o in one.broker.open_orders() if o.client_order_id == stop.client_order_id]
        one._place_exit(position, position.qty, datetime.now(UTC), False, old)
        [new] = _stops(trading)
        assert new != stop.client_order_id, "replaced at the sandbox"
        old_row = LiveOrder.client_order_id == stop.client_order_id
        LiveOrder.update(status="new").where(old_row).execute()  # killed before it said so
        _killed(one, two, sandbox)
        held = spy_held(trading)
        for _ in range(3):
            two.request_manual_order(ManualOrder("SPY", Side.SELL, qty=5))
            report = two.apply_kill_requests()
            assert report is not None
            two.sync_orders()
            assert len(_stops(trading)) <= 1, "never two stops"
            if spy_held(trading) < held:
                break
            assert list(_stops(trading)) == [new], "the replacement works on"
            said = [e.detail for e in report.risk_events if "not sent" in e.action_taken]
            assert said and "was replaced at the broker" in said[0], report.risk_events
            sandbox.admin.step()
            two.run_iteration()
        assert spy_held(trading) == held - 5, "the sell went out, once"
        assert _stops(trading) == {}, "the replacement was cancelled before it"
    finally:
        two.finish("stopped")
        two.broker.close()
