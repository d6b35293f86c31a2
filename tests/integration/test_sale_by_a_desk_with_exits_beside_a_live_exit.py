"""A desk that keeps exits, selling shares whose stop another live desk keeps: the sale waits
while that stop's row is open in the store, though the desk's listing does not show the stop.

Desk one (``--stop-loss``) keeps SPY's exit; desk three, which keeps exits too, trades SPY (it
took the symbol over from desk two, which ended) and leaves the exit to desk one. Desk three's
listing of the account's orders may be half a minute old: the stop is not in it. Before, the
store check of ``engine.live_exits`` was made for desks that keep no exits only: desk three's
sale went out beside the stop, and when the stop filled right before it, sold shares the
account no longer held (the ``crash30`` campaign: short 47 IWM). The sale now waits, said.

Likewise when desk one ends (Ctrl+C) after desk three read the listing: its stop works on at the
broker. Before, the store check counted live desks' exits only, and desk three sold beside the
ended desk's stop (the ``crash31`` campaign: short 24 QQQ, two seconds after that desk
stopped). And when desk one stops beating (a SIGSTOP, a hang) without an end, the words say so;
before, they said it "ended moments ago".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import age_heartbeat
from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RULE, spy_held, working_stops
from tests.integration.test_sell_beside_live_exit import CRASH, RISE, SLIDE
from tui_trader.core.orders import Side
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until

MEANREV = LearningSettings("meanrev")


@pytest.mark.parametrize("one", ["runs", "ended", "silent"], ids=lambda how: f"one-{how}")
def test_a_sale_by_a_desk_with_exits_beside_a_live_desks_stop_waits(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, one: str
) -> None:
    one_ends = one == "ended"
    db = tmp_path / "desk.db"
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MEANREV)
    desk_one = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=RULE
    )
    three = None
    try:
        for _ in range(10):
            sandbox.admin.step(shock=SLIDE)
            two.run_iteration()
            settle(sandbox, two)
            desk_one.run_iteration()
            settle(sandbox, desk_one)
            if spy_held(trading) > 0 and working_stops(trading):
                break
        assert spy_held(trading) > 0 and working_stops(trading), "desk two bought, one protects"
        two.finish("stopped")
        three = alpaca_session(sandbox, db, symbols=("SPY",), learning=MEANREV, stop_loss=RULE)
        three.sync_orders()
        wait_until(lambda: three.broker.trading_ready() is None, what="desk three's stream")
        listing = three.broker.open_orders
        if one_ends:  # after desk three's listing was read: its stop works on at the broker
            desk_one.finish("stopped")
        if one == "silent":  # stopped (SIGSTOP, a hang) past its window: not known to be ended
            assert desk_one.audit.session is not None
            age_heartbeat(desk_one.audit.session.id, 40)

        def listing_without_the_stop() -> Any:
            """The listing, half a minute old: desk one's stop is not in it yet."""
            return [o for o in listing() if "-ps" not in o.client_order_id]

        three.broker.open_orders = listing_without_the_stop  # type: ignore[method-assign]
        release = three._release_stops
        crashed: list[bool] = []

        def stop_fills_first(symbol: str, side: Side | None = None, *args: Any) -> str | None:
            """Before desk three's first sale goes out, desk one's stop fills at the broker."""
            if side is Side.SELL and not crashed and working_stops(trading):
                crashed.append(True)
                sandbox.admin.step(shock=CRASH)
            return release(symbol, side, *args)

        three._release_stops = stop_fills_first  # type: ignore[method-assign]
        notes: list[str] = []
        for _ in range(12):
            sandbox.admin.step(shock=RISE)
            report = three.run_iteration()
            notes += report.notes if report else []
            if crashed:
                break
        assert crashed, "desk three never sold"
        sales = [
            o
            for o in sandbox_orders(trading)
            if "-ps" not in o.client_order_id and o.side.value == "sell"
        ]
        assert sales == [], "sold beside the stop"
        assert spy_held(trading) == 0
        said = {
            "runs": "which runs on this account",
            "ended": "was left working by session",
            "silent": "whose heartbeat went stale moments ago (stopped, hung or dead)",
        }[one]
        assert any(said in n for n in notes), notes
        assert one == "ended" or not any("ended moments ago" in n for n in notes), notes
    finally:
        for desk in (None if one_ends else desk_one, three):
            if desk is not None:
                desk.finish("stopped")
        for desk in (desk_one, two, three):
            if desk is not None:
                desk.broker.close()
