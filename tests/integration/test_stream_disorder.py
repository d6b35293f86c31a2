"""The broker adapter on a trading stream that repeats and reorders itself, and a REST API that
answers an order's previous state (the sandbox's ``ws_duplicate``, ``ws_reorder`` and
``stale_rest``).

Alpaca's stream and REST API are eventually consistent: an old view of an order can arrive
after a newer one. The adapter keeps the newest: a stale view neither records a fill nor moves
an order's status back (``filled`` to ``new``, which the audit trail wrote, so the next start's
reconciliation recorded the fill a second time).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import (
    alpaca_session,
    endpoint_for,
    filled_by_order,
    settle,
    working_spy_limit,
)
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.core.orders import OrderRequest, OrderStatus, OrderType, OrderUpdate, Side
from tui_trader.engine.halts import BROKER_CONTRADICTION
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder, RiskEventRow

RANK = {"pending_new": 0, "new": 1, "partially_filled": 2}
"""How far along an open status is; every final status ranks above them all (3)."""


@pytest.fixture
def broker(sandbox: SandboxHandle) -> Iterator[tuple[AlpacaBroker, list[str]]]:
    """An AlpacaBroker with its stream on the sandbox, and the events its stream received."""
    broker = AlpacaBroker(endpoint_for(sandbox), require_open_market=False)
    seen: list[str] = []
    put = broker.feed.events.put

    def record(item: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(item[0])
        put(item, *args, **kwargs)

    broker.feed.events.put = record  # type: ignore[method-assign]
    try:
        yield broker, seen
    finally:
        broker.close()


def _drain_until(broker: AlpacaBroker, seen: list[str], events: list[str]) -> list[OrderUpdate]:
    """Drain updates until the stream has delivered ``events`` (in this order, among others),
    then once more: every update the broker emitted meanwhile."""
    updates: list[OrderUpdate] = []

    def delivered() -> bool:
        updates.extend(broker.drain_updates())
        it = iter(seen)
        return all(event in it for event in events)

    wait_until(delivered, 10, f"stream events {events}")
    updates.extend(broker.drain_updates())
    return updates


def _assert_forward(updates: list[OrderUpdate], cid: str) -> list[str]:
    """The statuses reported for ``cid``; fails if one goes back (or filled_qty goes down)."""
    mine = [u.order for u in updates if u.order.client_order_id == cid]
    statuses = [str(o.status) for o in mine]
    ranks = [RANK.get(s, 3) for s in statuses]
    assert ranks == sorted(ranks), f"status went back: {statuses}"
    filled = [o.filled_qty for o in mine]
    assert filled == sorted(filled), f"filled_qty went down: {filled}"
    return statuses


def _buy(symbol: str, qty: float, cid: str, limit: float | None = None) -> OrderRequest:
    """A buy (a limit if ``limit``)."""
    kind = OrderType.LIMIT if limit else OrderType.MARKET
    return OrderRequest(symbol, Side.BUY, qty, cid, order_type=kind, limit_price=limit)


def test_a_new_that_arrives_after_the_fill_does_not_reopen_the_order(
    sandbox: SandboxHandle, broker: tuple[AlpacaBroker, list[str]]
) -> None:
    alpaca, seen = broker
    sandbox.admin.set_faults(ws_reorder=1)  # pending_new, accepted, fill, new
    alpaca.submit(_buy("SPY", 3, "tt-dis-1-SPY-r"))
    updates = _drain_until(alpaca, seen, ["fill", "new"])
    statuses = _assert_forward(updates, "tt-dis-1-SPY-r")
    assert statuses[-1] == "filled"
    assert [f.qty for u in updates if (f := u.fill) is not None] == [3]
    assert "SPY" not in alpaca.working_symbols()


def test_a_partial_fill_after_the_fill_that_completed_it_changes_nothing(
    sandbox: SandboxHandle, broker: tuple[AlpacaBroker, list[str]]
) -> None:
    alpaca, seen = broker
    sandbox.admin.set_faults(partial_rate=1)  # half on the first bar that crosses, then the rest
    price = float(sandbox.admin.state()["prices"]["QQQ"])
    alpaca.submit(_buy("QQQ", 10, "tt-dis-1-QQQ-r", limit=round(price * 0.97, 2)))
    updates = _drain_until(alpaca, seen, ["new"])
    sandbox.admin.set_faults(ws_reorder=1)
    sandbox.admin.step(shock={"QQQ": -5.0})  # partial_fill, held back
    sandbox.admin.step()  # fill, then the held partial_fill
    updates += _drain_until(alpaca, seen, ["fill", "partial_fill"])
    statuses = _assert_forward(updates, "tt-dis-1-QQQ-r")
    assert statuses[-1] == "filled"
    assert sum(f.qty for u in updates if (f := u.fill) is not None) == 10
    assert "QQQ" not in alpaca.working_symbols()


def test_each_fill_counts_once_when_every_update_comes_twice(
    sandbox: SandboxHandle, broker: tuple[AlpacaBroker, list[str]]
) -> None:
    alpaca, seen = broker
    sandbox.admin.set_faults(ws_duplicate=1, partial_rate=1)
    alpaca.submit(_buy("IWM", 10, "tt-dis-1-IWM-r"))
    updates = _drain_until(alpaca, seen, ["partial_fill", "partial_fill"])
    sandbox.admin.step()
    updates += _drain_until(alpaca, seen, ["fill", "fill"])
    _assert_forward(updates, "tt-dis-1-IWM-r")
    assert [f.qty for u in updates if (f := u.fill) is not None] == [5, 5]


def test_a_stale_rest_read_after_a_reconnect_does_not_undo_a_partial_fill(
    sandbox: SandboxHandle, broker: tuple[AlpacaBroker, list[str]]
) -> None:
    alpaca, seen = broker
    sandbox.admin.set_faults(partial_rate=1, stale_rest=1)
    alpaca.submit(_buy("SPY", 10, "tt-dis-2-SPY-r"))  # answered pending_new; 5 fill at once
    updates = _drain_until(alpaca, seen, ["partial_fill"])
    connects = alpaca.feed.connects
    sandbox.admin.drop_streams()  # the broker polls after the reconnect: REST answers the ack
    wait_until(lambda: alpaca.feed.connected and alpaca.feed.connects > connects, 10, "reconnect")
    wait_until(
        lambda: (
            updates.extend(alpaca.drain_updates())
            or alpaca.feed.connects == alpaca._synced_connects
        ),
        10,
        "poll",
    )
    statuses = _assert_forward(updates, "tt-dis-2-SPY-r")
    assert statuses[-1] == OrderStatus.PARTIALLY_FILLED
    assert sum(f.qty for u in updates if (f := u.fill) is not None) == 5


@pytest.mark.parametrize(
    ("partial", "forged", "words"),
    [
        (False, {"filled_qty": "20", "status": "filled"}, "reports 20 filled of order"),
        (True, {"filled_qty": "2", "status": "partially_filled"}, "went down from 5 to 2"),
    ],
    ids=["fill-beyond-the-order", "filled-qty-going-down"],
)
def test_a_broker_that_contradicts_itself_halts_trading(
    sandbox: SandboxHandle,
    trading: Any,
    tmp_path: Path,
    partial: bool,
    forged: dict[str, str],
    words: str,
) -> None:
    if partial:
        sandbox.admin.set_faults(partial_rate=1)
    session = alpaca_session(sandbox, tmp_path / "c.db")
    try:
        cid = working_spy_limit(session, sandbox)
        if partial:  # 5 of 10 fill on the bar that crosses the limit
            sandbox.admin.step(shock={"SPY": -5.0})
            settle(sandbox, session)
        raw = trading.get_order_by_client_id(cid)
        # The forged update contradicts what the session recorded: the stream's own fill must
        # be recorded first.
        wait_until(
            lambda: (
                session.sync_orders() is not None
                and filled_by_order().get(cid, 0.0) == float(raw.filled_qty or 0)
            ),
            what="the broker's fills recorded from the stream",
        )
        later = raw.updated_at + timedelta(seconds=1)
        price = raw.filled_avg_price or raw.limit_price
        view = raw.model_copy(update={**forged, "updated_at": later, "filled_avg_price": price})
        session.broker.feed.events.put(("fill", view, None))  # what the stream delivered
        sandbox.admin.step()
        report = session.run_iteration()
        halts = [e for e in report.risk_events if e.event_type == BROKER_CONTRADICTION]
        assert len(halts) == 1 and words in halts[0].detail and cid in halts[0].detail
        assert "halted trading until reset" in halts[0].action_taken
        assert session.risk.state.halted
        stored = RiskEventRow.select().where(RiskEventRow.event_type == BROKER_CONTRADICTION)
        assert stored.count() == 1
        sandbox.admin.step(shock={"SPY": 8.0})
        # No new orders while halted (the working limit's own rest may fill and be listed)
        sent = [o for o in session.run_iteration().orders if o.client_order_id != cid]
        assert sent == []
    finally:
        session.broker.close()


def _recorded(session: Any, cid: str, at_least: float) -> float:
    """The quantity recorded as filled for ``cid`` once it reaches ``at_least``."""

    def reached() -> float | None:
        session.sync_orders()
        got = filled_by_order().get(cid, 0.0)
        return got if got >= at_least else None

    wait_until(reached, what=f"{at_least:g} of {cid} recorded as filled")
    return filled_by_order()[cid]


def test_a_stale_read_at_the_next_start_does_not_undo_a_recorded_fill(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The desk recorded 5 of 10 filled (from the stream) and died; the rest filled. At the next
    start Alpaca's REST answered the order as it first did (pending_new, nothing filled): the
    row went back to pending_new with 0 filled, the order was followed from 0, and its whole
    10 were recorded on top of the 5."""
    db = tmp_path / "s.db"
    sandbox.admin.set_faults(partial_rate=1)
    first = alpaca_session(sandbox, db)
    cid = working_spy_limit(first, sandbox)
    sandbox.admin.step(shock={"SPY": -5.0})  # 5 of 10 fill
    settle(sandbox, first)
    assert _recorded(first, cid, 5) == 5
    first.broker.close()  # the process dies
    simulate_death(first)
    sandbox.admin.step()  # the other 5 fill
    sandbox.admin.set_faults(stale_rest=1)  # a read answers the previous answer (the POST's)
    second = alpaca_session(sandbox, db)
    try:
        sandbox.admin.step()
        second.run_iteration()
        settle(sandbox, second)
        assert _recorded(second, cid, 10) == 10  # recorded once
        row = LiveOrder.get(LiveOrder.client_order_id == cid)
        assert (row.status, row.filled_qty) == ("filled", 10)
    finally:
        second.broker.close()


