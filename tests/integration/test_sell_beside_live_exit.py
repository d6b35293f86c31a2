"""A desk without exits selling the shares whose stop another live desk keeps: the sale waits
while that stop works, so the two never both sell them (a short).

Desk two (no ``--stop-loss``) buys SPY and holds its claim; desk one (``--stop-loss``), on the
same store and account, keeps SPY's exit: its stop holds every share. Desk two's strategy then
sells. Before, the sale went out beside the stop: refused by the broker ("insufficient qty
available") while the stop worked, and when the stop filled between desk two's read of the
positions and its sale, the sale sold shares the account no longer held (the ``crash29``
campaign: short 19 SPY for 9 s). The sale now waits for the next cycle, said, while that stop
works in the desk's listing or is open in the store; that cycle reads the positions again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RULE, spy_held, working_stops
from tui_trader.core.orders import Side
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder

SLIDE = {"SPY": -0.8}
"""Bars of it make the mean-reversion desk buy SPY."""
RISE = {"SPY": 0.8}
"""Bars of it make it sell again."""
CRASH = {"SPY": -8.0}
"""A bar that fills desk one's 3% stop."""


def test_a_sale_beside_a_live_desks_stop_waits_and_never_goes_short(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk one's stop fills right as desk two sends its sale of the same shares: the account
    never goes short, and desk two's sale waited, saying whose stop held it."""
    db = tmp_path / "desk.db"
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=LearningSettings("meanrev"))
    one = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=RULE
    )
    release = two._release_stops
    crashed: list[bool] = []

    def stop_fills_first(symbol: str, side: Side | None = None, *args: Any) -> str | None:
        """Before desk two's first sale goes out, desk one's stop fills at the broker."""
        if side is Side.SELL and not crashed and working_stops(trading):
            crashed.append(True)
            sandbox.admin.step(shock=CRASH)
        return release(symbol, side, *args)

    two._release_stops = stop_fills_first  # type: ignore[method-assign]
    notes: list[str] = []
    try:
        for _ in range(10):
            sandbox.admin.step(shock=SLIDE)
            two.run_iteration()
            settle(sandbox, two)
            one.run_iteration()
            settle(sandbox, one)
            if spy_held(trading) > 0 and working_stops(trading):
                break
        assert spy_held(trading) > 0 and working_stops(trading), "desk two bought, one protects"
        for _ in range(12):
            sandbox.admin.step(shock=RISE)
            report = two.run_iteration()
            notes += report.notes if report else []
            if crashed:  # desk one's stop filled: desk one records it
                sent = [o for o in sandbox_orders(trading) if "-ps" not in o.client_order_id]
                assert [o.side.value for o in sent].count("sell") == 0, "sold beside the stop"
                assert spy_held(trading) == 0
                settle(sandbox, one)
                break
            settle(sandbox, two)
            one.run_iteration()
            settle(sandbox, one)
        assert crashed, "desk two never sold"
        assert any("waits for the next cycle" in n and "is kept by session" in n for n in notes)
        assert not LiveOrder.select().where(LiveOrder.status == "rejected").count()
    finally:
        for desk in (one, two):
            desk.finish("stopped")
            desk.broker.close()
