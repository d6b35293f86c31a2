"""A desk without exits that cancelled an ended desk's stop for a sell, the sell filled in
part, and the desk died: what the next start says of the shares left without a stop.

A sell that sold did the stop's work, so a start does not put that stop back
(``engine.stops_after_death``). But the dead desk may never have said what the sell left
without a stop (killed once its sell's partial fill was recorded), and the next start said
nothing either: the rest of the position had no stop, unsaid. Now a start without exits names
those shares NOT protected, once; a start with exits places a stop for them (as for every
position it finds without one). Sandbox, its fills in two parts.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import open_stops, spy_held
from tests.integration.ended_stop import RULE, ended_desk_alone
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import database


def _dead(db: Path, key: str) -> None:
    """The desk of session ``key`` is gone (its process ended, as a ``kill -9`` leaves it):
    its row, still ``running``, names a process that no longer exists."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET pid = ? WHERE key = ?", (int(done.stdout), key))
    conn.close()


@pytest.mark.parametrize("exits", [False, True], ids=["start-without-exits", "start-with-exits"])
def test_the_shares_a_dead_desks_partly_filled_sell_left_without_a_stop_are_named(
    sandbox: SandboxHandle, tmp_path: Path, exits: bool
) -> None:
    """The ended desk's stop covers all of SPY; a desk without exits sells half by hand (the
    stop cancelled first), a part of that sell fills, and the desk dies. The next start
    without exits says SPY is NOT protected, naming the shares no order closes (the half not
    offered); with exits, it places a stop for those shares."""
    db = tmp_path / "k.db"
    ended_desk_alone(sandbox, db)
    held = spy_held(sandbox)
    assert held >= 4 and len(open_stops(sandbox)) == 1
    two = alpaca_session(sandbox, db, symbols=("SPY",))
    try:
        settle(sandbox, two)
        sandbox.admin.set_faults(partial_rate=1, partial_bars=50)  # the rest fills much later
        two.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held // 2))
        two.apply_kill_requests()
        sandbox.admin.step()  # a part of the market sell fills on the next bar
        settle(sandbox, two)
        now = spy_held(sandbox)
        assert 0 < held - now < held // 2, (held, now)  # sold in part
        assert open_stops(sandbox) == []
        key = two.audit.session.key
    finally:
        two.broker.close()
        database.obj.close()
    _dead(db, key)
    bare = held - held // 2  # the shares no order closes
    if exits:
        again = alpaca_session(sandbox, db, symbols=("QQQ",), stop_loss=RULE)
        again.broker.close()
        [stop] = open_stops(sandbox)
        assert float(stop.qty) == bare, "the start protects what no order closes"
        return
    again = alpaca_session(sandbox, db, symbols=("QQQ",))
    again.broker.close()
    words = [e.action_taken for e in again.startup_events if e.symbol == "SPY"]
    said = [w for w in words if w.startswith("SPY is NOT protected")]
    assert said and f"{bare:g} of the {now:g} shares held have no stop" in said[0], words
    assert open_stops(sandbox) == [], "a start without exits placed a stop"
    later = alpaca_session(sandbox, db, symbols=("QQQ",))  # said once, not at every start
    later.broker.close()
    assert not [e for e in later.startup_events if "NOT protected" in e.action_taken]
