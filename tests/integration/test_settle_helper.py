"""``settle`` (the Alpaca tests' wait for the database to agree with the sandbox) waits for the
fills themselves, not only for equal counts of open orders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import (
    alpaca_session,
    filled_by_order,
    settle,
    working_spy_limit,
)
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder


def _hold_fills(session: Any) -> tuple[Any, list[Any]]:
    """The session's stream keeps its fill events to the test: the queue's own ``put`` (to
    deliver them later) and the list they are held in."""
    events = session.broker.feed.events
    put, held = events.put, []

    def hold(item: Any, *args: Any, **kwargs: Any) -> None:
        if item[0] in ("fill", "partial_fill"):
            held.append(item)
        else:
            put(item, *args, **kwargs)

    events.put = hold
    return put, held


def test_settle_waits_for_a_partial_fill_the_stream_delivers_late(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """5 of 10 fill: the order is open at the sandbox and in the database before and after the
    fill's news, so equal open counts said nothing. The news is held back for two of settle's
    polls (a loaded machine delays the stream's thread); settle returns with it recorded."""
    sandbox.admin.set_faults(partial_rate=1)
    session = alpaca_session(sandbox, tmp_path / "s.db")
    put, held = _hold_fills(session)
    sync, polls = session.sync_orders, []

    def late_sync() -> int:
        polls.append(1)
        if len(polls) == 3:  # the stream's thread catches up
            for item in held:
                put(item)
        return sync()

    try:
        cid = working_spy_limit(session, sandbox)
        sandbox.admin.step(shock={"SPY": -5.0})  # the bar crosses the limit: 5 of 10 fill
        wait_until(lambda: held, what="the partial fill sent on the stream")
        session.sync_orders = late_sync  # type: ignore[method-assign]
        settle(sandbox, session)
        assert filled_by_order().get(cid, 0.0) == 5
        row = LiveOrder.get(LiveOrder.client_order_id == cid)
        assert (row.status, row.filled_qty) == ("partially_filled", 5)
    finally:
        session.broker.close()


def test_settle_says_which_order_the_database_has_wrong(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A fill that never reaches the session: settle gives up at its deadline and names the
    order, what the database says of it and what the sandbox does."""
    sandbox.admin.set_faults(partial_rate=1)
    session = alpaca_session(sandbox, tmp_path / "s.db")
    _, held = _hold_fills(session)
    try:
        cid = working_spy_limit(session, sandbox)
        sandbox.admin.step(shock={"SPY": -5.0})
        wait_until(lambda: held, what="the partial fill sent on the stream")
        with pytest.raises(AssertionError) as failure:
            settle(sandbox, session, timeout=0.5)
        assert f"{cid}: new with 0 filled and 0 in fills" in str(failure.value)
        assert "the sandbox: open with 5 filled" in str(failure.value)
    finally:
        session.broker.close()
