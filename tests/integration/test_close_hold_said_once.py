"""A strategy's order held beside another desk's flatten close is said once, at the hold's
onset, not at every cycle while that close works.

The account is short SPY; desk one and desk two take it as theirs. Desk two halts with flatten:
its cover fills in part and works on (the rest 3 bars later); the halt is lifted. Desk one's
strategies (long only) would cover the short: each bar they wait beside that close
(``engine.live_exits``, ``holds32``). Before, the same line was in every cycle's notes for as
long as the close worked (a dead desk's close, queued overnight, said it every bar all night),
where every other hold of the desk is said at its onset only (``engine.said_once``,
``review32d``). Now it is said in the first held cycle's notes, and again only if it changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.ended_stop import spy_held
from tests.integration.test_cover_beside_a_flatten_cover import HOLD, _buys
from tui_trader.cli import main
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until


def test_a_strategys_hold_beside_a_flatten_close_is_said_once(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    request = MarketOrderRequest(
        symbol="SPY", qty=10, side=OrderSide.SELL, time_in_force=TimeInForce.DAY
    )
    trading.submit_order(request)  # the account's short, before any desk starts
    wait_until(lambda: spy_held(trading) == -10, what="the short sale's fill")
    desks: list[TradingSession] = []
    try:
        for name in ("meanrev", "momentum"):  # both take the short as theirs at the start
            desk = alpaca_session(
                sandbox, db, symbols=("SPY",), learning=LearningSettings(name), adopt_positions=True
            )
            desks.append(desk)
            desk.sync_orders()
        one, two = desks
        wait_until(lambda: two.broker.trading_ready() is None, what="desk two's stream")
        before = one.broker.positions()
        sandbox.admin.set_faults(partial_rate=1.0, partial_bars=5)  # the rest 5 bars on
        two.request_kill(reason="test", flatten=True)
        assert two.apply_kill_requests() is not None
        sandbox.admin.set_faults(partial_rate=0.0)
        assert spy_held(trading) == -5, "desk two's cover filled in part, still works"
        account = two.audit.session.account_key
        assert main(["risk", "reset", "--yes", "--db", str(db), "--account", account]) == 0
        one.broker.positions = lambda: before  # type: ignore[method-assign]  # lagging
        said: list[list[str]] = []
        for _ in range(3):  # three bars while the close's rest works
            sandbox.admin.step()
            report = one.run_iteration()
            said.append([n for n in (report.notes if report else []) if HOLD in n])
        assert _buys(trading, one) == [], "desk one's strategy covered beside the close"
        assert len(said[0]) == 1 and "still buys back SPY" in said[0][0], said
        assert said[1:] == [[], []], "the same hold said again at every cycle"
    finally:
        for desk in desks:
            desk.finish("stopped")
            desk.broker.close()
