"""A kill that flattens, whose closing order the broker rejects, says the position is open.

The halt's words counted every closing order it sent as "flattening N position(s)", a rejected
one too: after a kill with flatten the desk said it was closing a position Alpaca had refused
to close, and nothing tried again. Now a refused close is named in the halt's event, with the
broker's reason and what to do, and tried again every cycle until the position is closed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.test_alpaca_trading import RALLY, client_for
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.models import LiveOrder


def _hold_spy(sb: Any, session: Any) -> float:
    """A rally until the crossover buys SPY; the shares the broker holds then."""
    for _ in range(12):
        sb.admin.step(shock=RALLY)
        if session.run_iteration().orders_sent:
            break
    settle(sb, session)
    held = sb.admin.state()["positions"]["SPY"]
    assert held > 0
    return float(held)


def test_a_flatten_the_broker_rejects_is_said_not_closed(tmp_path: Path) -> None:
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "f.db", symbols=("SPY",))
        try:
            held = _hold_spy(sb, session)
            trading = client_for(sb)  # the account suspended at Alpaca (the dashboard)
            config = trading.get_account_configurations()
            config.suspend_trade = True
            trading.set_account_configurations(account_configurations=config)
            session.request_kill(reason="test", flatten=True)
            [halt] = [e for e in session.apply_kill_requests().risk_events if e.halts]
            assert "flattening 0 position(s)" in halt.action_taken, halt.action_taken
            assert f"NOT closed: {held:g} SPY (the broker rejected it: " in halt.action_taken
            assert "rejected by user request" in halt.action_taken  # Alpaca's reason
            assert "(tried again every cycle until closed; or close them" in halt.action_taken
            assert sb.admin.state()["positions"]["SPY"] == held
        finally:
            session.broker.close()


def test_a_flatten_the_broker_rejected_is_tried_again_until_closed(tmp_path: Path) -> None:
    """Before, a kill with flatten made one attempt: once the account could trade again the
    position stayed open, the desk halted and saying nothing more. Now the halt tries the
    close again every cycle (as it does a refused cancel) until the position is closed,
    never closing it twice."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "f.db", symbols=("SPY",))
        try:
            held = _hold_spy(sb, session)
            trading = client_for(sb)
            config = trading.get_account_configurations()
            config.suspend_trade = True
            trading.set_account_configurations(account_configurations=config)
            session.request_kill(reason="test", flatten=True)
            session.apply_kill_requests()
            assert "1 position(s) not closed yet: retrying" in session.halt_line()
            sb.admin.step()
            notes = list(session.run_iteration().notes)  # still suspended: tried, refused
            assert sb.admin.state()["positions"]["SPY"] == held
            config.suspend_trade = False  # the user lifts the suspension at Alpaca
            trading.set_account_configurations(account_configurations=config)
            for _ in range(3):
                sb.admin.step()
                notes += session.run_iteration().notes
                assert sb.admin.state()["positions"].get("SPY", 0) >= 0, "closed twice"
            settle(sb, session)
            assert sb.admin.state()["positions"].get("SPY", 0) == 0
            assert any("sent 1 closing order(s)" in note for note in notes), notes
            assert "not closed yet" not in session.halt_line()
        finally:
            session.broker.close()


