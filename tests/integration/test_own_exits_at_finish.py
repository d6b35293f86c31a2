"""A desk that keeps its own exits names, as it stops, each position it leaves without one.

A desk with ``--stop-loss`` cancels its stop before its own sell, and sizes the stop beside the
sells that may close the position every cycle: none beside a sell still working or still in
doubt (both could sell the shares). Stopped then, the desk used to end with the position
without a stop at the broker, nothing said (the sell may yet end unfilled, and no desk puts the
stop back). Now the end names it, and why, in its closing lines, the audit trail and the
alerts, and places nothing beside that sell.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

from tests.integration.alpaca_helpers import settle
from tests.integration.broker_protection import buy_and_protect, buy_more, open_stops
from tests.integration.test_stop_put_back import _held, _sells_lost, _stops
from tests.integration.test_stop_put_back_at_finish import LEFT, _said, _sell_until, _sells_held
from tui_trader.cli.session_output import summary
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.limits import RiskLimits
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.runner import RunResult


def _desk(sandbox: SandboxHandle, db: Path) -> Any:
    """A desk with a 2% stop loss that bought SPY in a rally, its stop working."""
    return buy_and_protect(
        sandbox,
        db,
        protected=open_stops,
        shock=1.0,
        learning=LearningSettings("momentum"),
        settle_window=0.5,
    )


def test_a_desk_stopping_beside_its_working_sell_says_the_position_has_no_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The desk's sell works at the broker, unfilled (its stop cancelled for it); the desk
    stops. No stop goes beside the sell; the end says the position has none, and why."""
    desk = _desk(sandbox, tmp_path / "desk.db")
    told: list[Any] = []
    desk.notify = told.append
    try:
        held = _held(trading)
        with _sells_held(sandbox, desk) as working:
            _sell_until(sandbox, desk, working)
        assert _stops(trading) == [] and _held(trading) == held
        desk.finish("stopped")
        assert _stops(trading) == [], "a stop placed beside a sell that may still fill"
        line = (
            f"SPY: {held:g} of the {held:g} shares held have no exit at the broker: sell "
            f"{held:g} SPY still working at the broker; no exit goes beside an order that may "
            "still sell the shares; this desk is stopping"
        )
        assert _said(LEFT) == [line]
        assert desk.stops_left == (line,)
        assert [n.action for n in told if n.event == LEFT] == [line]
        out = io.StringIO()
        summary(Console(file=out, width=400), desk, RunResult("stopped", desk.iteration), "")
        assert f"Stop left down: {line}" in out.getvalue()
    finally:
        desk.broker.close()


def test_a_desk_stopping_beside_its_sell_in_doubt_says_the_position_has_no_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The desk's sell's answer was lost (it may still arrive); the desk stops. No stop beside
    it; the end names the position and the sell in doubt."""
    desk = _desk(sandbox, tmp_path / "desk.db")
    try:
        held = _held(trading)
        with _sells_lost(sandbox, desk) as lost:
            _sell_until(sandbox, desk, lost)
        desk.finish("stopped")
        assert _stops(trading) == []
        assert _said(LEFT) == [
            f"SPY: {held:g} of the {held:g} shares held have no exit at the broker: sell "
            f"{held:g} SPY still in doubt; no exit goes beside an order that may still sell "
            "the shares; this desk is stopping"
        ]
    finally:
        desk.broker.close()


def test_a_desk_stopping_with_its_stop_working_says_nothing_is_left_down(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A desk whose position has its whole stop at the broker ends with no such line."""
    desk = _desk(sandbox, tmp_path / "desk.db")
    try:
        [(_cid, qty, _price)] = _stops(trading)
        assert qty == _held(trading)
        desk.finish("stopped")
        assert desk.stops_left == () and _said(LEFT) == []
    finally:
        desk.broker.close()


@contextmanager
def _stops_refused(sandbox: SandboxHandle, desk: Any) -> Iterator[None]:
    """The broker refuses the desk's stop orders (Alpaca's 403 "rejected by user request"),
    and takes every other order as usual."""
    engine = sandbox.sandbox.engine
    client = desk.broker.client
    real = client.submit_order

    def submit_order(order_data: Any) -> Any:
        engine.suspend_trade = order_data.type.value == "stop"
        try:
            return real(order_data=order_data)
        finally:
            engine.suspend_trade = False

    client.submit_order = submit_order
    try:
        yield
    finally:
        client.submit_order = real


def test_a_desk_stopping_after_its_stop_was_refused_says_the_position_has_no_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Five shares bought by hand: the desk cancels its stop before the buy, and the broker
    refuses the stop for the whole position after it, and again as the desk stops (the finish
    tries it once more). The end names the position without a stop, with the broker's
    refusal."""
    desk = buy_and_protect(
        sandbox,
        tmp_path / "desk.db",
        protected=open_stops,
        shock=1.0,
        limits=RiskLimits(max_position_pct=50.0),
    )
    try:
        with _stops_refused(sandbox, desk):
            buy_more(sandbox, desk, 5)
            sandbox.admin.step()
            desk.run_iteration()
            settle(sandbox, desk)
            held = _held(trading)
            assert _stops(trading) == [] and held > 0
            desk.finish("stopped")
        assert _stops(trading) == []
        assert _said(LEFT) == [
            f"SPY: {held:g} of the {held:g} shares held have no exit at the broker: its last "
            "exit was not placed: the broker rejected the exit: new orders are rejected by "
            "user request; this desk is stopping"
        ]
    finally:
        desk.broker.close()
