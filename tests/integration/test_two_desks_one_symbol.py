"""Two desks on one account and one database, trading the same symbols on the same bar.

Both read the broker's positions, both saw nothing held, and both bought the target: the
account held twice what either desk meant (past the position limit each had checked alone),
and the next bar one of them sold the surplus again. Now the symbol's claim in the store
(``engine.claims``) makes it one desk's: the other, whose reading went stale when the first
took the symbol, sends nothing and says why, once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, day_count_and_orders, sandbox_orders
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder
from tui_trader.store.pg_url import PgUrl

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}


def _held(trading: Any) -> dict[str, float]:
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}


def _after_reading(session: TradingSession, then: Callable[[], Any]) -> list[Any]:
    """Make ``session``'s next positions read run ``then`` right after it (the other desk's
    whole cycle, between this desk's reading and its orders); what ``then`` gave."""
    read = session.broker.positions
    out: list[Any] = []

    def positions() -> Any:
        held = read()
        if not out:
            out.append(then())
        return held

    session.broker.positions = positions  # type: ignore[method-assign]
    return out


def _desks(sandbox: SandboxHandle, db: Path | PgUrl) -> tuple[TradingSession, TradingSession]:
    learning = LearningSettings("momentum")
    return alpaca_session(sandbox, db, learning=learning), alpaca_session(
        sandbox, db, learning=learning
    )