def test_a_close_rejected_after_it_was_accepted_is_sent_again(tmp_path: Path) -> None:
    """Alpaca may accept an order and reject it a moment later (its risk checks, a halted
    symbol). Before, the halt counted the accepted close as closing and was done: the position
    stayed open, the desk halted and silent. Now the flatten is acted on again until a pass
    finds nothing left to close."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "f.db", symbols=("SPY",))
        try:
            held = _hold_spy(sb, session)
            sb.admin.set_faults(reject_rate=1.0)
            session.request_kill(reason="test", flatten=True)
            [halt] = [e for e in session.apply_kill_requests().risk_events if e.halts]
            assert "flattening 1 position(s)" in halt.action_taken  # accepted, for now
            sb.admin.step()
            session.run_iteration()  # the rejection arrives; the close is sent again
            assert sb.admin.state()["positions"]["SPY"] == held
            sb.admin.clear_faults()
            for _ in range(4):
                sb.admin.step()
                session.run_iteration()
                assert sb.admin.state()["positions"].get("SPY", 0) >= 0, "closed twice"
            settle(sb, session)
            assert sb.admin.state()["positions"].get("SPY", 0) == 0
            closes = LiveOrder.select().where(LiveOrder.client_order_id.endswith("-SPY-flat"))
            assert closes.count() >= 2
        finally:
            session.broker.close()


def test_a_flatten_acted_on_again_between_bars_sends_each_close_under_an_id_of_its_own(
    tmp_path: Path,
) -> None:
    """The runner acts on an unfinished halt after every wait, and a cycle without a new bar
    does too: between two bars, in the same cycle. The close sent again there took the
    client order id of the close the broker refused (``...-SPY-flat``, both), and its row
    broke the store's unique key: the exception ended the desk in the middle of its flatten,
    the position open. Now each close of the cycle has an id of its own."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "f.db", symbols=("SPY",))
        try:
            held = _hold_spy(sb, session)
            trading = client_for(sb)
            config = trading.get_account_configurations()
            config.suspend_trade = True
            trading.set_account_configurations(account_configurations=config)
            session.request_kill(reason="test", flatten=True)
            session.apply_kill_requests()
            assert "1 position(s) not closed yet: retrying" in session.halt_line()
            assert session.run_iteration() is not None  # no new bar: the halt acts again
            assert sb.admin.state()["positions"]["SPY"] == held
            config.suspend_trade = False  # the user lifts the suspension at Alpaca
            trading.set_account_configurations(account_configurations=config)
            again = session.apply_kill_requests()  # still no new bar
            assert again is not None
            [close] = [o for o in again.orders if o.symbol == "SPY"]
            assert close.qty == held
            settle(sb, session)
            assert sb.admin.state()["positions"].get("SPY", 0) == 0
            closes = LiveOrder.select().where(LiveOrder.client_order_id.contains("-SPY-flat"))
            legs = [(r.client_order_id.rsplit("-", 1)[1], r.status) for r in closes]
            refused, sold = ("flat", "rejected"), ("flat3", "filled")
            assert sorted(legs) == [refused, ("flat2", "rejected"), sold]
        finally:
            session.broker.close()


def test_a_flatten_closes_the_positions_when_the_days_orders_are_all_sent(
    tmp_path: Path,
) -> None:
    """The day's order limit stops a runaway desk from sending more; it must not keep the
    kill switch from closing what the desk holds. Before, the flatten's closes were refused
    by the limit ("2 orders sent today"), and the halt kept retrying a close it would never
    send, the position open until the next trading day. A close only shrinks what is held, as
    a protective exit does: it passes the limit, and is not counted against the day."""
    from tui_trader.risk.limits import RiskLimits

    with running_sandbox() as sb:
        limits = RiskLimits(max_orders_per_day=1)
        session = alpaca_session(sb, tmp_path / "f.db", symbols=("SPY",), limits=limits)
        try:
            held = _hold_spy(sb, session)
            assert session.risk.state.orders_today == 1  # the day's one order: the buy
            session.request_kill(reason="test", flatten=True)
            report = session.apply_kill_requests()
            [halt] = [e for e in report.risk_events if e.halts]
            assert "flattening 1 position(s)" in halt.action_taken, halt.action_taken
            assert "NOT closed" not in halt.action_taken
            [close] = [o for o in report.orders if o.symbol == "SPY"]
            assert close.qty == held
            settle(sb, session)
            assert "SPY" not in sb.admin.state()["positions"]
            assert session.risk.state.orders_today == 1, "the close was not counted"
        finally:
            session.broker.close()
