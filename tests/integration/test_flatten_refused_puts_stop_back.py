"""A kill that flattens, on a desk that keeps no exits, puts back the stop it cancelled when the
close does not go out.

Desk two keeps no exits and holds SPY under the stop desk one left when it stopped (taken over
with the symbol). A kill with flatten cancels that stop (the close needs its shares) and sends
the close. Before, when the broker refused the close (the account's trading suspended for the
moment), no stop ever came back: the position was left without one for good, and the halt said
"cancelled 0 open order(s)" though it had cancelled the stop. Now the stop goes back at once at
its price, said and audited, and the halt counts it; a close in doubt gets no stop beside it
(both could sell the shares), said NOT protected until the doubt settles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.test_stop_put_back import (
    _ended_desks_stop,
    _held,
    _not_received,
    _sells_lost,
    _sells_refused,
    _stops,
)
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, RiskEventRow


def test_a_refused_flatten_close_puts_back_the_ended_desks_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(left, qty, price)] = _stops(trading)
        held = _held(trading)
        assert qty == held > 0
        with _sells_refused(sandbox, two) as refused:
            two.request_kill(flatten=True)
            report = two.apply_kill_requests()
        assert refused and report is not None, "the flatten sent its close"
        assert _held(trading) == held
        [(again, again_qty, again_price)] = _stops(trading)
        assert again != left and (again_qty, again_price) == (held, price), "the stop is back"
        [halt] = [e for e in report.risk_events if e.halts]
        assert "cancelled 1 open order(s)" in halt.action_taken, halt.action_taken
        said = [e.action_taken for e in report.risk_events if e.event_type == "exit_placed_again"]
        assert len(said) == 1 and said[0].endswith(f": its stop at {price:.2f} placed again")
        assert said[0].startswith(f"sell {held:g} SPY refused (the broker rejected it: "), said
        recorded = RiskEventRow.select().where(RiskEventRow.event_type == "exit_placed_again")
        assert [r.action_taken for r in recorded] == said  # in the audit trail
        assert LiveOrder.get(LiveOrder.client_order_id == left).status == "canceled"
        with _sells_refused(sandbox, two) as refused:
            sandbox.admin.step()
            two.run_iteration()  # the flatten acted on again: its close refused again
        assert refused and _held(trading) == held
        [(third, third_qty, _)] = _stops(trading)
        assert third != again and third_qty == held, "the stop back after the second pass"
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_flatten_close_in_doubt_gets_no_stop_beside_it_and_says_so(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_left, _qty, price)] = _stops(trading)
        held = _held(trading)
        with _sells_lost(sandbox, two) as lost:
            two.request_kill(flatten=True)
            report = two.apply_kill_requests()
        assert lost and report is not None
        assert LiveOrder.get(LiveOrder.client_order_id == lost[0]).status == "unknown"
        assert _stops(trading) == [], "a stop beside the close in doubt"
        said = [e.action_taken for e in report.risk_events if e.event_type == "protective_stop"]
        assert said == [
            f"SPY is NOT protected: sell {held:g} SPY is in doubt (sent, no answer), so its stop "
            f"at {price:.2f} is not placed again while that order may still sell the same "
            "shares; it goes back once the broker says it never received the order; trying "
            "again next cycle"
        ], said
        sandbox.admin.step()
        two.run_iteration()  # still in doubt: the flatten waits for it, no stop beside it
        assert _stops(trading) == [] and _held(trading) == held
        _not_received(two, lost[0])  # the broker never got it: the flatten closes, once
        sandbox.admin.step()
        two.run_iteration()
        sandbox.admin.step()
        two.run_iteration()
        assert _held(trading) == 0 and _stops(trading) == []
    finally:
        two.finish("stopped")
        two.broker.close()
