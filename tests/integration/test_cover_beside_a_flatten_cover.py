"""A buy to cover beside another live desk's halt flatten close that buys the same short back:
the buy waits, said, until that close has ended (``test_sale_beside_a_flatten_close``'s
mirror).

The account is short SPY; desk one (which took the short as its own at its start) and desk two
share its store. Desk two halts with flatten: its buy to cover fills in part and works on; the
halt is lifted (``risk reset``). The trader covers by hand on desk one what it sees short beside
that close (the short less the close's rest), the positions read lagging the close's first fill
(Alpaca's may). Before, the hold before an order read other desks' flatten closes that sell only:
the cover went out, and once the close's rest filled the account was long 5 SPY, bought by no
desk's choice (``holds32``). Now it is refused in one line while the close's row is open; once
the close has ended, no order waits beside it. Desk one's strategies (long only), covering the
short at its next bar, wait the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tests.integration.ended_stop import spy_held
from tui_trader.cli import main
from tui_trader.core.orders import Side
from tui_trader.engine.live_exits import flatten_close_hold
from tui_trader.engine.manual_orders import MANUAL_REFUSED, ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until

HOLD = "flatten close"
"""Words of the line an order held beside another desk's flatten close says."""


def _buys(trading: Any, session: TradingSession) -> list[Any]:
    """The SPY buys of ``session`` the sandbox received."""
    key = session.audit.session.key
    return [
        o
        for o in sandbox_orders(trading)
        if key in (o.client_order_id or "") and str(o.side.value) == "buy"
    ]


def _refusals(report: Any) -> list[str]:
    """The hand orders refused in ``report``, in its words."""
    events = report.risk_events if report is not None else []
    return [e.action_taken for e in events if e.event_type == MANUAL_REFUSED]


@contextmanager
def cover_half_filled(
    sandbox: SandboxHandle, trading: Any, db: Path, rest_in: int
) -> Iterator[tuple[TradingSession, TradingSession]]:
    """The scene of the holds beside a flatten cover: the account short 10 SPY, desks one and
    two on ``db`` each taking the short as theirs; desk two halts with flatten, its cover fills
    half now and the rest ``rest_in`` bars on, the halt lifted (``risk reset``); desk one's
    positions read lags that fill (it still sees the whole short). Yields (one, two); both
    finished after."""
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
        assert before["SPY"].qty == -10
        sandbox.admin.set_faults(partial_rate=1.0, partial_bars=rest_in)  # half now
        two.request_kill(reason="test", flatten=True)
        assert two.apply_kill_requests() is not None
        sandbox.admin.set_faults(partial_rate=0.0)
        assert spy_held(trading) == -5, "desk two's cover filled in part, still works"
        account = two.audit.session.account_key
        assert main(["risk", "reset", "--yes", "--db", str(db), "--account", account]) == 0
        one.broker.positions = lambda: before  # type: ignore[method-assign]  # lagging
        yield one, two
    finally:
        for desk in desks:
            desk.finish("stopped")
            desk.broker.close()


def test_a_cover_beside_another_desks_open_flatten_cover_waits(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    with cover_half_filled(sandbox, trading, tmp_path / "desk.db", rest_in=3) as (one, two):
        account = two.audit.session.account_key
        # desk one's strategies (long only) cover the short at its next bar
        sandbox.admin.step()
        report = one.run_iteration()
        notes = report.notes if report else []
        assert _buys(trading, one) == [], "desk one's strategy covered beside the close"
        said = [n for n in notes if HOLD in n]
        assert said and said[0].startswith("buy ") and "still buys back SPY" in said[0], notes
        # the trader covers by hand what desk one sees short beside that close
        one.request_manual_order(ManualOrder("SPY", Side.BUY, qty=5))
        refused = _refusals(one.apply_kill_requests())
        assert _buys(trading, one) == [], "desk one covered by hand beside the close"
        assert [r for r in refused if r.startswith("manual buy SPY not sent: ")], refused
        assert HOLD in refused[0] and "still buys back SPY" in refused[0], refused
        assert "until that close has ended" in refused[0], refused
        sandbox.admin.step(bars=3)  # the close's rest fills
        wait_until(lambda: spy_held(trading) == 0, what="the close's fill")
        assert spy_held(trading) == 0, "one cover of the short: flat, never long"

        def close_ended() -> bool:
            two.sync_orders()  # desk two records the fill once its stream has told it
            return flatten_close_hold(account, "SPY", one.audit.session.id, "buy") is None

        wait_until(close_ended, what="desk two's record of its close's end")