def test_a_fill_for_an_order_this_session_never_sent_halts_trading(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    session = alpaca_session(sandbox, tmp_path / "n.db")
    try:
        cid = working_spy_limit(session, sandbox)
        raw = trading.get_order_by_client_id(cid)
        never = f"tt-{session.audit.session.key}-999-SPY-r"  # this session's id, never sent
        view = raw.model_copy(
            update={
                "client_order_id": never,
                "filled_qty": "10",
                "status": "filled",
                "filled_avg_price": raw.limit_price,
            }
        )
        session.broker.feed.events.put(("fill", view, None))
        sandbox.admin.step()
        report = session.run_iteration()
        [halt] = [e for e in report.risk_events if e.event_type == BROKER_CONTRADICTION]
        assert f"10 SPY filled for order {never}, which this session never sent" in halt.detail
        assert session.risk.state.halted
    finally:
        session.broker.close()


def test_fills_of_a_big_order_whose_totals_agree_to_six_digits_are_both_kept(
    tmp_path: Path,
) -> None:
    """Fills are keyed by their order and its cumulative quantity, so a view seen twice records
    nothing twice. The quantity was keyed to six significant digits: 1,000,000 and then
    1,000,004 filled of one order (a penny stock) both read ``1e+06``, and the second fill,
    4 shares, was dropped from the audit trail as a repeat. Both are kept now; a repeat is
    still recorded once."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from tests.conftest import make_session
    from tui_trader.core.orders import Order, fill_increment

    session = make_session(tmp_path / "big.db", commit_before_send=True)
    now = datetime.now(UTC)
    request = OrderRequest("SPY", Side.BUY, 2_000_000, "tt-big-1-SPY-m")
    session.audit.order_pending(request, 1, now)
    sent = replace(
        Order.from_request(request, OrderStatus.PARTIALLY_FILLED, ""), broker_order_id="b-1"
    )
    first = fill_increment(replace(sent, filled_qty=1_000_000, filled_avg_price=0.5), 0, 0, now)
    view = replace(sent, filled_qty=1_000_004, filled_avg_price=0.5)
    second = fill_increment(view, 1_000_000, 500_000, now)
    assert first is not None and second is not None
    assert session._record_fill(first) and session._record_fill(second)
    again = fill_increment(view, 1_000_000, 500_000, now)  # the same view, replayed
    assert again is not None and not session._record_fill(again)
    assert filled_by_order() == {"tt-big-1-SPY-m": 1_000_004}
