"""A fill is recorded at the broker's time for it, not at the time the desk heard of it.

The sandbox runs on a clock the test moves (an hour behind this machine's, then minutes on):
its orders' times are the broker's. A protective stop that fills while no session runs (the
process killed, or stopped normally), learned by the next start minutes of broker time later,
keeps the time the sandbox filled it, in the fill, in the round trip it closes, and in the
report by day; the time the desk learned of it stays the row's ``timestamp``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import (
    buy_and_protect,
    client,
    open_stops,
    spy_held,
)
from tui_trader.engine.records import FILL_TIME
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import running_sandbox, wait_until
from tui_trader.store.db import from_db_time
from tui_trader.store.models import LiveFill, LiveOrder, LiveTrade, RiskEventRow

BEHIND = timedelta(hours=1)
"""How far the sandbox's clock starts behind this machine's: a fill learned late."""
LATER = timedelta(minutes=20)
"""Broker time that passes between the stop's fill and the restart that learns of it."""
CLOSE = timedelta(seconds=1)
"""The sandbox's times go through RFC 3339 with microseconds: equal to well under this."""


class BrokerClock:
    """The sandbox's wall clock: this machine's, ``offset`` away (moved by the test)."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.mark.parametrize("ending", ["killed", "stopped"])
def test_a_stop_filled_while_no_session_ran_is_recorded_at_the_brokers_fill_time(
    tmp_path: Path, ending: str
) -> None:
    db = tmp_path / "times.db"
    clock = BrokerClock(-BEHIND)
    with running_sandbox(now=clock) as sb:
        first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        [stop] = open_stops(sb)
        cid = str(stop.client_order_id)
        if ending == "killed":
            first.broker.close()  # kill -9: no finish, the stop stays working
            simulate_death(first)
        else:
            first.finish("stopped")  # a normal stop leaves the broker's stop working too
            first.broker.close()
        assert len(open_stops(sb)) == 1
        sb.admin.step(shock={"SPY": -10.0})
        wait_until(lambda: spy_held(sb) == 0, what="the stop to fill at the sandbox")
        filled_at = client(sb).get_order_by_client_id(cid).filled_at
        assert filled_at is not None
        clock.offset += LATER  # the restart comes minutes of broker time after the fill
        started = datetime.now(UTC)
        second = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        second.broker.close()

    order = LiveOrder.get(LiveOrder.client_order_id == cid)
    assert order.status == "filled"
    [fill] = LiveFill.select().where(LiveFill.order == order)
    when = from_db_time(fill.market_time)
    assert abs(when - filled_at) < CLOSE, f"recorded at {when}, the broker filled at {filled_at}"
    assert from_db_time(fill.timestamp) >= started - CLOSE, "learned at the restart"
    [trade] = LiveTrade.select().where(LiveTrade.symbol == "SPY")
    exit_time = from_db_time(trade.market_time)
    assert abs(exit_time - filled_at) < CLOSE, "the round trip ends when the stop filled"
    assert from_db_time(trade.entry_time) <= exit_time, "and never before it began"
    assert not RiskEventRow.select().where(RiskEventRow.event_type == FILL_TIME).exists()


def test_a_broker_clock_an_hour_ahead_is_not_believed_and_the_audit_trail_says_so(
    tmp_path: Path,
) -> None:
    """The sandbox's clock an hour fast: its fills are recorded at this machine's time, never
    in the future, and the first one's ``fill_time`` event names the broker's time (once a
    session: every later fill is the same; said for each, a sandbox sped up wrote an event per
    fill); trading goes on."""
    with running_sandbox(now=BrokerClock(timedelta(hours=1))) as sb:
        session = buy_and_protect(sb, tmp_path / "ahead.db", protected=open_stops, shock=1.0)
        for _ in range(3):  # a fall through the stop: a second fill, stamped ahead too
            sb.admin.step(shock={"SPY": -4.0})
        session.run_iteration()
        settle(sb, session)
        session.broker.close()
        halted = session.risk.state.halted
    fills = list(LiveFill.select())
    assert fills
    for fill in fills:
        assert from_db_time(fill.market_time) <= from_db_time(fill.timestamp) + CLOSE
    said = list(RiskEventRow.select().where(RiskEventRow.event_type == FILL_TIME))
    assert len(said) == 1 < len(fills), "said once a session, not once a fill"
    assert "ahead of this machine's clock" in said[0].detail
    assert "not said again this session" in said[0].detail
    assert not halted