def test_two_desks_on_one_bar_buy_the_target_once(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """On one SQLite file, and on one PostgreSQL store (desks on two machines)."""
    one, two = _desks(sandbox, store)
    try:
        for _ in range(2):  # quiet bars: both desks hold nothing
            sandbox.admin.step()
            one.run_iteration()
            two.run_iteration()
        sandbox.admin.step(shock=RALLY)
        first = _after_reading(two, one.run_iteration)
        second = two.run_iteration()
        assert first[0].orders_sent == 3  # desk one bought SPY, QQQ and IWM
        target = _held(trading)
        assert second.orders_sent == 0, "desk two bought again on a stale reading"
        said = [n for n in second.notes if "is traded by another session on this account" in n]
        assert len(said) == 3 and any(n.startswith("buy ") and " SPY not sent" in n for n in said)
        notes: list[str] = []
        for _ in range(3):  # the rally goes on: both desks hold the target, nobody sells
            sandbox.admin.step(shock=RALLY)
            notes += one.run_iteration().notes
            notes += two.run_iteration().notes
        assert _held(trading) == target
        sells = LiveOrder.select().where(LiveOrder.side == "sell")
        assert sells.count() == 0
        assert LiveOrder.select().count() == 3
        assert not [n for n in notes if "is traded by another session" in n]  # said once
    finally:
        for s in (one, two):
            s.finish("stopped")
            s.broker.close()


def test_a_desk_that_disagrees_leaves_the_symbol_to_the_desk_trading_it(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk one (momentum) buys into a rally; desk two on the same account (mean reversion)
    wants none of it. Before, desk two sold what desk one had bought, and desk one bought it
    again: each round trip paid the spread, and the account's position changed every bar. Now
    the symbol is desk one's while it runs: desk two sends nothing there and says so once."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    two = alpaca_session(sandbox, db, learning=LearningSettings("meanrev"))
    try:
        for _ in range(6):  # the rally: desk one buys first (desk two is between cycles)
            sandbox.admin.step(shock=RALLY)
            if one.run_iteration().orders_sent:
                break
        held = _held(trading)
        assert sorted(held) == ["IWM", "QQQ", "SPY"]
        notes: list[str] = []
        for _ in range(4):  # desk two (mean reversion) would sell what went up so fast
            sandbox.admin.step(shock=RALLY)
            one.run_iteration()
            report = two.run_iteration()
            assert report.orders_sent == 0, "desk two traded against desk one"
            notes += report.notes
        left = [n for n in notes if "is traded by another session on this account" in n]
        assert len(left) == 3, notes  # once per symbol, not every bar
        assert _held(trading) == held
    finally:
        for s in (one, two):
            s.finish("stopped")
            s.broker.close()


def test_a_stopped_desks_symbols_are_the_next_desks(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """While desk one runs, its symbols are its own; once it stops (or is killed) its claims
    bind nobody, and desk two trades them."""
    one, two = _desks(sandbox, tmp_path / "desk.db")
    try:
        for _ in range(2):
            sandbox.admin.step()
            one.run_iteration()
            two.run_iteration()
        sandbox.admin.step(shock=RALLY)
        assert one.run_iteration().orders_sent == 3
        assert two.claims is not None
        two.claims.begin(two.audit.session.key)
        held = two.claims.take("SPY", "buy 1 SPY")
        assert held is not None and "SPY is traded by another session" in held
        one.finish("stopped")
        one.broker.close()
        two.claims.begin(two.audit.session.key)
        assert two.claims.take("SPY", "buy 1 SPY") is None
    finally:
        two.finish("stopped")
        two.broker.close()


def test_two_desks_with_stops_keep_one_stop_per_position(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Both desks run with --stop-loss. Before, each kept "the" stop of the account's
    position: one resized or cancelled the other's, and the new stops (and the strategies'
    own orders) were refused for want of shares, every cycle. Now the stop is the symbol's
    owner's: one stop per position, no order refused."""
    db = tmp_path / "desk.db"
    rule = StopRule(pct=3.0)
    one = alpaca_session(sandbox, db, learning=LearningSettings("momentum"), stop_loss=rule)
    two = alpaca_session(sandbox, db, learning=LearningSettings("momentum"), stop_loss=rule)
    try:
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            one.run_iteration()
            two.run_iteration()
        held = _held(trading)
        assert sorted(held) == ["IWM", "QQQ", "SPY"]
        stops = [o for o in sandbox_orders(trading) if o.order_type.value == "stop"]
        working = [o for o in stops if o.status.value in ("new", "accepted", "pending_new")]
        assert sorted(o.symbol for o in working) == sorted(held), "one stop per position"
        assert {o.symbol: float(o.qty) for o in working} == held
        rejected = LiveOrder.select().where(LiveOrder.status == "rejected")
        assert [row.client_order_id for row in rejected] == []
    finally:
        for s in (one, two):
            s.finish("stopped")
            s.broker.close()


def test_beside_an_owner_without_exits_one_desk_keeps_the_stop(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """Desk one trades the symbols and keeps no exits; desks two and three keep stops. Before,
    both believed the exit theirs: desk three's stops were refused for want of shares ("NOT
    protected", every one) beside desk two's, and it went on resizing a stop it had not sent.
    Now the first to take a symbol's exit row keeps its stop; the other leaves it, said once.
    On one SQLite file, and on one PostgreSQL store."""
    rule = StopRule(pct=3.0)
    one = alpaca_session(sandbox, store, learning=LearningSettings("momentum"))
    two = alpaca_session(sandbox, store, learning=LearningSettings("momentum"), stop_loss=rule)
    three = alpaca_session(sandbox, store, learning=LearningSettings("momentum"), stop_loss=rule)
    try:
        notes: list[str] = []
        events: list[Any] = []
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            for desk in (one, two, three):
                report = desk.run_iteration()
                notes += report.notes
                events += report.risk_events
        held = _held(trading)
        assert sorted(held) == ["IWM", "QQQ", "SPY"]
        stops = [o for o in sandbox_orders(trading) if o.order_type.value == "stop"]
        working = [o for o in stops if o.status.value in ("new", "accepted", "pending_new")]
        assert {o.symbol: float(o.qty) for o in working} == held
        assert len(working) == 3, "one stop per position"
        rejected = LiveOrder.select().where(LiveOrder.status == "rejected")
        assert [row.client_order_id for row in rejected] == []
        assert not [e for e in events if e.event_type == "protective_stop"]
        key = two.audit.session.key.split("_")[0]
        assert all(o.client_order_id.startswith(f"tt-{two.audit.session.key}-") for o in working)
        left = [n for n in notes if f"its protective exit is kept by session {key}" in n]
        assert sorted(n.split(":")[0] for n in left) == ["IWM", "QQQ", "SPY"]  # once each
    finally:
        for s in (one, two, three):
            s.finish("stopped")
            s.broker.close()


def test_orders_held_for_another_desk_do_not_spend_the_accounts_daily_order_count(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The day's order limit counts the orders sent. A desk that leaves a symbol to the desk
    trading it sends nothing, but the gate had counted the order before the claim was asked:
    each held order, every cycle, took one of the account's orders for the day (three
    desks with a limit of 2 stopped after one real order; with the default 100, a desk held on
    three symbols used the account's whole day in about 33 cycles)."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    two = alpaca_session(sandbox, db, learning=LearningSettings("meanrev"))
    try:
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            if one.run_iteration().orders_sent:
                break
        sent = LiveOrder.select().count()
        assert sent == 3
        for _ in range(5):  # desk two would sell all three every bar: held, nothing sent
            sandbox.admin.step(shock=RALLY)
            one.run_iteration()
            assert two.run_iteration().orders_sent == 0
        assert LiveOrder.select().count() == sent
        counted, made = day_count_and_orders(one)  # (the trading session's: see the helper)
        assert counted == made, "held orders were counted"
        assert two.risk.state.orders_today == counted
    finally:
        for s in (one, two):
            s.finish("stopped")
            s.broker.close()


def test_a_desks_flatten_leaves_another_desks_closes_working(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Two desks of one account, each holding its own symbol, both flatten on a halt. The
    flatten cancelled every open order on the account before sending its closes, the other
    desk's closes too; each retry of either desk then cancelled the other's new close, and
    neither position was sure to close. A close of any desk's flatten only shrinks what is
    held: a flatten leaves it working."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"))
    two = alpaca_session(sandbox, db, symbols=("QQQ",), learning=LearningSettings("momentum"))
    try:
        for _ in range(8):  # the rally: each desk buys its own symbol
            sandbox.admin.step(shock=RALLY)
            one.run_iteration()
            two.run_iteration()
            if set(_held(trading)) == {"SPY", "QQQ"}:
                break
        assert set(_held(trading)) == {"SPY", "QQQ"}
        # a close fills half at once and the rest 50 bars later: working while the other
        # desk flattens (a market out of hours, a thin book)
        sandbox.admin.set_faults(partial_rate=1.0, partial_bars=50)
        one.request_kill(reason="test", flatten=True)
        first = one.apply_kill_requests()
        assert first is not None
        [spy_close] = [o for o in first.orders if o.symbol == "SPY"]  # working until a bar
        two.request_kill(reason="test", flatten=True)
        second = two.apply_kill_requests()
        assert second is not None
        assert [o.symbol for o in second.orders if o.status.value != "canceled"] == ["QQQ"]
        spy = [o for o in sandbox_orders(trading) if o.client_order_id == spy_close.client_order_id]
        assert [str(o.status.value) for o in spy] == ["partially_filled"], (
            "desk two cancelled desk one's close"
        )
        sandbox.admin.set_faults(reset=True)
        for _ in range(60):  # the rest of both closes fills
            if not _held(trading):
                break
            sandbox.admin.step()
        assert _held(trading) == {}
    finally:
        for s in (one, two):
            s.finish("stopped")
            s.broker.close()
