"""A new session finds positions changed while no session ran: said at start, not undone.

The sandbox account is traded through the real alpaca-py client. One session buys SPY in a
rally and stops; "the user" then buys SPY by hand, as in Alpaca's dashboard overnight. Before,
the next session rebalanced the broker's whole position to its target at its first cycle and
sold the hand's shares without a word. Now the session compares the broker's position with
what this account's fills in the audit database make, says the difference once at start, and
leaves SPY alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alpaca.trading.requests import MarketOrderRequest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE, POSITIONS_ADOPTED
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, RiskEventRow

RALLY = {"SPY": 0.8}


def _session(sandbox: SandboxHandle, db: Path, **settings: Any) -> TradingSession:
    """A momentum session on SPY (it buys in a rally). The rate limits are lifted (the
    sandbox's and the desk's own budget): the test's requests share the key with the
    session's, and only the time would change."""
    sandbox.admin.set_faults(rate_limit=0)
    momentum = LearningSettings("momentum")
    fast = {"requests_per_minute": 60_000.0}
    return alpaca_session(sandbox, db, symbols=("SPY",), learning=momentum, **fast, **settings)


def _spy_held(trading: Any) -> float:
    """SPY shares the broker holds."""
    return sum(float(p.qty) for p in trading.get_all_positions() if p.symbol == "SPY")


def _first_session_rallies(sandbox: SandboxHandle, db: Path) -> None:
    """A session trades three bars of a rally, its orders settle, and it stops."""
    first = _session(sandbox, db)
    try:
        for _ in range(3):
            sandbox.admin.step(shock=RALLY)
            first.run_iteration()
        settle(sandbox, first)
    finally:
        first.finish("stopped")
        first.broker.close()


def _first_session_buys(sandbox: SandboxHandle, trading: Any, db: Path) -> float:
    """A session buys SPY in the rally and stops; then 50 SPY are bought by hand and fill.
    The shares the session bought."""
    _first_session_rallies(sandbox, db)
    own = _spy_held(trading)
    assert own > 0
    trading.submit_order(MarketOrderRequest(symbol="SPY", qty=50, side="buy", time_in_force="day"))
    sandbox.admin.step(shock=RALLY)  # the hand's order fills with the bar
    assert _spy_held(trading) == own + 50
    return own


def _second_session_trades(
    sandbox: SandboxHandle, db: Path, **settings: Any
) -> tuple[list[Any], list[str]]:
    """A new session on ``db`` runs three cycles of the rally: its start-up events, and the
    notes of its cycles."""
    second = _session(sandbox, db, **settings)
    notes: list[str] = []
    try:
        for _ in range(3):
            sandbox.admin.step(shock=RALLY)
            report = second.run_iteration()
            if report is not None:
                notes += report.notes
        return list(second.startup_events), notes
    finally:
        second.finish("stopped")
        second.broker.close()


def _desk_spy_orders_since(row_id: int) -> list[LiveOrder]:
    """The desk's orders in SPY written after row ``row_id``."""
    return list(LiveOrder.select().where((LiveOrder.id > row_id) & (LiveOrder.symbol == "SPY")))


def test_shares_bought_by_hand_between_sessions_are_said_at_start_and_left_alone(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    own = _first_session_buys(sandbox, trading, db)
    last = LiveOrder.select().order_by(LiveOrder.id.desc()).get().id
    startup, notes = _second_session_trades(sandbox, db)
    assert _desk_spy_orders_since(last) == [], "the new session traded against the hand's shares"
    assert _spy_held(trading) == own + 50
    [event] = [e for e in startup if e.event_type == OUTSIDE_CHANGE]
    assert event.symbol == "SPY" and event.value == 50
    assert f"the broker holds {own + 50:g}" in event.detail
    assert f"this account's fills in this database make {own:g}" in event.detail
    assert RiskEventRow.select().where(RiskEventRow.event_type == OUTSIDE_CHANGE).count() == 1
    assert any("SPY changed outside this session" in note for note in notes), notes


def test_a_session_on_another_database_file_leaves_the_accounts_shares_alone(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The store was wiped (here: another file): nothing says the shares are the desk's."""
    own = _first_session_buys(sandbox, trading, tmp_path / "old.db")
    startup, _ = _second_session_trades(sandbox, tmp_path / "new.db")
    assert LiveOrder.select().where(LiveOrder.symbol == "SPY").count() == 0
    assert _spy_held(trading) == own + 50
    [event] = [e for e in startup if e.event_type == OUTSIDE_CHANGE]
    assert event.value == own + 50
    assert "this database has no earlier session on this account" in event.detail


def test_a_new_session_trades_on_when_the_broker_holds_what_its_fills_make(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """No change outside: no event, and the new session trades SPY as before."""
    db = tmp_path / "same.db"
    _first_session_rallies(sandbox, db)
    startup, notes = _second_session_trades(sandbox, db)
    assert [e for e in startup if e.event_type == OUTSIDE_CHANGE] == []
    assert not [n for n in notes if "outside" in n], notes


def test_with_adopt_positions_the_hand_shares_become_the_desks_own_for_good(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """``--adopt-positions``: the difference is written as ``positions_adopted``, the symbol is
    traded as usual, and the next session (without the flag) finds nothing to say."""
    db = tmp_path / "adopt.db"
    own = _first_session_buys(sandbox, trading, db)
    startup, notes = _second_session_trades(sandbox, db, adopt_positions=True)
    assert [e.event_type for e in startup if e.symbol == "SPY"] == [POSITIONS_ADOPTED]
    [adopted] = [e for e in startup if e.symbol == "SPY"]
    assert adopted.value == 50 and f"recorded fills make {own:g}" in adopted.detail
    assert not [n for n in notes if "outside" in n], notes
    third = _session(sandbox, db)
    try:
        assert [e for e in third.startup_events if e.event_type == OUTSIDE_CHANGE] == []
        assert third.outside.holds == {}
    finally:
        third.finish("stopped")
        third.broker.close()


def _said_of(events: list[Any], symbol: str) -> list[str]:
    """The start-up events that speak of ``symbol``: their type and what they say."""
    return [
        f"{e.event_type}: {e.detail}"
        for e in events
        if e.symbol == symbol or f"{symbol} " in (e.detail or "")
    ]


def test_one_fact_at_start_is_one_event_and_a_difference_only_the_snapshot_sees_stays(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Shares bought by hand between two sessions differ from the account's recorded fills
    and from the last snapshot alike: one ``outside_change`` event says it (before, the
    reconciliation's "positions differ from the last snapshot" said the same SPY difference
    again beside it). QQQ, bought by hand too but not traded by this session (no exits), is
    judged by no one else: the reconciliation still names it."""
    db = tmp_path / "desk.db"
    own = _first_session_buys(sandbox, trading, db)
    trading.submit_order(MarketOrderRequest(symbol="QQQ", qty=7, side="buy", time_in_force="day"))
    sandbox.admin.step()  # the hand's order fills with the bar
    startup, _ = _second_session_trades(sandbox, db)
    [said] = _said_of(startup, "SPY")
    assert said.startswith(f"{OUTSIDE_CHANGE}: SPY: the broker holds {own + 50:g}"), said
    [qqq] = _said_of(startup, "QQQ")
    assert qqq.startswith("reconciliation: positions differ from the last snapshot"), qqq
    assert "QQQ 0 recorded vs 7 at the broker" in qqq and "SPY" not in qqq
    rows = [f"{r.event_type}: {r.detail}" for r in RiskEventRow.select()]
    assert len([r for r in rows if "SPY " in r and "differ" in r]) == 0, rows
