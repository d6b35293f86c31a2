"""A desk's own order in doubt whose fill its stream brought: the settlement says so plainly.

An order whose answer was lost twice and that a look-up did not find is followed as in doubt
(``engine.settlement``), and the broker keeps it too: its trade updates still come over the
stream, and the desk records its fill from them. The next look-up finds it filled and its fill
already recorded. Since ``fills28`` (a fill found by two desks recorded once) that look-up
wrote, in the audit trail's settlement event, that "another desk of the account found it
first", on a desk that ran alone (review29a). It now says that this desk recorded it from
the broker's updates of the order; the fill is recorded once either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, sandbox_orders
from tests.integration.ended_stop import RALLY
from tui_trader.core.orders import OrderStatus
from tui_trader.engine.settlement import SETTLEMENT
from tui_trader.engine.waits import RECORDED_OWN
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import RiskEventRow


def test_an_own_order_in_doubt_filled_over_the_stream_names_no_other_desk(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone desk's buy goes out with both answers lost and the look-up not finding it (in
    doubt); it fills, the stream tells the desk, and the next look-up finds it filled: its
    fill recorded once, and the settlement event names no other desk."""
    desk = alpaca_session(
        sandbox, tmp_path / "desk.db", symbols=("SPY",), learning=LearningSettings("momentum")
    )
    try:
        sandbox.admin.set_faults(lost_ack_rate=1.0)
        monkeypatch.setattr("tui_trader.brokers.alpaca_submit.settle", lambda broker, req: None)
        doubted = []
        for _ in range(12):
            sandbox.admin.step(shock=RALLY)
            report = desk.run_iteration()
            doubted = [o for o in report.orders if o.status is OrderStatus.UNKNOWN]
            if doubted:
                break
        assert doubted, "no order went out in doubt"
        [buy] = [o.client_order_id for o in doubted]
        monkeypatch.undo()
        sandbox.admin.set_faults(reset=True)
        sandbox.admin.step()  # it fills at the broker; the stream tells the desk
        filled = [float(o.filled_qty) for o in sandbox_orders(trading) if o.client_order_id == buy]
        assert filled and filled[0] > 0
        # the stream's news first, as the desk hears it when the broker's answer is quick: a
        # look-up before it would find the fill itself (the other path, with its own words)
        wait_until(lambda: _fill_heard(desk, buy), what="the fill's trade update arrived")
        wait_until(
            lambda: desk.sync_orders() is not None and not desk.unsettled,
            what="the order in doubt settled",
        )
        assert filled_by_order().get(buy) == filled[0]
        said = [
            (e.detail, e.action_taken)
            for e in RiskEventRow.select().where(RiskEventRow.event_type == SETTLEMENT)
            if e.detail.startswith(f"order {buy}:")
        ]
        assert said == [
            (
                f"order {buy}: unknown until now, filled at the broker with {filled[0]:g} filled",
                RECORDED_OWN,
            )
        ], said
    finally:
        desk.finish("stopped")
        desk.broker.close()


def _fill_heard(desk: Any, client_order_id: str) -> bool:
    """Whether the desk's trade-update stream has brought ``client_order_id``'s fill (queued,
    not yet recorded: ``sync_orders`` records it before its look-up of orders in doubt)."""
    queued = list(desk.broker.feed.events.queue)
    return any(
        event == "fill" and order.client_order_id == client_order_id for event, order, _ in queued
    )
