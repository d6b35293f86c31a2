"""An ended desk's stop put back with its answer lost (in doubt) is followed until it settles,
each put-back on its own: once the broker is found never to have received one, it is placed
again.

A desk that keeps no exits puts an ended desk's stop back once the sell it was cancelled for
ends unfilled; a put-back whose own answer is lost (sent, no answer) is said NOT protected and
followed: never received, it is placed again. A put-back made in a cycle's own look-ups was
looked up again in that same cycle, found missing (the broker does not know it yet), and
put back "again" for nothing (it counted as closing the shares itself): then forgotten, and
once its doubt ended the position had no stop, unsaid. And it followed one per symbol: a
stop put back in part beside a sell, in doubt, then the rest put back once that sell was
cancelled, in doubt too, overwrote the first; the second arriving and the first never
received, the position kept a stop for the second's share only, unsaid.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import StopOrderRequest

from tests.integration.ended_stop import (
    cancel,
    ended_desks_stop,
    limit_sell,
    spy_held,
    working_stops,
)
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder


def _ended_desks_stop(sandbox: SandboxHandle, db: Path) -> TradingSession:
    """``ended_desks_stop`` whose desk two settles an order in doubt after 4 s (long enough
    for two cycles)."""
    return ended_desks_stop(sandbox, db, settle_window=4.0)


@contextmanager
def _stops_lost(sandbox: SandboxHandle, desk: TradingSession) -> Iterator[list[str]]:
    """Every stop the desk sends meets a 503 before it reaches the sandbox (both tries): in
    doubt, never received. The client ids of those stops."""
    client = desk.broker.client  # type: ignore[attr-defined]
    real = client.submit_order
    lost: list[str] = []

    def submit_order(order_data: Any) -> Any:
        if order_data.type.value != "stop":
            return real(order_data=order_data)
        if order_data.client_order_id not in lost:
            lost.append(order_data.client_order_id)
        sandbox.admin.set_faults(order_fail_rate=1.0, error_status=503)
        try:
            return real(order_data=order_data)
        finally:
            sandbox.admin.clear_faults()

    client.submit_order = submit_order
    try:
        yield lost
    finally:
        client.submit_order = real


def test_a_stop_put_back_in_doubt_at_a_cycle_goes_back_once_never_received(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two sells all by hand (desk one's stop cancelled) and cancels it; at the next cycle
    the stop put back is lost (in doubt). Once the broker is found never to have received it,
    the stop is placed again for every share held, at its price, said (before: the put-back
    was looked up in the same cycle, found missing and dropped, and the position had no stop
    once its doubt ended, unsaid)."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(qty, price)] = working_stops(trading)
        held = spy_held(trading)
        assert qty == held > 0
        far = round(float(sandbox.admin.state()["prices"]["SPY"]) * 1.3, 2)
        cancel(two, sandbox, limit_sell(two, sandbox, held, far))
        with _stops_lost(sandbox, two) as lost:
            sandbox.admin.step()
            notes = two.run_iteration().notes
        [first] = lost
        assert working_stops(trading) == [], notes
        _never_received(two, first)
        notes = []
        for _ in range(2):
            sandbox.admin.step()
            notes += two.run_iteration().notes
        assert spy_held(trading) == held
        assert working_stops(trading) == [(held, price)], notes
        [said] = [n for n in notes if "placed again" in n]
        assert "the exit sent again then never reached the broker" in said, said
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_stop_put_back_in_doubt_is_not_forgotten_for_a_second_one(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two sells all by hand (desk one's stop cancelled), cancels it and sells one share;
    the stop put back for the rest is lost (in doubt). That sell cancelled, the stop put back
    for the last share is lost too, and arrives late. Once the first is found never received,
    the stop is placed again for the rest: every share held has its stop, at its price, once
    (before: only the late one's share)."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(qty, price)] = working_stops(trading)
        held = spy_held(trading)
        assert qty == held >= 3
        far = round(float(sandbox.admin.state()["prices"]["SPY"]) * 1.3, 2)
        cancel(two, sandbox, limit_sell(two, sandbox, held, far))
        one_share = limit_sell(two, sandbox, 1, far)
        with _stops_lost(sandbox, two) as lost:
            sandbox.admin.step()
            two.run_iteration()
            assert len(lost) == 1, "the stop put back beside the sell is in doubt"
            cancel(two, sandbox, one_share)
            sandbox.admin.step()
            notes = two.run_iteration().notes
            assert len(lost) == 2, ("the rest put back, in doubt too", notes)
        first, second = lost
        assert working_stops(trading) == []
        trading.submit_order(  # the second arrives late (a slow gateway)
            StopOrderRequest(
                symbol="SPY",
                qty=1,
                side=OrderSide.SELL,
                stop_price=price,
                time_in_force=TimeInForce.GTC,
                client_order_id=second,
            )
        )
        _never_received(two, first)
        notes = []
        for _ in range(2):
            sandbox.admin.step()
            notes += two.run_iteration().notes
        assert spy_held(trading) == held
        stops = working_stops(trading)
        assert sorted(stops) == [(1, price), (held - 1, price)], (stops, notes)
        [said] = [n for n in notes if "placed again" in n]
        assert "the exit sent again then never reached the broker" in said, said
    finally:
        two.finish("stopped")
        two.broker.close()


def _never_received(desk: TradingSession, cid: str) -> None:
    """Look the lost stop up until it is ``not_received`` (past its settlement window), a few
    times a second: the sandbox answers 429 past 200 requests a minute."""
    pause = threading.Event()

    def settled() -> bool:
        pause.wait(0.2)
        return (
            desk.sync_orders() is not None
            and LiveOrder.get(LiveOrder.client_order_id == cid).status == "not_received"
        )

    wait_until(settled, timeout=15, what="the lost stop settled as not received")
