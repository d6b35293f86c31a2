"""A protective stop whose send is in doubt gets no second stop beside it.

The desk buys and places its stop; the stop's answer is lost and the broker does not know it
yet (in doubt: a slow gateway may still deliver it). Before, the next cycle did not count that
stop as working and placed a fresh one beside it: at Alpaca the second is refused once the
first arrives ("insufficient qty available", and the position said NOT protected every cycle);
at a broker that does not hold shares for a stop, both could sell (an oversell: short). Now
the stop in doubt counts as working for its symbol until it settles, said once: working, it is
kept; never received, a stop is placed then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alpaca.trading.enums import OrderSide
from alpaca.trading.requests import StopOrderRequest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.test_stop_put_back import _held, _not_received, _stops
from tui_trader.engine.session import TradingSession
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle


@contextmanager
def _first_stop_lost(sandbox: SandboxHandle, desk: TradingSession) -> Iterator[list[str]]:
    """The answer to the desk's first stop is lost before the stop arrives (503: in doubt,
    ``unknown``); the client id of that stop (sent twice by the adapter, as on a 503)."""
    client = desk.broker.client  # type: ignore[attr-defined]
    real = client.submit_order
    lost: list[str] = []

    def submit_order(order_data: Any) -> Any:
        cid = order_data.client_order_id
        if order_data.type.value != "stop" or (lost and cid not in lost):
            return real(order_data=order_data)
        lost.append(cid)
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


def _buy_with_stop_lost(
    sandbox: SandboxHandle, trading: Any, db: Path, settle_window: float = 120.0
) -> tuple[TradingSession, str]:
    """A trend desk with ``--stop-loss 2`` buys SPY in a rally; its first stop is lost. The
    desk and the lost stop's client id."""
    desk = alpaca_session(
        sandbox,
        db,
        symbols=("SPY",),
        stop_loss=StopRule(pct=2.0),
        allocation_pct=10.0,
        settle_window=settle_window,
    )
    with _first_stop_lost(sandbox, desk) as lost:
        for _ in range(12):
            sandbox.admin.step(shock={"SPY": 1.0})
            desk.run_iteration()
            settle(sandbox, desk)
            if lost:
                break
    assert lost and _held(trading) > 0, "the rally bought and sent a stop"
    return desk, lost[0]


def test_a_stop_in_doubt_gets_no_second_stop_and_is_kept_once_it_arrives(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    desk, cid = _buy_with_stop_lost(sandbox, trading, tmp_path / "desk.db")
    try:
        held = _held(trading)
        assert _stops(trading) == []
        notes: list[str] = []
        for _ in range(3):
            sandbox.admin.step()
            notes += desk.run_iteration().notes
            assert _stops(trading) == [], "a second stop placed beside the stop in doubt"
        said = [n for n in notes if "counts as working" in n]
        assert said == [
            f"SPY: its protective exit {cid} was sent but the broker's answer was lost; it counts "
            "as working (no second exit beside it) until the broker says whether it has it"
        ], notes
        # the slow gateway delivers it: the broker works it, the desk keeps it, alone
        price = round(float(sandbox.admin.state()["prices"]["SPY"]) * 0.98, 2)
        trading.submit_order(
            StopOrderRequest(
                symbol="SPY",
                qty=held,
                side=OrderSide.SELL,
                time_in_force="gtc",
                stop_price=price,
                client_order_id=cid,
            )
        )
        for _ in range(2):
            sandbox.admin.step()
            desk.run_iteration()
            assert _stops(trading) == [(cid, held, price)], "the stop that arrived, alone"
    finally:
        desk.broker.close()


def test_a_stop_in_doubt_the_broker_never_received_is_placed_then(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    desk, cid = _buy_with_stop_lost(sandbox, trading, tmp_path / "desk.db", settle_window=0.5)
    try:
        held = _held(trading)
        sandbox.admin.step()
        desk.run_iteration()
        assert _stops(trading) == [], "a second stop placed beside the stop in doubt"
        _not_received(desk, cid)
        sandbox.admin.step()
        desk.run_iteration()
        [(again, qty, _price)] = _stops(trading)
        assert again != cid and qty == held
    finally:
        desk.broker.close()
