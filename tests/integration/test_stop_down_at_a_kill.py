"""A desk killed (``kill -9``) after it cancelled a position's protective stop for a sell by
hand, before that sell went out: the next start must find the position without its stop.

The cancel before an order is remembered in memory only until the order's fate is known
(``engine.stop_release``); a real child process is killed at three moments of that window:
right after the broker confirmed the stop's cancel (before the desk recorded it), right before
the sell's POST (the cancel recorded), and right after the cancel a kill switch with flatten
made before its close. The next start on the same store and account is checked.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from alpaca.trading.enums import OrderSide

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import (
    buy_and_protect,
    client,
    open_sells,
    open_stops,
    spy_held,
)
from tests.integration.ended_stop import RULE, ended_desk_alone
from tests.integration.sandbox_requests import market
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.db import from_db_time, to_db_time
from tui_trader.store.models import LiveOrder
from tui_trader.store.pg_url import PgUrl

SETTLE = 3.0
"""The restarted desk's settle window: a sell whose POST left as its desk was killed is in
doubt for this long after its row was written, longer than a restart takes here."""

_CHILD = """
import sys
import threading
from pathlib import Path

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import AdminClient, SandboxHandle
from tui_trader.store.pg_url import parse_db_url

base, trading, data, key, secret, db, exits, moment = sys.argv[1:]
store = parse_db_url(db) if db.startswith("postgresql") else Path(db)
sb = SandboxHandle(base, trading, data, key, secret, AdminClient(base, key, secret), None)
rule = StopRule(pct=3.0) if exits == "exits" else None
desk = alpaca_session(sb, store, symbols=("SPY",), stop_loss=rule)
broker = desk.broker
cancel, submit = broker.cancel, broker.submit


def held_here(what):
    print(what, flush=True)
    sys.stdin.read()  # until killed


def cancelled(cid, confirm=False):
    done = cancel(cid, confirm=confirm)
    if moment in ("cancel", "halt"):
        held_here("cancelled " + cid)
    return done


def sending(request):
    if moment == "send" and request.side is Side.SELL:
        held_here("sending " + request.client_order_id)
    return submit(request)


pause = threading.Event()
for _ in range(600):  # the stream connected at the start: its back-fill done first
    desk.sync_orders()
    if broker.trading_ready() is None:
        break
    pause.wait(0.05)
broker.cancel, broker.submit = cancelled, sending
held = desk.broker.positions()["SPY"].qty
if moment == "halt":  # the kill switch with flatten: the stop cancelled before its close
    desk.request_kill(flatten=True)
else:
    desk.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held))
