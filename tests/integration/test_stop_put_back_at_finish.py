"""A desk that stops never leaves a position without the stop it took down, unsaid.

A desk cancels a symbol's stop before a sell in it and remembers the stop until the sell's fate
is known (``engine.stop_release``). A desk stopped then (ctrl+s, Ctrl+C, a signal, the end of
data, a failure) used to forget it: the position stayed without a stop at the broker, and the
session's end said nothing. Now the end puts the stop back where the sell cannot sell the
shares, and says (end lines, audit trail, alerts) each position it leaves without one: a sell
still working or still in doubt, or a store that failed (nothing can be recorded then, so no
stop is sent).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tests.integration.alpaca_helpers import sandbox_orders
from tests.integration.test_stop_put_back import (
    SLIDE,
    _ended_desks_stop,
    _held,
    _not_received,
    _sells_lost,
    _sells_refused,
    _stops,
)
from tui_trader.cli.session_output import summary
from tui_trader.core.orders import OrderType, Side
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.runner import RunResult, SessionRunner
from tui_trader.store.models import RiskEventRow
from tui_trader.store.session_rows import RowEnded

LEFT = "stop_left_down"


def _said(event_type: str) -> list[str]:
    """The audit trail's risk events of one type, in order."""
    rows = RiskEventRow.select().where(RiskEventRow.event_type == event_type)
    return [r.action_taken for r in rows.order_by(RiskEventRow.id)]


def _sell_until(sandbox: SandboxHandle, desk: TradingSession, seen: list[str]) -> None:
    """Slide the market until the desk has tried its sell (``seen`` filled by a fixture)."""
    for _ in range(14):
        sandbox.admin.step(shock=SLIDE)
        desk.run_iteration()
        if seen:
            return
    raise AssertionError("the slide never made the desk sell")


