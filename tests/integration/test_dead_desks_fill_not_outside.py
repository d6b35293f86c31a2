"""A desk killed before it recorded its own fill: the shares are not a change made outside.

Found by the crash25 campaign (three `live paper` desks on one sandbox account and one store,
kill -9 at seeded moments): desk one's buy of 8 IWM filled and desk one was killed before it
recorded the fill, its row still `running`. Desk two, with exits, found the shares with no
live session beside it and no ended session's open row to explain them (a killed desk's rows
are left to the next start's reconciliation), and called them a change made outside: IWM left
alone for the rest of its session, its exit covering 0 shares. It kept the symbol's exit row,
so the desks started after it left IWM's exit to it: 8 IWM without a stop to the end, and the
only words said a trade by hand had made them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.ended_stop import RALLY, RULE, spy_held, working_stops
from tui_trader.core.orders import Side
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, RiskEventRow


def test_a_killed_desks_unrecorded_fill_keeps_its_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk one's buy of SPY fills at the broker and desk one is killed before it hears of it.
    Desk two, with a stop loss, takes the shares as this store's desks' (not a change made
    outside: no ``outside_change``) and keeps a stop working for every share held."""
    db = tmp_path / "desk.db"
    one = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=RULE
    )
    two = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=RULE
    )
    try:
        for _ in range(8):
            sandbox.admin.step(shock=RALLY)
            report = one.run_iteration()
            if any(o.side is Side.BUY for o in report.orders):
                break
        else:
            raise AssertionError("desk one never bought SPY")
        simulate_death(one)  # killed as its buy went out: it records nothing more
        one.broker.close()
        sandbox.admin.step()  # the buy fills
        held = spy_held(trading)
        assert held > 0
        [row] = LiveOrder.select().where(LiveOrder.side == "buy")
        assert row.filled_qty == 0, "desk one was not to hear of its fill"
        for _ in range(4):
            sandbox.admin.step()
            two.run_iteration()  # (no settle: desk one's row stays open, as it left it)
        outside = RiskEventRow.select().where(RiskEventRow.event_type == "outside_change")
        assert [e.detail for e in outside] == []
        assert [qty for qty, _ in working_stops(trading)] == [held], "SPY without its stop"
    finally:
        two.finish("stopped")
        two.broker.close()
