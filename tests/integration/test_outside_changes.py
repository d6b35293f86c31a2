"""Positions changed outside the session (a trade by hand at the broker) are said, not undone.

The session trades on the sandbox through the real alpaca-py client; "the user" buys shares
with a client of their own, as in Alpaca's dashboard. Before, the next cycle sold them again,
quietly: the rebalance saw more shares than its target and sent a sell for the difference.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alpaca.trading.requests import MarketOrderRequest

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, RiskEventRow, SessionRow
from tui_trader.tui.monitor import DbFollower

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}


def _spy_held(trading: Any) -> float:
    """SPY shares the broker holds."""
    return sum(float(p.qty) for p in trading.get_all_positions() if p.symbol == "SPY")


def test_shares_bought_by_hand_are_left_alone_and_said(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    session = alpaca_session(sandbox, tmp_path / "desk.db", learning=LearningSettings("momentum"))
    try:
        for _ in range(3):  # the rally: the session buys SPY and holds it
            sandbox.admin.step(shock=RALLY)
            session.run_iteration()
        own = _spy_held(trading)
        assert own > 0
        trading.submit_order(
            MarketOrderRequest(symbol="SPY", qty=50, side="buy", time_in_force="day")
        )
        notes = []
        for _ in range(3):  # the hand order fills with the next bar
            sandbox.admin.step(shock=RALLY)
            report = session.run_iteration()
            notes += list(report.notes)
        sells = LiveOrder.select().where((LiveOrder.symbol == "SPY") & (LiveOrder.side == "sell"))
        assert sells.count() == 0, "the session sold the shares bought by hand"
        assert _spy_held(trading) == own + 50
        events = list(RiskEventRow.select().where(RiskEventRow.event_type == OUTSIDE_CHANGE))
        assert len(events) == 1
        assert events[0].symbol == "SPY"
        assert f"the broker holds {own + 50:g}" in events[0].detail
        assert f"account for {own:g}" in events[0].detail
        assert any("SPY changed outside this session" in note for note in notes)
    finally:
        session.finish("stopped")
        session.broker.close()


def test_a_desk_killed_long_before_does_not_switch_the_judging_of_hand_trades_off(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A row left ``running`` on the account by a desk killed an hour before this session
    (a start records a dead desk ``died`` only when it takes its orders over) explains no
    shares now: 50 SPY bought by hand are still a change made outside, left alone and said.
    Counting every ``running`` row as a desk whose fills may be unrecorded switched this off
    for good on an account after one old kill."""
    db = tmp_path / "desk.db"
    first = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    account = first.audit.session.account_key
    first.finish("stopped")
    first.broker.close()
    long_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    SessionRow.create(  # the desk killed an hour ago, with no order left working
        key="killed01",
        mode="alpaca-paper",
        broker="alpaca",
        data_source="alpaca",
        symbols="SPY",
        parameters="{}",
        account_key=account,
        started_at=long_ago,
        heartbeat_at=long_ago,
        heartbeat_window=30.0,
    )
    session = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    try:
        _hold_spy_then_buy_50_by_hand(sandbox, trading, session)
        for _ in range(3):  # the hand order fills with the next bar
            sandbox.admin.step(shock=RALLY)
            session.run_iteration()
        sells = LiveOrder.select().where((LiveOrder.symbol == "SPY") & (LiveOrder.side == "sell"))
        assert sells.count() == 0, "the session sold the shares bought by hand"
        events = list(RiskEventRow.select().where(RiskEventRow.event_type == OUTSIDE_CHANGE))
        assert [e.symbol for e in events] == ["SPY"], "the trade by hand went unsaid"
    finally:
        session.finish("stopped")
        session.broker.close()


def _hold_spy_then_buy_50_by_hand(sandbox: SandboxHandle, trading: Any, session: Any) -> None:
    """The rally: the session buys SPY and holds it; then 50 SPY are bought by hand."""
    for _ in range(3):
        sandbox.admin.step(shock=RALLY)
        session.run_iteration()
    trading.submit_order(MarketOrderRequest(symbol="SPY", qty=50, side="buy", time_in_force="day"))


