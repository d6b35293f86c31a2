"""A sale beside the halt flatten close of a desk that died over a minute ago, the close still
working at the broker: the broker is asked about that close, and the sale waits while it works.

Desk one (``--stop-loss``) holds SPY; desk two, on its store and account, halts with flatten: its
close fills half and works on. The halt is lifted (``risk reset``), and desk two dies (its
heartbeat ten minutes old): no desk will record its close's end, its row stays open. Desk one's
positions read lags the close's fill and its listing (up to half a minute old) does not show the
close. Before, a dead desk's close held sales for a minute after its last sign of life, by the
clock (``ENDED_WITHIN``), and then nothing: the sale by hand of what desk one saw free went out
beside the close (the broker refused it while the close worked; had the close's rest filled in
the milliseconds before, it sold shares the account no longer held) (``holds32``). Now the broker
is asked about such a close: while it works the sale waits, said; once it has ended, the sale is
decided from the positions alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import simulate_death
from tests.integration.ended_stop import spy_held
from tests.integration.test_sale_beside_a_flatten_close import _desks, _half_closed, _sells, _stops
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import MANUAL_REFUSED, ManualOrder
from tui_trader.sandbox.testing import SandboxHandle, wait_until


def _refused(report: Any) -> list[str]:
    """The hand orders refused in ``report``, in its words."""
    events = report.risk_events if report is not None else []
    return [e.action_taken for e in events if e.event_type == MANUAL_REFUSED]


def test_a_sale_beside_a_dead_desks_working_close_waits_as_the_broker_says(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    with _desks(sandbox, trading, db) as (one, two):
        held, before = _half_closed(sandbox, trading, db, one, two)
        wait_until(  # desk one hears of its stop's cancel by the halt (no cancel of its own)
            lambda: (one.sync_orders(), not _stops(one.broker.open_orders()))[1],
            what="desk one to hear of its stop's cancel",
        )
        simulate_death(two)  # ten minutes without a heartbeat: past any window
        one.broker.positions = lambda: before  # type: ignore[method-assign]  # lagging
        listing = one.broker.open_orders

        def listing_without_the_close() -> Any:
            """The listing, half a minute old: it does not show desk two's close yet."""
            return [o for o in listing() if "-flat" not in o.client_order_id]

        one.broker.open_orders = listing_without_the_close  # type: ignore[method-assign]
        send, sent = one.broker.submit, []

        def rest_fills_first(order: Any) -> Any:
            """The close's rest fills in the milliseconds before the send."""
            sent.append(order)
            sandbox.admin.step(bars=3)
            return send(order)

        one.broker.submit = rest_fills_first  # type: ignore[method-assign]
        sold_before = len(_sells(trading, one))
        free = held - spy_held(trading)  # the shares held less the close's rest, as read
        one.request_manual_order(ManualOrder("SPY", Side.SELL, qty=free))
        refused = _refused(one.apply_kill_requests())
        assert sent == [], "desk one sold beside the close"
        assert spy_held(trading) > 0, "short"
        assert [r for r in refused if r.startswith("manual sell SPY not sent: ")], refused
        assert "may still sell SPY: its desk has ended" in refused[0], refused
        assert "the broker says the close still works" in refused[0], refused
        sandbox.admin.step(bars=3)  # the close's rest fills; desk two never records it
        wait_until(lambda: spy_held(trading) == 0, what="the close's fill")
        del one.broker.positions, one.broker.submit
        one.request_manual_order(ManualOrder("SPY", Side.SELL, qty=free))
        report = one.apply_kill_requests()
        words = " ".join(e.action_taken for e in report.risk_events) if report else ""
        assert "may still sell SPY" not in words, words
        assert len(_sells(trading, one)) == sold_before and spy_held(trading) == 0
