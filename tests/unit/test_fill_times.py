"""Which time a fill from Alpaca is recorded at: the broker's for it, never blindly.

A stream fill event carries the execution's time; a REST view the order's ``filled_at`` (filled)
or ``updated_at``. A time in the future beyond a few seconds, or before the order's submission,
is clamped and said. The same fill seen twice (stream, then a poll with other times) is one.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.unit.alpaca_raw import offline_broker, raw_order
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.brokers.alpaca_orders import to_domain_order
from tui_trader.brokers.alpaca_stream import TradeUpdateFeed
from tui_trader.core.orders import (
    FUTURE_TOLERANCE,
    Fill,
    Order,
    OrderStatus,
    OrderType,
    Side,
    fill_increment,
)
from tui_trader.engine.settlement import Unsettled

SUBMITTED = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
"""When the order reached the broker (``raw_order``'s ``submitted_at``)."""
EXECUTED = SUBMITTED + timedelta(seconds=30)
NOW = SUBMITTED + timedelta(hours=1)
"""When this machine learns of the fill: an hour later (the stream was down)."""
CID = "tt-k-3-SPY-r"


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _view(status: str, filled: str, **times: datetime) -> Order:
    """Our view of Alpaca's order for 100 SPY, ``filled`` of it at 400, with these times."""
    raw = raw_order(
        CID,
        "market",
        status,
        filled,
        filled_avg_price="400",
        **{name: _stamp(when) for name, when in times.items()},
    )
    return to_domain_order(raw)


def _fill(view: Order, event_time: datetime | None = None, now: datetime = NOW) -> Fill:
    fill = fill_increment(view, 0.0, 0.0, now, event_time=event_time)
    assert fill is not None
    return fill


def test_a_complete_fill_read_by_rest_is_stamped_at_its_filled_at() -> None:
    view = _view("filled", "100", filled_at=EXECUTED, updated_at=EXECUTED + timedelta(seconds=5))
    fill = _fill(view)
    assert (fill.timestamp, fill.time_note) == (EXECUTED, "")


def test_a_partial_fill_read_by_rest_is_stamped_at_the_orders_last_change() -> None:
    fill = _fill(_view("partially_filled", "40", updated_at=EXECUTED))
    assert (fill.timestamp, fill.qty, fill.time_note) == (EXECUTED, 40.0, "")


def test_a_fill_the_broker_gives_no_time_for_is_stamped_now() -> None:
    view = Order(
        CID,
        "SPY",
        Side.SELL,
        100,
        OrderType.MARKET,
        OrderStatus.FILLED,
        filled_qty=100.0,
        filled_avg_price=400.0,
        broker_order_id="b-1",
    )
    assert _fill(view).timestamp == NOW


def test_a_time_in_the_future_is_clamped_to_now_and_said() -> None:
    ahead = NOW + timedelta(minutes=10)
    fill = _fill(_view("filled", "100", filled_at=ahead, updated_at=ahead))
    assert fill.timestamp == NOW
    assert "600 s ahead of this machine's clock" in fill.time_note
    assert CID in fill.time_note


def test_a_time_a_little_ahead_is_the_brokers_own() -> None:
    """Two clocks differ by a little: within the tolerance the broker's time stands."""
    ahead = NOW + FUTURE_TOLERANCE / 2
    fill = _fill(_view("filled", "100", filled_at=ahead, updated_at=ahead))
    assert (fill.timestamp, fill.time_note) == (ahead, "")


def test_a_time_before_the_orders_submission_is_clamped_to_it_and_said() -> None:
    early = SUBMITTED - timedelta(minutes=5)
    fill = _fill(_view("filled", "100", filled_at=early, updated_at=early))
    assert fill.timestamp == SUBMITTED
    assert "before the order's submission" in fill.time_note


# -- the stream ------------------------------------------------------------------------------


def _broker() -> AlpacaBroker:
    """An Alpaca broker (nothing listens on its port: no request may go out) following our
    order for 100 SPY, as adopted at start-up, with a stream feed that is up."""
    broker = offline_broker()
    broker.adopt(_view("new", "0"))
    feed = TradeUpdateFeed(broker.endpoint, paper=True)  # not started: the test hands it updates
    feed._on_connect()
    broker.feed = feed
    broker._synced_connects = feed.connects  # up since the last sync: nothing to poll
    return broker


def _deliver(broker: AlpacaBroker, event: str, raw: Any, timestamp: datetime) -> None:
    """What alpaca-py's stream hands the feed for one trade update."""
    from alpaca.trading.models import TradeUpdate

    update = TradeUpdate(event=event, order=raw, timestamp=timestamp, price=400.0, qty=100.0)
    assert broker.feed is not None
    asyncio.run(broker.feed._on_update(update))


def _filled_raw(**times: datetime) -> Any:
    return raw_order(
        CID,
        "market",
        "filled",
        "100",
        filled_avg_price="400",
        **{name: _stamp(when) for name, when in times.items()},
    )


def test_a_stream_fill_is_stamped_at_the_events_timestamp() -> None:
    """The execution's time (the event's), not when the desk drained it, nor the order's
    later ``updated_at``; the same fill polled again (other times) is not a second fill."""
    broker = _broker()
    executed = datetime.now(UTC) - timedelta(minutes=3)  # the stream's news arrives late
    later = executed + timedelta(seconds=40)
    raw = _filled_raw(filled_at=later, updated_at=later)
    _deliver(broker, "fill", raw, executed)
    [update] = broker.drain_updates()
    assert update.fill is not None
    assert update.fill.timestamp == executed, "the execution's time"
    assert update.fill.time_note == ""
    again = to_domain_order(_filled_raw(filled_at=later, updated_at=later + timedelta(hours=1)))
    broker._apply(again, "poll")
    assert broker.drain_updates() == [], "the same cumulative fill is one fill"


def test_a_stream_fill_stamped_in_the_future_is_clamped_and_said() -> None:
    broker = _broker()
    before = datetime.now(UTC)
    ahead = before + timedelta(hours=2)
    _deliver(broker, "fill", _filled_raw(filled_at=ahead, updated_at=ahead), ahead)
    [update] = broker.drain_updates()
    fill = update.fill
    assert fill is not None
    assert before <= fill.timestamp <= datetime.now(UTC), "clamped to this machine's time"
    assert "ahead of this machine's clock" in fill.time_note


@pytest.mark.parametrize("event", ["canceled", "expired"])
def test_a_fill_a_later_event_brings_takes_the_orders_own_time(event: str) -> None:
    """A cancel's event carrying a partial fill missed before: its timestamp is the cancel's,
    not the execution's; the order's last change stands for it."""
    broker = _broker()
    executed = datetime.now(UTC) - timedelta(minutes=2)
    raw = raw_order(CID, "market", event, "40", filled_avg_price="400", updated_at=_stamp(executed))
    _deliver(broker, event, raw, executed + timedelta(seconds=50))
    [update] = broker.drain_updates()
    assert update.fill is not None and update.fill.timestamp == executed


class _Knows:
    """A broker that now knows the order in doubt: filled 30 s after it was submitted."""

    def get_order(self, client_order_id: str) -> Order | None:
        return _view("filled", "100", filled_at=EXECUTED, updated_at=EXECUTED)

    def adopt(self, order: Order) -> None:
        pass


def test_an_order_in_doubt_settled_later_is_stamped_at_its_fill_time() -> None:
    """Unknown for a while (the answer was lost), found filled at a look-up an hour later: its
    fill happened at the broker's ``filled_at``, not at the look-up."""
    unsettled = Unsettled()
    unsettled.add(_view("new", "0"), SUBMITTED)
    settled = unsettled.check(_Knows(), NOW)  # type: ignore[arg-type]
    [fill] = settled.fills
    assert fill.timestamp == EXECUTED
