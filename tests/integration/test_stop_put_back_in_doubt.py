"""A stop placed again whose own send is in doubt is placed once more if the broker never got
it.

A desk that keeps no exits cancels an ended desk's stop before its sell; the broker refuses the
sell, so the stop goes back at its price (``engine.stop_release``). When that stop's own answer
is lost (sent, no answer, and the broker does not know it yet), the desk cannot tell whether
the position is protected. Before, it said the stop was placed again, and if the broker never
got it the position stayed without one for good (this desk places no exits of its own). Now it
says the position is NOT protected while the stop is in doubt, and once the broker says it
never received it, the stop goes back at its price.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.integration.test_stop_put_back import (
    JUMP,
    SLIDE,
    _ended_desks_stop,
    _held,
    _not_received,
    _stops,
)
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle


@contextmanager
def _sell_refused_stop_lost(sandbox: SandboxHandle, desk: TradingSession) -> Iterator[list[str]]:
    """The broker refuses the desk's market sells (403 "rejected by user request"), and the
    answer to each stop it sends is lost before the stop arrives (503: in doubt, ``unknown``);
    the client ids of those stops."""
    engine = sandbox.sandbox.engine
    client = desk.broker.client  # type: ignore[attr-defined]
    real = client.submit_order
    lost: list[str] = []

    def submit_order(order_data: Any) -> Any:
        kind = order_data.type.value
        engine.suspend_trade = order_data.side.value == "sell" and kind == "market"
        if kind == "stop":
            lost.append(order_data.client_order_id)
            sandbox.admin.set_faults(order_fail_rate=1.0, error_status=503)
        try:
            return real(order_data=order_data)
        finally:
            engine.suspend_trade = False
            sandbox.admin.set_faults(reset=True, rate_limit=0)  # as the test set it

    client.submit_order = submit_order
    try:
        yield lost
    finally:
        client.submit_order = real


def test_a_stop_put_back_in_doubt_goes_back_once_the_broker_never_received_it(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    # ~30 bars in a few seconds, where the key's 200 requests are Alpaca's minute's (each cycle
    # also reads the day's cash moves): the key's minute is not what this test is about
    sandbox.admin.set_faults(rate_limit=0)
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(left, _qty, price)] = _stops(trading)
        held = _held(trading)
        events: list[Any] = []
        notes: list[str] = []
        with _sell_refused_stop_lost(sandbox, two) as lost:
            for _ in range(14):
                sandbox.admin.step(shock=SLIDE)
                report = two.run_iteration()
                events += report.risk_events
                notes += report.notes
                if lost:
                    break
        assert lost, "the slide made desk two sell, and put the stop back"
        assert _held(trading) == held and _stops(trading) == []
        assert not [n for n in notes if "placed again" in n], "said placed while in doubt"
        said = [e.action_taken for e in events if e.event_type == "protective_stop"]
        assert said == [
            f"SPY is NOT protected: sell {held:g} SPY refused (the broker rejected it: new "
            f"orders are rejected by user request); its stop at {price:.2f} was sent again but "
            "the broker's answer was lost; it is placed again if the broker never received "
            "it; trying again next cycle"
        ], said
        _not_received(two, lost[0])
        sandbox.admin.step(shock=JUMP)
        notes = two.run_iteration().notes
        [(again, qty, again_price)] = _stops(trading)
        assert again not in (left, lost[0]) and (qty, again_price) == (held, price)
        assert [n for n in notes if "placed again" in n] == [
            f"sell {held:g} SPY refused (the broker rejected it: new orders are rejected by "
            "user request); the exit sent again then never reached the broker: its stop at "
            f"{price:.2f} placed again"
        ], notes
        for _ in range(14):  # the slide again: desk two's sell cancels the stop and goes out
            sandbox.admin.step(shock=SLIDE)
            two.run_iteration()
            if not _held(trading):
                break
        assert _held(trading) == 0 and _stops(trading) == []
    finally:
        two.finish("stopped")
        two.broker.close()
