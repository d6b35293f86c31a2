"""A close by hand on one desk while another desk of the account flattens the same position on
the account's halt: one of the two closes goes out, not both.

A close by hand reads the store for other desks' working orders, then the positions, then
cancels the symbol's exits (a confirmed cancel: up to seconds at Alpaca), then writes its row and
sends. Another desk's flatten on the account's halt read the store in between (the hand close's
row not in it yet), sold the whole position and its sell filled: the close by hand, sized from
its earlier reading, then sold the same shares again on the flat account, a short (-N SPY on
the sandbox, which allows shorting as Alpaca's paper accounts do). Before, a flatten's close and
a protective exit were claimed on the symbol's close row (``engine.close_claims``) but a close
by hand was not. Now its close rows are read before the store and the positions, and right
before the send the row is checked (not moved: a desk selling by hand often would keep another
desk's exit from going out, ``test_stop_beside_a_busy_desk``): a close claimed since leaves it
unsent, said in plain words (read the account again), its day's order slot given back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import client
from tests.integration.test_flatten_beside_store import _until_flat
from tests.integration.test_flatten_never_shorts import _held, _sells, rally_until_bought
from tui_trader.cli import main
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.pg_url import PgUrl


def test_a_close_by_hand_and_a_flatten_read_before_either_sells_once(
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
            b = alpaca_session(sb, db, symbols=("SPY",))
            for _ in range(2):
                sb.admin.step()
                b.run_iteration()
                a.run_iteration()
            settle(sb, a)
            settle(sb, b)
            held = _held(trading)["SPY"]
            assert held > 0
            release = b._release_stops
            raced: list[bool] = []

            def a_flattens_meanwhile(symbol: str, *args: Any) -> str | None:
                """B has read the store and the positions for its close by hand; A's halt, its
                flatten and its close's fill land before B's close row is written."""
                if symbol == "SPY" and not raced:
                    raced.append(True)
                    a.run_iteration()
                    assert a.risk.state.halted
                    _until_flat(trading, "SPY")
                    # A records its close's fill: the close's row ends, so the hold beside an
                    # open flatten close (``engine.live_exits``) lets B through, and only the
                    # close row's check stands between B and a second sale
                    settle(sb, a)
                return release(symbol, *args)

            b._release_stops = a_flattens_meanwhile  # type: ignore[method-assign]
            assert a.audit.session is not None
            halt = ["fleet", "halt", "--session", a.audit.session.key, "--yes", "--db", str(db)]
            assert main(halt) == 0  # the account's halt (desk A flattens on it)
            b.run_iteration()  # desk B takes the account's halt
            count = b.risk.state.orders_today
            b.request_close("SPY")
            report = b.run_iteration()
            assert report is not None
            assert raced, [(e.event_type, e.detail, e.action_taken) for e in report.risk_events]
            for _ in range(3):
                sb.admin.step()
                for session in (a, b):
                    session.sync_orders()
            settle(sb, a)
            assert _held(trading).get("SPY", 0.0) >= 0, "a close by hand opened a short"
            assert _sells(trading, "SPY") == [held], "the same shares were sold twice"
            said = " ".join(e.detail for e in report.risk_events)
            assert "not sent: another desk's flatten close of SPY" in said, said
            assert b.risk.state.orders_today == count, "a close not sent spent one of the day's"
        finally:
            a.broker.close()
            if b is not None:
                b.broker.close()
