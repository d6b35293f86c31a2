"""Two desks flattening the same shares on one Alpaca account never sell more than it holds.

A kill request with flatten is claimed by one session (``store.kill_requests``). A claimer
stalled past its heartbeat window in the middle of its flatten (SIGSTOP, a paused VM: here, the
other desk's whole cycle runs at the point where it had read the account and was about to send
its closes) is taken over by another desk of the account, which takes its symbol and the request
over and closes the position. When the first desk went on, it sold the same shares again on what
it had read before its stall: on an account that allows shorting (a paper account does), the
second market sell opened a short, the opposite of what a kill switch is for. Now each close is
sized against the account as the broker lists it just before the close goes out: held, less the
sells already working or in doubt (``Holding.closable``, the view hand closes use).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import age_heartbeat
from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import client
from tui_trader.cli import main
from tui_trader.core.domain import TradingState
from tui_trader.risk.merge import HALT_ADOPTED
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.halt_requests import write_halt_request
from tui_trader.store.models import HaltRequest

RALLY = {"SPY": 1.0}
PRESSED = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)


def _held(trading: Any) -> dict[str, float]:
    """Shares held at the sandbox, by symbol."""
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}


def rally_until_bought(sb: Any, desk: Any, trading: Any) -> None:
    """The rally: bars rising (at most six) until ``desk`` has bought SPY and its fill is
    recorded (the caller checks that it did)."""
    for _ in range(6):
        sb.admin.step(shock=RALLY)
        desk.run_iteration()
        settle(sb, desk)
        if _held(trading).get("SPY", 0.0) > 0:
            return


def _sells(trading: Any, symbol: str) -> list[float]:
    """The quantities of every sell order the sandbox received in ``symbol``."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest

    orders = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500))
    return [float(o.qty) for o in orders if o.symbol == symbol and o.side.value == "sell"]


def test_a_claimer_stalled_mid_flatten_and_taken_over_does_not_sell_the_shares_again(
    tmp_path: Path,
) -> None:
    db = tmp_path / "f.db"
    with running_sandbox() as sb:
        trading = client(sb)
        a = alpaca_session(sb, db, symbols=("SPY",))
        b = None
        try:
            rally_until_bought(sb, a, trading)  # desk A buys SPY
            held = _held(trading)["SPY"]
            assert held > 0
            b = alpaca_session(sb, db, symbols=("SPY",))  # SPY is A's: B leaves it alone
            b.run_iteration()
            assert b.audit.session is not None and a.audit.session is not None
            write_halt_request(b.audit.session.id, PRESSED, "monitor", "ctrl+k", True)
            HaltRequest.update(session=None).execute()  # for any session of the account
            flatten = a._flatten
            stalled: list[bool] = []

            def stalls_then_flattens(*args: Any, **kwargs: Any) -> Any:
                """A's flatten, after a stall past its heartbeat window during which desk B
                found it dead, took SPY and the request over, and closed the position."""
                if not stalled:
                    stalled.append(True)
                    assert a.audit.session is not None
                    age_heartbeat(a.audit.session.id, 600)
                    for _ in range(3):
                        b.run_iteration()
                    assert b.risk.state.halted
                return flatten(*args, **kwargs)

            a._flatten = stalls_then_flattens  # type: ignore[method-assign]
            report = a.apply_kill_requests()
            assert stalled, "A never reached its flatten"
            assert report is not None and report.state is TradingState.HALTED
            for _ in range(3):  # the closes fill with the next bars
                sb.admin.step()
                for session in (a, b):
                    session.sync_orders()
            settle(sb, a)
            assert _held(trading).get("SPY", 0.0) >= 0, "a flatten opened a short"
            assert _sells(trading, "SPY") == [held], "the same shares were sold twice"
        finally:
            a.broker.close()
            if b is not None:
                b.broker.close()


def test_two_live_desks_flattening_on_one_halt_sell_the_shares_once(tmp_path: Path) -> None:
    """Both desks of the account flatten on its halt (``--flatten-on-halt``), SPY in both
    desks' symbols (A's: B started after A bought it): desk A's halt and close land while desk B
    is between its halt's cancels and its closes. B's flatten closes SPY whole (a symbol both
    trade is closed whole by either), and it sold A's 20 shares again: -20 SPY."""
    db = tmp_path / "f.db"
    with running_sandbox() as sb:
        trading = client(sb)
        a = alpaca_session(sb, db, symbols=("SPY",), flatten_on_halt=True)
        b = None
        try:
            rally_until_bought(sb, a, trading)  # desk A buys SPY
            held = _held(trading)["SPY"]
            assert held > 0
            b = alpaca_session(sb, db, symbols=("SPY", "QQQ"), flatten_on_halt=True)
            for _ in range(2):
                sb.admin.step(shock=RALLY)
                b.run_iteration()
                a.run_iteration()
            settle(sb, a)
            held = _held(trading)["SPY"]
            flatten = b._flatten
            raced: list[bool] = []

            def a_closes_first(*args: Any, **kwargs: Any) -> Any:
                """B's flatten, desk A's halt and closes landing just before it."""
                if not raced:
                    raced.append(True)
                    a.run_iteration()
                    assert a.risk.state.halted
                return flatten(*args, **kwargs)

            b._flatten = a_closes_first  # type: ignore[method-assign]
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
            assert _held(trading).get("SPY", 0.0) >= 0, "a flatten opened a short"
            assert _sells(trading, "SPY") == [held], "the same shares were sold twice"
            (event,) = [e for e in report.risk_events if e.event_type == HALT_ADOPTED]
            assert "flattening 0 position(s)" in event.action_taken
        finally:
            a.broker.close()
            if b is not None:
                b.broker.close()
