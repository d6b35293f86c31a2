"""Two desks of one Alpaca account flattening SPY on one halt, both reading the store before
either close's row is in it: one close goes out, not two.

Right before each close, a flatten reads the other live desks' closes from the store
(``HaltFlatten._closed_beside``, flatten29). Desk B read there, found nothing, and before its
close's row went in desk A's whole flatten ran: A read the store (B's row not in it yet), sold
the position and its sell filled; B then sold the whole position too, on a flat account: a
short (-N SPY on the sandbox, which allows shorting as Alpaca's paper accounts do). Now each
close is claimed in the store after its row is written and before it goes out
(``engine.close_claims``): B's claim finds A's moved on, B's close is not sent and says why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import client
from tests.integration.test_flatten_beside_store import _until_flat
from tests.integration.test_flatten_never_shorts import RALLY, _held, _sells, rally_until_bought
from tui_trader.cli import main
from tui_trader.core.domain import TradingState
from tui_trader.core.orders import OrderStatus
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.pg_url import PgUrl


def test_two_flattens_reading_the_store_at_once_send_one_close(store: Path | PgUrl) -> None:
    """On one SQLite file, and on one PostgreSQL store."""
    db = store
    with running_sandbox() as sb:
        trading = client(sb)
        a = alpaca_session(sb, db, symbols=("SPY",), flatten_on_halt=True)
        b = None
        try:
            rally_until_bought(sb, a, trading)  # desk A buys SPY
            b = alpaca_session(sb, db, symbols=("SPY", "QQQ"), flatten_on_halt=True)
            for _ in range(2):
                sb.admin.step(shock=RALLY)
                b.run_iteration()
                a.run_iteration()
            settle(sb, a)
            held = _held(trading)["SPY"]
            assert held > 0
            beside = b._closed_beside
            raced: list[bool] = []

            def a_flattens_after_the_read(symbol: str, *args: Any) -> float:
                """B has read the store for SPY (nothing of A's there); A's halt, its flatten
                and its close's fill land before B's close row is written."""
                seen = beside(symbol, *args)
                if symbol == "SPY" and not raced:
                    raced.append(True)
                    a.run_iteration()
                    assert a.risk.state.halted
                    _until_flat(trading, "SPY")
                return seen

            b._closed_beside = a_flattens_after_the_read  # type: ignore[method-assign]
            assert b.audit.session is not None
            halt = ["fleet", "halt", "--session", b.audit.session.key, "--yes", "--db", str(db)]
            assert main(halt) == 0  # the account's halt, taken by both desks
            report = b.run_iteration()
            assert raced and report is not None and report.state is TradingState.HALTED
            for _ in range(3):
                sb.admin.step()
                for session in (a, b):
                    session.sync_orders()
            settle(sb, a)
            assert _held(trading).get("SPY", 0.0) >= 0, "a flatten opened a short"
            assert _sells(trading, "SPY") == [held], "the same shares were sold twice"
            unsent = [
                o for o in report.orders if o.symbol == "SPY" and o.status is OrderStatus.REJECTED
            ]
            assert unsent and "another desk's flatten close" in (unsent[0].reject_reason or "")
        finally:
            a.broker.close()
            if b is not None:
                b.broker.close()
