"""Two desks of one Alpaca account flattening SPY on one halt: the close another desk sent and
that filled after this desk read the positions is not sold again.

A flatten sizes its close on the broker's positions and open orders read just before its closes
(``Holding.closable``). While desk B sends its closes, desk A's close of the same shares can
fill: B's reading still shows the shares, and neither its listing (read at most every 30 s
while the stream is up, and a filled order is no longer open anyway) nor the positions show A's
close. B's market sell of the whole position reached a flat account and opened a short (-20 SPY
on the sandbox, whose paper account, like Alpaca's, allows shorting). Every order has its row in
the store before it goes out, so B now reads the other live desks' closes there, right before
its own (``engine.sales_beside``, as a protective exit does): A's close is left out of B's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import client
from tests.integration.test_flatten_never_shorts import RALLY, _held, _sells, rally_until_bought
from tui_trader.cli import main
from tui_trader.core.domain import TradingState
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.pg_url import PgUrl


def _until_flat(trading: Any, symbol: str) -> None:
    """Wait (10 s at most) until the sandbox holds no ``symbol``."""
    deadline = time.monotonic() + 10
    while _held(trading).get(symbol, 0.0) != 0 and time.monotonic() < deadline:
        time.sleep(0.25)  # a poll with a deadline (the sandbox counts requests)
    assert _held(trading).get(symbol, 0.0) == 0, f"{symbol} still held"


def test_another_desks_close_filling_during_this_flatten_is_not_sold_again(
    store: Path | PgUrl,
) -> None:
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
            flatten, read = b._flatten, b.broker.positions
            flattening: list[bool] = []
            raced: list[bool] = []

            def flattens(*args: Any, **kwargs: Any) -> Any:
                flattening.append(True)
                return flatten(*args, **kwargs)

            def a_closes_after_the_read() -> Any:
                """B's flatten reading the positions; desk A's halt and close (which fills at
                once) landing just after."""
                positions = read()
                if flattening and not raced and "SPY" in positions:
                    raced.append(True)
                    a.run_iteration()
                    assert a.risk.state.halted
                    _until_flat(trading, "SPY")
                return positions

            b._flatten = flattens  # type: ignore[method-assign]
            b.broker.positions = a_closes_after_the_read  # type: ignore[method-assign]
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
            assert _held(trading).get("SPY", 0.0) >= 0, "a flatten opened a short"  # main: -20
            assert _sells(trading, "SPY") == [held], "the same shares were sold twice"
        finally:
            a.broker.close()
            if b is not None:
                b.broker.close()
