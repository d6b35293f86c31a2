"""Two desks on one account and one database, trading the same symbols on the same bar.

Both read the broker's positions, both saw nothing held, and both bought the target: the
account held twice what either desk meant (past the position limit each had checked alone),
and the next bar one of them sold the surplus again. Now the symbol's claim in the store
(``engine.claims``) lets one desk act on a reading: the other, whose reading went stale when
the first sent its order, sends nothing and says why, once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
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
        said = [n for n in second.notes if "another session on this account is trading" in n]
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
        assert not [n for n in notes if "another session on this account is trading" in n]
    finally:
        for s in (one, two):
            s.finish("stopped")
            s.broker.close()


def test_a_stopped_desks_claims_bind_nobody(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk one buys into a rally, its orders half filled and still working: desk two may not
    trade those symbols (one's orders may still fill), and sends nothing on that bar. Desk one
    then stops with its orders still working (or is killed): its claims bind nobody."""
    one, two = _desks(sandbox, tmp_path / "desk.db")
    try:
        for _ in range(2):
            sandbox.admin.step()
            one.run_iteration()
            two.run_iteration()
        sandbox.admin.set_faults(partial_rate=1.0)
        sandbox.admin.step(shock=RALLY)
        assert one.run_iteration().orders_sent == 3
        assert two.run_iteration().orders_sent == 0
        assert two.claims is not None
        two.claims.begin(two.audit.session.key, two.broker)
        held = two.claims.take("SPY", "buy 1 SPY")
        assert held is not None and "another session on this account is trading SPY" in held
        one.finish("stopped")
        one.broker.close()
        two.claims.begin(two.audit.session.key, two.broker)
        assert two.claims.take("SPY", "buy 1 SPY") is None
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_desk_lets_go_of_a_symbol_between_bars_once_its_order_ended(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A desk on long bars (daily) fills its order in seconds, and its next cycle is a day
    away: the symbol is the others' again while it waits for that bar, not a day later."""
    one, two = _desks(sandbox, tmp_path / "desk.db")
    try:
        for _ in range(2):
            sandbox.admin.step()
            one.run_iteration()
            two.run_iteration()
        sandbox.admin.step(shock=RALLY)
        assert one.run_iteration().orders_sent == 3
        assert two.claims is not None
        two.claims.begin(two.audit.session.key, two.broker)
        assert two.claims.take("SPY", "buy 1 SPY")  # one's order: not known to have ended yet
        one.run_iteration()  # no new bar: desk one waits, and hears its orders filled
        two.claims.begin(two.audit.session.key, two.broker)
        assert two.claims.take("SPY", "buy 1 SPY") is None
    finally:
        for s in (one, two):
            s.finish("stopped")
            s.broker.close()