def test_a_symbol_left_alone_is_said_once_not_every_cycle(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Before, every cycle that wanted to trade SPY while it was left alone said again "sell
    50 SPY not sent: SPY changed outside this session ...": the terminal printed it once a bar
    all day (and the desk's log again whenever the quantity changed). Now it is said at the
    hold's onset; the one ``outside_change`` event stays the only row about it."""
    session = alpaca_session(sandbox, tmp_path / "desk.db", learning=LearningSettings("momentum"))
    try:
        _hold_spy_then_buy_50_by_hand(sandbox, trading, session)
        said = []
        for i in range(7):  # the hand order fills; then the market turns, the targets move
            sandbox.admin.step(shock={"SPY": 0.8 if i < 3 else -0.6})
            report = session.run_iteration()
            said += [n for n in report.notes if "SPY changed outside this session" in n]
        assert "SPY" in session.outside.holds
        assert len(said) == 1, said
        rows = RiskEventRow.select().where(RiskEventRow.symbol == "SPY")
        assert [r.event_type for r in rows] == [OUTSIDE_CHANGE]
    finally:
        session.finish("stopped")
        session.broker.close()


def test_the_monitor_marks_a_symbol_left_alone_as_the_desk_does(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """``tui-trader live monitor`` follows the session through its database. Before, its
    reports carried no left-alone symbols: the desk showed ``SPY*`` and "* SPY left alone:
    includes 50 shares not traded by this desk", the monitor a plain SPY row with the whole
    position's P&L as if the desk's. Now it reads them back from the session's recorded
    events: the same shares the session's own report gives, so the same mark and note."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    try:
        _hold_spy_then_buy_50_by_hand(sandbox, trading, session)
        for _ in range(3):  # the hand order fills; the change is confirmed and left alone
            sandbox.admin.step(shock=RALLY)
            report = session.run_iteration()
        assert report.not_desks == {"SPY": 50}
    finally:
        session.finish("stopped")
        session.broker.close()
    follower = DbFollower(db, session.audit.session.key)
    follower.open()
    followed = follower.poll()[-1]
    assert followed.iteration == report.iteration
    assert followed.not_desks == report.not_desks


def test_a_later_trade_by_hand_moves_the_left_alone_figure_in_the_trail_and_the_monitor(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """SPY is left alone with 50 shares bought by hand; later in the session 20 of them are
    sold by hand. The desk then says 30 shares are not its own. Before, the trail kept the
    first event's 50 and nothing more, so ``live monitor`` (which reads the trail) went on
    saying "includes 50 shares not traded by this desk" all session. Now a second
    ``outside_change`` event records the new figure, and the monitor says what the desk says."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    try:
        _hold_spy_then_buy_50_by_hand(sandbox, trading, session)
        for _ in range(3):  # the hand order fills; the change is confirmed and left alone
            sandbox.admin.step(shock=RALLY)
            report = session.run_iteration()
        assert report.not_desks == {"SPY": 50}
        trading.submit_order(
            MarketOrderRequest(symbol="SPY", qty=20, side="sell", time_in_force="day")
        )
        for _ in range(3):  # the hand sale fills; seen twice alike, it is recorded
            sandbox.admin.step(shock=RALLY)
            report = session.run_iteration()
        assert report.not_desks == {"SPY": 30}
    finally:
        session.finish("stopped")
        session.broker.close()
    events = list(RiskEventRow.select().where(RiskEventRow.event_type == OUTSIDE_CHANGE))
    assert [(e.symbol, e.value) for e in events] == [("SPY", 50.0), ("SPY", 30.0)]
    assert "changed outside the session again" in events[1].detail
    sells = LiveOrder.select().where((LiveOrder.symbol == "SPY") & (LiveOrder.side == "sell"))
    assert sells.count() == 0, "the session traded SPY while it was left alone"
    follower = DbFollower(db, session.audit.session.key)
    follower.open()
    assert follower.poll()[-1].not_desks == {"SPY": 30}
