"""An ended desk's stop whose cancel's answer is lost, before a sell that then does not go out:
the stop is looked up, and placed again once it is found cancelled.

A desk that keeps no exits cancels an ended desk's stop before its sell, and waits for the
cancel's confirmation. When the cancel's answer was lost (the request timed out, yet Alpaca
cancelled the stop) the sell waited, said "not confirmed", and the stop was remembered nowhere:
Alpaca had cancelled it, no sell went out, and the position was left without a stop for good,
with no ``exit_dropped`` and nothing else said.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from requests.exceptions import ReadTimeout

from tests.integration.alpaca_helpers import sandbox_orders
from tests.integration.ended_stop import ended_desks_stop, spy_held, working_stops
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle


def test_a_stop_whose_cancel_answer_was_lost_goes_back_when_its_sell_did_not_go_out(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two closes SPY by hand; Alpaca cancels desk one's stop but the answer is lost, so
    the close waits. The next cycle finds the stop cancelled and no sell sent: the stop goes
    back at its price for the shares held, said; before, the position had none, unsaid."""
    two = ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(qty, price)] = working_stops(trading)
        [stop] = [o.client_order_id for o in sandbox_orders(trading) if o.stop_price]
        held = spy_held(trading)
        assert qty == held > 0
        _close_losing_the_cancels_answer(two)
        assert spy_held(trading) == held, "the close waits for the cancel's confirmation"
        assert working_stops(trading) == [], "Alpaca cancelled the stop"
        sandbox.admin.step()
        notes = two.run_iteration().notes
        assert spy_held(trading) == held
        assert working_stops(trading) == [(held, price)], notes
        [said] = [n for n in notes if "placed again" in n]
        assert said.startswith(f"the cancel of {stop} was not confirmed and it ended canceled")
        assert said.endswith(f": its stop at {price:.2f} placed again"), said
        sandbox.admin.step()
        two.run_iteration()
        assert working_stops(trading) == [(held, price)], "a second stop"
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_desk_stopping_after_the_cancels_answer_was_lost_puts_the_stop_back(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The same close by hand, and desk two stops before its next cycle: its finish finds the
    stop cancelled and puts it back at its price (before, the position was left without one)."""
    two = ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_qty, price)] = working_stops(trading)
        held = spy_held(trading)
        _close_losing_the_cancels_answer(two)
        assert working_stops(trading) == []
    finally:
        two.finish("stopped")
        two.broker.close()
    assert working_stops(trading) == [(held, price)]
    assert two.stops_left == ()


def _close_losing_the_cancels_answer(desk: TradingSession) -> None:
    """Close SPY by hand between bars; Alpaca cancels the stop before it, but the cancel's
    answer is lost (the request timed out), and so is every look-up after it (the desk's one
    look-up of a taken-over stop whose cancel is not confirmed: ``engine.taken_over_ends``;
    answered, it finds the stop cancelled and the close goes out at once): the close waits,
    said."""
    client = desk.broker.client  # type: ignore[attr-defined]
    real = client.cancel_order_by_id
    reads = {name: getattr(client, name) for name in ("get_orders", "get_order_by_client_id")}
    lost: list[str] = []

    def cancel_order_by_id(order_id: Any) -> Any:
        answer = real(order_id)
        if not lost:
            lost.append(str(order_id))
            raise ReadTimeout("the cancel's answer was lost (test)")
        return answer

    def after_the_cancel(name: str) -> Any:
        """The read ``name``, unanswered once the cancel's answer was lost."""

        def read(*args: Any, **kwargs: Any) -> Any:
            if lost:
                raise ReadTimeout("no answer (test)")
            return reads[name](*args, **kwargs)

        return read

    client.cancel_order_by_id = cancel_order_by_id
    for name in reads:
        setattr(client, name, after_the_cancel(name))
    try:
        desk.request_close("SPY")
        report = desk.apply_kill_requests()
    finally:
        client.cancel_order_by_id = real
        for name, read in reads.items():
            setattr(client, name, read)
    assert lost and report is not None
    said = [e.action_taken for e in report.risk_events if e.event_type == "manual_order_refused"]
    assert len(said) == 1 and "not confirmed" in said[0], report.risk_events