report = desk.apply_kill_requests()
said = [] if report is None else [*report.notes, *(e.action_taken for e in report.risk_events)]
print("not held: " + " | ".join(said), flush=True)
"""


def _killed_at(sb: SandboxHandle, db: Path | PgUrl, folder: Path, exits: str, moment: str) -> str:
    """Run the child desk on ``db`` (``exits``: with ``--stop-loss 3``, or ``none``); kill it
    with SIGKILL at ``moment``; what it said it was held at."""
    script = folder / "desk.py"
    script.write_text(_CHILD)
    argv = [sb.base_url, sb.trading_stream_url, sb.data_stream_url, sb.key_id, sb.secret]
    root = Path(__file__).resolve().parents[2]
    err = folder / "desk.err"
    child = subprocess.Popen(
        [sys.executable, str(script), *argv, str(db), exits, moment],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},  # a script's folder is its sys.path
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=err.open("w"),
        text=True,
    )
    try:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], 90)  # never wait forever
        said = child.stdout.readline().strip() if ready else "(nothing in 90 s)"
        assert said.startswith(("cancelled", "sending")), f"{said}; {err.read_text()[-2000:]}"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
    return said


def _until_a_stop(sb: SandboxHandle, desk: TradingSession) -> list[str]:
    """Flat bars, one cycle each (half a second apart: the key's requests a minute), until a
    stop works at the sandbox (the notes and events said meanwhile): the sell in doubt
    settles once the desk's window (``SETTLE``) is over."""
    said: list[str] = []
    pause = threading.Event()

    def back() -> bool:
        pause.wait(0.5)
        sb.admin.step()
        report = desk.run_iteration()
        if report is not None:
            said.extend([*report.notes, *(e.action_taken for e in report.risk_events)])
        return bool(open_stops(sb))

    wait_until(back, timeout=30, what="the stop placed again")
    return said


@pytest.mark.parametrize("moment", ["cancel", "send", "halt"])
def test_a_desk_with_exits_killed_between_its_stops_cancel_and_a_sell_gets_the_stop_back(
    sandbox: SandboxHandle, tmp_path: Path, moment: str
) -> None:
    """``--stop-loss 3``: the next start (the same options) finds SPY held and no stop at the
    broker, and places one for the whole position: at once, or, if the sell's POST may have
    gone out and is still in doubt at the start (its settle window, ``SETTLE``, not over
    yet), once the broker says it never got it, saying meanwhile that SPY is NOT
    protected."""
    db = tmp_path / "k.db"
    first = buy_and_protect(sandbox, db, protected=open_stops, shock=1.0)
    first.finish("stopped")
    first.broker.close()
    held = spy_held(sandbox)
    [stop] = open_stops(sandbox)
    _killed_at(sandbox, db, tmp_path, "exits", moment)
    assert open_stops(sandbox) == [] and spy_held(sandbox) == held, "killed with its stop down"
    again = alpaca_session(sandbox, db, symbols=("QQQ",), stop_loss=RULE, settle_window=SETTLE)
    try:
        words = [e.action_taken for e in again.startup_events]
        if not open_stops(sandbox):  # the sell still in doubt at the start: said, not silent
            assert moment == "send", words
            assert any("SPY is NOT protected" in w for w in words), words
            _until_a_stop(sandbox, again)
        [back] = open_stops(sandbox)
        assert float(back.qty) == held and back.client_order_id != stop.client_order_id
        row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
        assert row.status == "canceled"
    finally:
        again.broker.close()


@pytest.mark.parametrize("moment", ["cancel", "send", "halt"])
def test_a_desk_without_exits_killed_after_cancelling_an_ended_desks_stop_puts_it_back(
    sandbox: SandboxHandle, tmp_path: Path, store: Path | PgUrl, moment: str
) -> None:
    """A desk that keeps no exits cancels the stop an ended desk left before its sell by hand,
    and is killed before the sell goes out. The next start (no exits either) must not leave
    the position without that stop, unsaid: it places it again at its price, for the shares
    held, and says so: at once, or, if the sell's POST may have gone out (in doubt), once the
    broker says it never got it, saying meanwhile that SPY is NOT protected. Before, the
    position stayed without its stop for good, and nothing said so."""
    db = store  # a SQLite file, then a PostgreSQL database
    ended_desk_alone(sandbox, db)
    held = spy_held(sandbox)
    [stop] = open_stops(sandbox)
    assert held > 0 and float(stop.qty) == held
    _killed_at(sandbox, db, tmp_path, "none", moment)
    assert open_stops(sandbox) == [] and spy_held(sandbox) == held, "killed with its stop down"
    again = alpaca_session(sandbox, db, symbols=("QQQ",), settle_window=SETTLE)
    try:
        words = [e.action_taken for e in again.startup_events if e.symbol == "SPY"]
        if not open_stops(sandbox):  # the sell still in doubt at the start: said, not silent
            assert moment == "send", words
            assert any("SPY is NOT protected" in w for w in words), words
            words += _until_a_stop(sandbox, again)
        assert any("placed again" in w for w in words), words
        [back] = open_stops(sandbox)
        assert (float(back.qty), float(back.stop_price)) == (held, float(stop.stop_price))
    finally:
        again.broker.close()


def test_a_stop_dropped_for_a_sell_that_went_out_is_not_put_back_by_the_next_start(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The other side: a desk without exits cancels the ended desk's stop, sells half of SPY
    by hand (filled) and stops; what the sell left has no stop, as that desk said (it keeps
    no exits). The next start without exits places nothing: the stop's row is not taken for
    one a dead desk failed to put back."""
    db = tmp_path / "k.db"
    ended_desk_alone(sandbox, db)
    held = spy_held(sandbox)
    two = alpaca_session(sandbox, db, symbols=("SPY",))
    try:
        settle(sandbox, two)
        two.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held // 2))
        two.apply_kill_requests()
        sandbox.admin.step()  # the market sell fills on the next bar
        settle(sandbox, two)
        assert spy_held(sandbox) == held - held // 2 and open_stops(sandbox) == []
    finally:
        two.finish("stopped")
        two.broker.close()
    again = alpaca_session(sandbox, db, symbols=("QQQ",))
    again.broker.close()
    assert open_stops(sandbox) == [], "the stop the sell dropped came back"
    assert not [e for e in again.startup_events if "placed again" in e.action_taken]


def _by_hand_at_the_broker(sandbox: SandboxHandle, side: OrderSide, qty: float) -> None:
    """``side`` ``qty`` SPY at market, by hand at the broker (nothing of it in any desk's
    store), filled on the next bar."""
    client(sandbox).submit_order(market("SPY", qty, side))
    sandbox.admin.step()
    wait_until(lambda: not open_sells(sandbox) and not _open_buys(sandbox), timeout=10, what="fill")


def _open_buys(sandbox: SandboxHandle) -> list[object]:
    """The sandbox's working buy orders."""
    return [
        o for o in client(sandbox).get_orders() if str(getattr(o.side, "value", o.side)) == "buy"
    ]


def test_a_dropped_stop_a_start_found_nothing_to_close_for_never_comes_back_on_later_shares(
    sandbox: SandboxHandle, tmp_path: Path, store: Path | PgUrl
) -> None:
    """A desk without exits is killed after cancelling an ended desk's stop; the trader then
    sells SPY at the broker, and a start without exits finds nothing to put that stop back on.
    Weeks later SPY is bought again: the next start must not give the new shares that old
    stop, at its old price (it could sell them at once). Before, the dropped stop's row stayed
    a candidate for good, and that start placed it on the new shares."""
    db = store  # a SQLite file, then a PostgreSQL database
    ended_desk_alone(sandbox, db)
    held = spy_held(sandbox)
    _killed_at(sandbox, db, tmp_path, "none", "cancel")
    assert open_stops(sandbox) == [] and spy_held(sandbox) == held, "killed with its stop down"
    _by_hand_at_the_broker(sandbox, OrderSide.SELL, held)
    assert spy_held(sandbox) == 0
    between = alpaca_session(sandbox, db, symbols=("QQQ",))  # nothing to put back
    between.finish("stopped")
    between.broker.close()
    _by_hand_at_the_broker(sandbox, OrderSide.BUY, held)
    assert spy_held(sandbox) == held
    again = alpaca_session(sandbox, db, symbols=("QQQ",))
    again.broker.close()
    words = [e.action_taken for e in again.startup_events if e.symbol == "SPY"]
    assert open_stops(sandbox) == [] and spy_held(sandbox) == held, words
    assert not [w for w in words if "placed again" in w], words


def test_a_stop_placed_on_a_clock_ahead_still_finds_the_sell_it_was_cancelled_for(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The ended desk that placed SPY's stop ran on a machine whose clock was ten minutes
    ahead of the killed desk's (the store is shared: PostgreSQL). The killed desk cancelled
    that stop and was killed as its sell's POST left; the next start must still find that
    sell, in doubt, and say SPY is NOT protected while it may fill. Before, the sell was
    looked for among the rows written "after" the stop by their clocks: none was, so the
    start took the sell for never written and said nothing while the position had no stop."""
    db = tmp_path / "k.db"
    ended_desk_alone(sandbox, db)
    [stop] = open_stops(sandbox)
    _killed_at(sandbox, db, tmp_path, "none", "send")
    assert open_stops(sandbox) == [], "killed with its stop down"
    ahead = LiveOrder.client_order_id == stop.client_order_id  # its desk's clock: 10 min on
    placed = from_db_time(LiveOrder.get(ahead).timestamp)
    assert placed is not None
    LiveOrder.update(timestamp=to_db_time(placed + timedelta(minutes=10))).where(ahead).execute()
    again = alpaca_session(sandbox, db, symbols=("QQQ",), settle_window=60.0)
    try:
        words = [e.action_taken for e in again.startup_events if e.symbol == "SPY"]
        assert open_stops(sandbox) == [], "a stop placed beside the sell in doubt"
        assert any("SPY is NOT protected" in w for w in words), words
    finally:
        again.broker.close()


def test_a_stop_put_back_after_the_price_fell_through_it_sells_at_market_and_says_so(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A desk without exits is killed right after cancelling an ended desk's stop; SPY then
    falls 10%, through that stop's price. The next start must not put the stop back at its old
    price above the market (the broker refuses a sell stop at or above the market, and the
    position was said NOT protected, tried again every cycle, for as long as the price stayed
    below): it sells at market, as the stop would have, and says so. Before, the start sent
    the stop, the broker refused it, and SPY stayed held with no stop."""
    db = tmp_path / "k.db"
    ended_desk_alone(sandbox, db)
    held = spy_held(sandbox)
    [stop] = open_stops(sandbox)
    _killed_at(sandbox, db, tmp_path, "none", "cancel")
    sandbox.admin.step(shock={"SPY": -10.0})  # through the stop, which is cancelled: no fill
    assert spy_held(sandbox) == held
    again = alpaca_session(sandbox, db, symbols=("QQQ",))
    try:
        words = [e.action_taken for e in again.startup_events if e.symbol == "SPY"]
        said = [w for w in words if "already through its stop" in w]
        assert said and f"sell {held:g} SPY at market instead" in said[0], words
        assert f"{float(stop.stop_price):.2f}" in said[0], words
        assert not [w for w in words if "NOT protected" in w], words
        sandbox.admin.step()  # the market sell fills on the next bar
        wait_until(lambda: spy_held(sandbox) == 0, timeout=10, what="the market sell filled")
        assert open_stops(sandbox) == []
    finally:
        again.broker.close()
