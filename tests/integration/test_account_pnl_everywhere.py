"""One realized PnL for a session of a shared account, wherever it is shown.

``report`` and ``history`` count the account's round trips rebuilt from its fills
(``reporting.account_trips``); the desk's line, ``live monitor``, ``pnl`` and ``live readiness``
summed each desk's own ``live_trades``, which on an account two desks and a hand trade are
not the same round trips: here desk A's own ledger kept the SPY desk B sold (B's sale of all
the account held), so A's next round trip was entered at a price averaged with shares gone,
and A's line said one profit where ``report`` said another. Each surface now reads
``reporting.account_pnl``, the same round trips, kept up to date by the fills since.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.cli_helpers import run_cli
from tests.integration.ended_stop import RALLY, spy_held
from tests.integration.test_late_fill_ledger import _by_hand
from tests.integration.test_unsettled_fill_once import MOMENTUM
from tui_trader.core.orders import Side
from tui_trader.reporting.account_trips import account_trips
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.db import open_database
from tui_trader.store.models import LiveTrade, SessionRow
from tui_trader.tui.monitor import DbFollower


def _reported(session_id: int) -> float:
    """What ``report`` counts as the session's realized PnL: its round trips' sum."""
    return sum(t.trade.pnl for t in account_trips([SessionRow.get_by_id(session_id)]))


def _own_ledger(session_id: int) -> float:
    """What the desk's own ledger booked (``live_trades``): what the surfaces summed."""
    return sum(float(t.pnl) for t in LiveTrade.select().where(LiveTrade.session == session_id))


def _pnl_total(tmp_path: Path, db: Path, key: str) -> float:
    """``tui-trader pnl``'s total realized PnL of one session."""
    done = run_cli(tmp_path, "pnl", "--db", str(db), "--session", key, "--period", "30d")
    assert done.returncode == 0, done.stderr
    [total] = [line for line in done.stdout.splitlines() if "total" in line]
    return float(re.findall(r"[+-][\d,]+\.\d\d", total)[0].replace(",", ""))


def _readiness_realized(tmp_path: Path, db: Path) -> float:
    """``tui-trader live readiness``'s realized PnL of the account's paper record."""
    done = run_cli(tmp_path, "live", "readiness", "--db", str(db))
    assert done.returncode in (0, 1), done.stderr
    [line] = [line for line in done.stdout.splitlines() if "realized PnL" in line]
    return float(re.search(r"realized PnL ([+-][\d,]+\.\d\d)", line)[1].replace(",", ""))


def test_two_desks_and_a_hand_show_the_realized_pnl_report_shows(
    sandbox: SandboxHandle, trading: Any, db_path: Path, tmp_path: Path
) -> None:
    from alpaca.trading.requests import MarketOrderRequest

    # 4 SPY bought by hand at the broker, before any desk: no fill of theirs recorded
    trading.submit_order(MarketOrderRequest(symbol="SPY", qty=4, side="buy", time_in_force="day"))
    sandbox.admin.step()
    wait_until(lambda: spy_held(trading) == 4, what="the buy by hand")
    b = alpaca_session(sandbox, db_path, symbols=("SPY",))
    a = alpaca_session(sandbox, db_path, symbols=("SPY",), learning=MOMENTUM)
    desks = (a, b)
    try:
        for _ in range(8):  # the rally: desk A buys SPY
            sandbox.admin.step(shock=RALLY)
            a.run_iteration()
            settle(sandbox, a)
            if spy_held(trading) > 4:
                break
        assert spy_held(trading) > 4, "desk A bought no SPY"
        sandbox.admin.step()
        b.run_iteration()  # B reads the account: the hand's 4 and A's SPY
        _by_hand(sandbox, b, Side.SELL, spy_held(trading))  # B sells all of it
        sandbox.admin.step(shock=RALLY)
        _by_hand(sandbox, a, Side.BUY, 5)  # A's own round trip of 5
        sandbox.admin.step(shock=RALLY)
        _by_hand(sandbox, a, Side.SELL, 5)
        assert spy_held(trading) == 0
        ids = [d.audit.session.id for d in desks]  # type: ignore[union-attr]
        keys = [d.audit.session.key for d in desks]  # type: ignore[union-attr]
        reported = [_reported(i) for i in ids]
        assert all(reported), reported  # each desk closed a round trip
        # the scene's point: A's own ledger booked another profit than the account's trips
        assert abs(_own_ledger(ids[0]) - reported[0]) > 0.01, (_own_ledger(ids[0]), reported)
        for desk, expected in zip(desks, reported, strict=True):  # the desk's line
            sandbox.admin.step()
            report = desk.run_iteration()
            assert report is not None and abs(report.realized_pnl - expected) < 1e-6
            assert abs(sum(report.realized_by_symbol.values()) - expected) < 1e-6
            assert abs(desk.realized_now() - expected) < 1e-6  # (its closing line)
    finally:
        for desk in desks:
            desk.finish("stopped")
            desk.broker.close()
    for key, expected in zip(keys, reported, strict=True):
        follower = DbFollower(db_path, key)  # ``live monitor`` following the session
        follower.open()
        try:
            [*_, last] = follower.poll()
            assert abs(last.realized_pnl - expected) < 1e-6, (key, last.realized_pnl, expected)
            assert abs(sum(last.realized_by_symbol.values()) - expected) < 1e-6
        finally:
            follower.db.close()
        assert abs(_pnl_total(tmp_path, db_path, key) - round(expected, 2)) < 0.006
    assert abs(_readiness_realized(tmp_path, db_path) - round(sum(reported), 2)) < 0.006
    store = open_database(db_path, create=False)  # the whole account: what report counts
    try:
        assert abs(sum(_reported(i) for i in ids) - sum(reported)) < 1e-9
    finally:
        store.close()
