"""A cancel Alpaca keeps refusing during a halt: tried every cycle, said once, on the halt line.

A halt whose "cancel all orders" Alpaca answers with a refusal for an order (a 500 in its 207:
"no longer cancelable", or busy being replaced) stays unfinished and tries the cancel again at
every cycle and wake (``test_halt_cancel_retried``). Each of those tries added the same note,
"the halt acted again now that the broker answers: cancelled 0 open order(s)", to every cycle's
report and every wake's: wrong (nothing was cancelled, the broker had answered all along) and
repeated all day. Now the refusal is said once (in the halt's own event), the retries that
change nothing are silent, and the halt line the desk shows says what may still be working
until the cancel goes through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, working_spy_limit
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import RiskEventRow

CYCLES = 4
"""Cycles (each followed by a wake) run while Alpaca refuses the cancel."""
LEFT = "1 order(s) may still be working: cancel refused, retrying"


def test_a_refused_cancel_is_retried_every_cycle_and_said_once(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    session = alpaca_session(sandbox, tmp_path / "once.db")
    client = session.broker.client
    calls = {"cancel all": 0}
    cancel_orders = client.cancel_orders

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls["cancel all"] += 1
        return cancel_orders(*args, **kwargs)

    client.cancel_orders = counted
    try:
        working_spy_limit(session, sandbox, qty=7)
        sandbox.admin.set_faults(cancel_refuse_rate=1)  # every cancel of it is refused
        session.request_kill(reason="test")
        killed = session.apply_kill_requests()
        [halt] = [e for e in killed.risk_events if e.halts]
        assert "the broker refused to cancel 1 order(s)" in halt.action_taken
        assert killed.halt.endswith(f"({LEFT})"), killed.halt
        tries = calls["cancel all"]

        notes: list[str] = []
        for _ in range(CYCLES):
            sandbox.admin.step()
            report = session.run_iteration()
            assert report.halt.endswith(f"({LEFT})"), report.halt  # the halt line stays honest
            notes += report.notes
            woken = session.apply_kill_requests()  # the runner's wake after its wait
            if woken is not None:
                notes += woken.notes
        assert calls["cancel all"] - tries == 2 * CYCLES, "the cancel is tried at every turn"
        assert notes == [], "a refusal already said is not said again"
        assert sandbox.admin.state()["orders"]["open"] == 1
        assert RiskEventRow.select().count() == 1  # the halt's own event, nothing more

        sandbox.admin.clear_faults()  # Alpaca takes the cancel now
        sandbox.admin.step()
        done = session.run_iteration()
        assert "the halt acted again: cancelled 1 open order(s)" in done.notes, done.notes
        assert "may still be working" not in done.halt, done.halt
        assert sandbox.admin.state()["orders"]["open"] == 0
        assert session.apply_kill_requests() is None  # finished: not tried again

        sandbox.admin.step(shock={"SPY": -5.0})  # the price falls through the old limit
        session.run_iteration()
        assert filled_by_order() == {}
    finally:
        session.broker.close()


def test_a_kill_the_broker_does_not_answer_at_all_says_so_on_the_halt_line(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The kill's first read (the positions) already goes unanswered: the halt stands, its
    cancels are tried again later, and the halt line says orders may still be working (it
    said only the halt's reason) until they went through."""
    from requests import ConnectionError as Dropped

    session = alpaca_session(sandbox, tmp_path / "silent.db")
    client = session.broker.client
    try:
        working_spy_limit(session, sandbox, qty=7)
        read = client.get_all_positions

        def silent(*args: Any, **kwargs: Any) -> Any:
            raise Dropped("connection dropped")

        client.get_all_positions = silent
        session.request_kill(reason="test")
        killed = session.apply_kill_requests()
        assert killed.halt.endswith("the broker did not answer the cancel, retrying)"), killed.halt
        assert sandbox.admin.state()["orders"]["open"] == 1

        client.get_all_positions = read  # it answers again
        again = session.apply_kill_requests()
        assert again is not None and "may still be working" not in again.halt, again.halt
        assert sandbox.admin.state()["orders"]["open"] == 0
    finally:
        session.broker.close()