def test_a_stop_that_could_not_go_back_is_placed_as_the_desk_stops(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The sell is refused and so is the stop put back (tried again next cycle); the desk is
    stopped before that cycle. Before, the position was left without a stop; now the end
    places it at its price, recorded, and says nothing is left down."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_left, _qty, price)] = _stops(trading)
        held = _held(trading)
        with _sells_refused(sandbox, two, stops_too=True) as refused:
            _sell_until(sandbox, two, refused)
        assert _stops(trading) == []
        two.finish("stopped")
        [(_again, qty, again_price)] = _stops(trading)
        assert (qty, again_price) == (held, price)
        [placed] = _said("exit_placed_again")
        assert placed.endswith(f": its stop at {price:.2f} placed again"), placed
        assert two.stops_left == () and _said(LEFT) == []
    finally:
        two.broker.close()


def test_a_stop_that_still_cannot_go_back_at_the_end_is_said_left_down(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The account still refuses every order as the desk stops: the stop cannot go back.
    The end says why, without promising a next cycle, and names the position left down."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_left, _qty, price)] = _stops(trading)
        held = _held(trading)
        with _sells_refused(sandbox, two, stops_too=True) as refused:
            _sell_until(sandbox, two, refused)
            two.finish("stopped")
        assert _stops(trading) == []
        sell = f"sell {held:g} SPY refused (the broker rejected it: new orders are rejected by "
        sell += "user request)"
        assert _said(LEFT) == [
            f"SPY: its stop at {price:.2f} could not be placed again ({sell}); this desk is "
            "stopping"
        ]
        assert _said("protective_stop")[-1] == (
            f"SPY is NOT protected: {sell}; its stop at {price:.2f} could not be placed again: "
            "new orders are rejected by user request; this desk is stopping"
        )
    finally:
        two.broker.close()


@contextmanager
def _sells_held(sandbox: SandboxHandle, desk: TradingSession) -> Iterator[list[str]]:
    """The broker accepts the desk's market sells but does not route them yet (as Alpaca
    queues an order while its market is closed): each stays working, unfilled, until the next
    bar. The client ids of those held."""
    engine = sandbox.sandbox.engine
    client = desk.broker.client  # type: ignore[attr-defined]
    real = client.submit_order
    held: list[str] = []

    def submit_order(order_data: Any) -> Any:
        sell = order_data.side.value == "sell" and order_data.type.value == "market"
        if not sell:
            return real(order_data=order_data)
        held.append(order_data.client_order_id)
        engine.tradable = lambda _ticket, _now: False
        try:
            return real(order_data=order_data)
        finally:
            del engine.tradable

    client.submit_order = submit_order
    try:
        yield held
    finally:
        client.submit_order = real


def test_a_stop_cancelled_for_a_sell_still_working_is_said_left_down_at_the_end(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The desk's sell cancelled the ended desk's stop and works at the broker, unfilled; the
    desk stops. The sell may still fill, so no stop goes beside it (both could sell the
    shares); the end says so in its closing lines, in the audit trail and to the alerts.
    Before, nothing was said."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    told: list[Any] = []
    two.notify = told.append
    try:
        [(_left, _qty, price)] = _stops(trading)
        held = _held(trading)
        with _sells_held(sandbox, two) as working:
            _sell_until(sandbox, two, working)
        [sell] = [o for o in sandbox_orders(trading) if o.client_order_id == working[0]]
        assert sell.status.value == "accepted" and _stops(trading) == []
        two.finish("stopped")
        assert _stops(trading) == [], "a stop placed beside a sell that may still fill"
        line = (
            f"SPY: its stop at {price:.2f} was cancelled for sell {held:g} SPY, still working "
            "at the broker: the position has no stop until that sell ends; this desk is stopping"
        )
        assert _said(LEFT) == [line]
        assert two.stops_left == (line,)
        assert [n.action for n in told if n.event == LEFT] == [line]
        out = io.StringIO()
        summary(Console(file=out, width=400), two, RunResult("stopped", two.iteration), "")
        assert f"Stop left down: {line}" in out.getvalue()
    finally:
        two.broker.close()


def test_a_stop_cancelled_for_a_sell_in_doubt_stays_down_and_is_said(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The sell's answer was lost and the broker does not know it yet (it may still arrive):
    the desk stops. No stop beside it; the end says the position has none, and why."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_left, _qty, price)] = _stops(trading)
        held = _held(trading)
        with _sells_lost(sandbox, two) as lost:
            _sell_until(sandbox, two, lost)
        two.finish("stopped")
        assert _stops(trading) == []
        assert _said(LEFT) == [
            f"SPY: its stop at {price:.2f} was cancelled for sell {held:g} SPY, still in "
            "doubt (sent, no answer): the position has no stop until the broker says whether "
            "it has that order; this desk is stopping"
        ]
    finally:
        two.broker.close()


def test_a_stop_cancelled_for_a_sell_never_received_goes_back_as_the_desk_stops(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The sell in doubt settled as never received; the desk stops before its next cycle.
    Before, the stop waited for that cycle and was never put back; now the end places it."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_left, _qty, price)] = _stops(trading)
        held = _held(trading)
        with _sells_lost(sandbox, two) as lost:
            _sell_until(sandbox, two, lost)
        _not_received(two, lost[0])
        two.finish("stopped")
        [(_again, qty, again_price)] = _stops(trading)
        assert (qty, again_price) == (held, price)
        assert _said("exit_placed_again") == [
            f"sell {held:g} SPY never went out: its stop at {price:.2f} placed again"
        ]
        assert _said(LEFT) == []
    finally:
        two.broker.close()


def _fails_once_before_the_sell(
    two: TradingSession, monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> list[str]:
    """Writing the market sell's row raises ``exc`` once (after its stop was cancelled,
    before it was sent); the client ids it failed for."""
    real = two.audit.order_pending
    failed: list[str] = []

    def order_pending(request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.order_type is OrderType.MARKET and request.side is Side.SELL and not failed:
            failed.append(request.client_order_id)
            raise exc
        return real(request, *args, **kwargs)

    monkeypatch.setattr(two.audit, "order_pending", order_pending)
    return failed


def _run_failing(sandbox: SandboxHandle, two: TradingSession) -> SessionRunner:
    """A runner that slides the market after each cycle (the first bar is stepped here)."""
    sandbox.admin.step(shock=SLIDE)
    return SessionRunner(two, 14, 0, lambda _report: sandbox.admin.step(shock=SLIDE))


def test_a_failure_between_the_cancel_and_the_sell_puts_the_stop_back(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that is not the broker's comes between the stop's cancel and the sell's send:
    the session fails, and its failure path still ends it through ``finish``, which puts the
    stop back (the sell never went out). The original error is what the run raises."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_left, _qty, price)] = _stops(trading)
        held = _held(trading)
        failed = _fails_once_before_the_sell(two, monkeypatch, KeyError("gremlin"))
        with pytest.raises(KeyError, match="gremlin"):
            _run_failing(sandbox, two).run()
        assert failed and _held(trading) == held
        [(_again, qty, again_price)] = _stops(trading)
        assert (qty, again_price) == (held, price)
        [placed] = _said("exit_placed_again")
        assert placed.endswith(f": its stop at {price:.2f} placed again"), placed
    finally:
        two.broker.close()


def test_a_store_failure_between_the_cancel_and_the_sell_says_the_stop_may_be_down(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's row is found ended between the stop's cancel and the sell: nothing more
    can be recorded under it, so no stop is sent (it would have no row), and the end says the
    position may be without its stop, with the error the run ends on."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_left, _qty, price)] = _stops(trading)
        failed = _fails_once_before_the_sell(two, monkeypatch, RowEnded("row ended (test)"))
        result = _run_failing(sandbox, two).run()
        assert failed and result.status == "failed" and result.error == "row ended (test)"
        assert _stops(trading) == []
        assert result.stops_left == (
            f"SPY may be without its stop: its stop at {price:.2f} was cancelled before an "
            "order in SPY; this desk stopped on its store's failure, so it sent no stop (one "
            "could not be recorded); look at the position at the broker",
        )
    finally:
        two.broker.close()
