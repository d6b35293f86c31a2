"""A partial fill whose news reaches the desk after the order's ``canceled``, over the
sandbox's real trade-update stream and alpaca-py: the fill is recorded, the row stays
``canceled``.

Five of ten shares of a working buy limit trade at the sandbox; the stream's ``partial_fill``
is held back (Alpaca's stream reorders), and Alpaca takes and confirms the desk's cancel with the
order as it knew it before the venue's report of the fill reached it (nothing filled). The late
``partial_fill`` then arrives. Before, the desk took it for the order working again: the row
went back to ``partially_filled`` (History showed a working buy Alpaca had cancelled) and SPY
counted as a symbol with an order working, which holds back stops, closes by hand and
rebalances.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import (
    alpaca_session,
    filled_by_order,
    settle,
    working_spy_limit,
)
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder


def _row(cid: str) -> tuple[str, float]:
    """The order's row: its status and filled quantity."""
    row = LiveOrder.get(LiveOrder.client_order_id == cid)
    return row.status, float(row.filled_qty or 0.0)


def test_a_partial_fill_reported_after_the_cancel_is_recorded_and_the_row_stays_cancelled(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    sandbox.admin.set_faults(partial_rate=1)  # half on the first bar that crosses the limit
    session = alpaca_session(sandbox, tmp_path / "late.db")
    try:
        cid = working_spy_limit(session, sandbox)
        feed = session.broker.feed  # type: ignore[attr-defined]
        put = feed.events.put
        held: list[Any] = []

        def reordered(item: Any, *args: Any, **kwargs: Any) -> None:
            """The order's ``partial_fill`` held back; its ``pending_cancel`` and ``canceled``
            as Alpaca knew the order before the fill's report reached it."""
            event, raw, when = item
            if raw.client_order_id == cid and event == "partial_fill":
                held.append(item)
                return
            if raw.client_order_id == cid and event in ("pending_cancel", "canceled"):
                before = {"filled_qty": "0", "filled_avg_price": None}
                item = (event, raw.model_copy(update=before), when)
            put(item, *args, **kwargs)

        feed.events.put = reordered
        sandbox.admin.step(shock={"SPY": -5.0})  # 5 of 10 trade at the sandbox
        wait_until(lambda: bool(held), what="the partial fill at the sandbox")
        session.request_cancel(cid)
        session.apply_kill_requests()
        wait_until(
            lambda: session.sync_orders() is not None and _row(cid) == ("canceled", 0.0),
            what="the cancel confirmed and recorded",
        )
        assert "SPY" not in session.broker.working_symbols()

        put(held.pop())  # the fill's news, late
        wait_until(
            lambda: session.sync_orders() is not None and filled_by_order().get(cid) == 5,
            what="the late fill recorded",
        )
        assert _row(cid) == ("canceled", 5.0), "Alpaca has it cancelled, 5 filled"
        assert "SPY" not in session.broker.working_symbols(), "no order of SPY is working"
        held_at_broker = {p.symbol: float(p.qty) for p in trading.get_all_positions()}
        assert held_at_broker == {"SPY": 5.0}, "the fills add up to the broker's position"
        settle(sandbox, session)  # every row as the sandbox has it
    finally:
        session.finish("stopped")
        session.broker.close()
