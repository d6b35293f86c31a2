"""A desk's sale beside another live desk's halt flatten close still open in the store: the sale
waits, said, until that close has ended.

Desk one (``--stop-loss``) holds SPY; desk two, on the same store and account, halts with
flatten: its close of SPY goes out. The halt is lifted (``risk reset``) while that close is still
working. The close fills; desk two has not recorded the fill yet (its row is open in the store),
and the positions desk one reads lag the fill (Alpaca's may) while its listing, up to half a
minute old, shows no close working. Before, desk one's store check before a sale
(``engine.live_exits``) read other live desks' exits only, not their flatten closes: its sale,
sized from the lagging positions, sold the shares the close had sold (the ``crash30b``
campaign, run 3009: short 4, then 8 IWM for about 10 s, and 4 QQQ). Now the sale waits while
the close's row is open, in one plain line; once that close has ended, the desk decides again
from positions that hold it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RULE, spy_held, working_stops
from tests.integration.test_sell_beside_live_exit import RISE, SLIDE
from tui_trader.cli import main
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import MANUAL_REFUSED, ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until

MEANREV = LearningSettings("meanrev")
MOMENTUM = LearningSettings("momentum")
HOLD = "flatten close"
"""Words of the line a sale held beside another desk's flatten close says."""


@contextmanager
def _desks(
    sandbox: SandboxHandle, trading: Any, db: Path
) -> Iterator[tuple[TradingSession, TradingSession]]:
    """Desk one holding SPY under its stop, desk two (no exits) on its store and account."""
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MEANREV, stop_loss=RULE)
    two = None
    try:
        for _ in range(12):
            sandbox.admin.step(shock=SLIDE)
            one.run_iteration()
            settle(sandbox, one)
            if spy_held(trading) > 0 and working_stops(trading):
                break
        assert spy_held(trading) > 0 and working_stops(trading), "desk one bought, protects"
        two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
        two.sync_orders()
        wait_until(lambda: two.broker.trading_ready() is None, what="desk two's stream")
        yield one, two
    finally:
        for desk in (one, two):
            if desk is not None:
                desk.finish("stopped")
                desk.broker.close()


def _sells(trading: Any, session: TradingSession) -> list[Any]:
    """The SPY sales of ``session`` the sandbox received (not its stops)."""
    key = session.audit.session.key
    return [
        o
        for o in sandbox_orders(trading)
        if key in (o.client_order_id or "")
        and str(o.side.value) == "sell"
        and str(o.order_type.value) != "stop"
    ]


def _stops(orders: list[Any]) -> list[Any]:
    """The stop orders among ``orders`` (a desk's listing)."""
    return [o for o in orders if o.order_type.value == "stop"]


def _half_closed(
    sandbox: SandboxHandle, trading: Any, db: Path, one: TradingSession, two: TradingSession
) -> tuple[float, dict[str, Any]]:
    """Desk two halts with flatten: its close fills half of desk one's SPY and works on; the
    halt is lifted (``risk reset``). SPY held before, and desk one's positions read then."""
    held = spy_held(trading)
    before = one.broker.positions()
    assert before["SPY"].qty == held
    sandbox.admin.set_faults(partial_rate=1.0, partial_bars=3)  # half now, half 3 bars on
    two.request_kill(reason="test", flatten=True)
    assert two.apply_kill_requests() is not None
    sandbox.admin.set_faults(partial_rate=0.0)
    assert 0 < spy_held(trading) < held, "desk two's close filled in part, still works"
    assert working_stops(trading) == [], "the halt's flatten cancelled desk one's stop"
    account = two.audit.session.account_key
    assert main(["risk", "reset", "--yes", "--db", str(db), "--account", account]) == 0
    return held, before


def test_a_sale_beside_another_desks_open_flatten_close_waits(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    with _desks(sandbox, trading, db) as (one, two):
        _, before = _half_closed(sandbox, trading, db, one, two)
        sold_before = len(_sells(trading, one))
        sandbox.admin.step(bars=3)  # the close's rest fills; desk two has not recorded it
        wait_until(lambda: spy_held(trading) == 0, what="the close's fill")
        one.broker.positions = lambda: before  # type: ignore[method-assign]
        listing = one.broker.open_orders

        def listing_without_the_close() -> Any:
            """The listing, half a minute old: it shows desk two's close no more (filled)."""
            return [o for o in listing() if "-flat" not in o.client_order_id]

        one.broker.open_orders = listing_without_the_close  # type: ignore[method-assign]
        notes: list[str] = []
        for _ in range(8):
            sandbox.admin.step(shock=RISE)
            report = one.run_iteration()
            notes += report.notes if report else []
            if any(HOLD in n for n in notes) or len(_sells(trading, one)) > sold_before:
                break
        assert len(_sells(trading, one)) == sold_before, "desk one sold beside the close"
        assert spy_held(trading) == 0, "short"
        said = [n for n in notes if HOLD in n]
        assert said and "SPY" in said[0] and "ended" in said[0], notes
        # the close recorded ended, the positions read agree: no wait, nothing sold
        two.sync_orders()
        del one.broker.positions
        notes = []
        sandbox.admin.step(shock=RISE)
        report = one.run_iteration()
        notes += report.notes if report else []
        assert not any(HOLD in n for n in notes), notes
        assert len(_sells(trading, one)) == sold_before and spy_held(trading) == 0


def test_a_hand_sale_beside_another_desks_open_flatten_close_waits(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The trader sells by hand on desk one what it sees free beside desk two's close (the
    shares held less that close's rest), the positions read lagging the close's first fill:
    refused in one line (before: sent, and sold shares the close sells); once the close has
    ended, the same sale is decided from the positions alone (nothing left to sell)."""
    db = tmp_path / "desk.db"
    with _desks(sandbox, trading, db) as (one, two):
        held, before = _half_closed(sandbox, trading, db, one, two)
        wait_until(  # desk one hears of its stop's cancel by the halt (no cancel of its own)
            lambda: (one.sync_orders(), not _stops(one.broker.open_orders()))[1],
            what="desk one to hear of its stop's cancel",
        )
        one.broker.positions = lambda: before  # type: ignore[method-assign]
        sold_before = len(_sells(trading, one))
        free = held - spy_held(trading)  # the shares held less the close's rest, as read
        one.request_manual_order(ManualOrder("SPY", Side.SELL, qty=free))
        report = one.apply_kill_requests()
        assert report is not None
        refused = [e.action_taken for e in report.risk_events if e.event_type == MANUAL_REFUSED]
        assert len(_sells(trading, one)) == sold_before, "desk one sold beside the close"
        assert [r for r in refused if r.startswith("manual sell SPY not sent: ")], (
            refused,
            report.notes,
        )
        assert HOLD in refused[0] and "until that close has ended" in refused[0], refused
        sandbox.admin.step(bars=3)  # the close's rest fills
        wait_until(lambda: spy_held(trading) == 0, what="the close's fill")
        two.sync_orders()  # desk two records it: the close has ended
        del one.broker.positions
        one.request_manual_order(ManualOrder("SPY", Side.SELL, qty=free))
        report = one.apply_kill_requests()
        words = " ".join(e.action_taken for e in report.risk_events) if report else ""
        assert HOLD not in words, words
        assert len(_sells(trading, one)) == sold_before and spy_held(trading) == 0
