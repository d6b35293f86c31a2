"""A halted desk with exits taking over the stop of a desk that stopped keeps that stop working.

Found by the crash25 campaign (three `live paper` desks on one sandbox account and one store,
a `fleet halt`, then every desk stopped): desk one bought IWM and placed its stop; desk two,
with exits too, saw the shares once (not its own fills: "looking again next cycle") before the
halt. A halted cycle does not look at positions again, so that first look stood for as long as
the halt lasted. Desk one stopped; desk two took its stop over (`exit_taken_over`), sized the
exit from its own fills (none) and cancelled it: 7 IWM held at the broker with no stop, and
neither the desk's end nor its history said so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.ended_stop import RALLY, RULE, working_stops
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.fleet_halts import halt_account
from tui_trader.store.models import RiskEventRow, database


def test_a_halted_desk_keeps_the_stop_it_takes_over(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk one buys SPY with its stop; desk two sees the shares once, the account is halted
    from the fleet, desk one stops. Desk two's next cycles and its end leave that stop
    working for every share held: the position is never left without one."""
    db = tmp_path / "desk.db"
    one = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=RULE
    )
    two = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=RULE
    )
    try:
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            one.run_iteration()
        settle(sandbox, one)
        held = {p.symbol: float(p.qty) for p in trading.get_all_positions()}.get("SPY", 0.0)
        assert held > 0 and [qty for qty, _ in working_stops(trading)] == [held]
        sandbox.admin.step()
        two.run_iteration()  # sees desk one's shares: not its fills, looked at again next cycle
        account = two.audit.session.account_key
        assert halt_account(database.obj, account, "tui-trader fleet halt", sessions=2).halted_now
        one.run_iteration()
        one.finish("stopped")
        one.broker.close()
        for _ in range(3):
            sandbox.admin.step()
            two.run_iteration()
            settle(sandbox, two)
            assert [qty for qty, _ in working_stops(trading)] == [held], "SPY without its stop"
        taken = RiskEventRow.select().where(RiskEventRow.event_type == "exit_taken_over")
        assert [e.symbol for e in taken] == ["SPY"]
    finally:
        two.finish("stopped")
        two.broker.close()
    assert [qty for qty, _ in working_stops(trading)] == [held]
